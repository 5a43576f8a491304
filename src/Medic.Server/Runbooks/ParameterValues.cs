using System.Globalization;
using System.Text.RegularExpressions;
using Medic.Contracts;

namespace Medic.Server.Runbooks;

/// <summary>Checks the parameter values of a run against the runbook's schema, before anything runs.</summary>
internal static class ParameterValues
{
    public const int MaxLength = 4096;

    /// <summary>
    /// The values to run with (given ones, then defaults), or the problems, one per parameter:
    /// unknown names, missing required ones, and values that fail their type, range or pattern.
    /// </summary>
    public static (IReadOnlyDictionary<string, string> Values, IReadOnlyDictionary<string, string> Errors) Bind(Runbook runbook, IReadOnlyDictionary<string, string>? given)
    {
        given ??= new Dictionary<string, string>();
        var values = new Dictionary<string, string>(StringComparer.Ordinal);
        var errors = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var name in given.Keys.Where(k => runbook.Parameter(k) is null))
        {
            errors[name] = runbook.Parameters.Count == 0
                ? $"runbook {runbook.Name} takes no parameters"
                : $"runbook {runbook.Name} has no parameter '{name}'; it takes: {string.Join(", ", runbook.Parameters.Select(p => p.Name))}";
        }

        foreach (var p in runbook.Parameters)
        {
            if (given.TryGetValue(p.Name, out var value))
            {
                if (Check(p, value) is { } problem) errors[p.Name] = problem;
                else values[p.Name] = Normalize(p, value);
            }
            else if (p.Default is not null)
            {
                values[p.Name] = p.Default;
            }
            else if (p.Required)
            {
                errors[p.Name] = "is required" + (p.Description is null ? "" : $": {p.Description}");
            }
            else
            {
                values[p.Name] = "";
            }
        }

        return (values, errors);
    }

    /// <summary>Why <paramref name="value"/> is not a valid value of <paramref name="p"/>, or null when it is.</summary>
    public static string? Check(RunbookParameter p, string value)
    {
        if (value.Contains('\0', StringComparison.Ordinal)) return "contains a NUL character";
        if (value.Length > MaxLength) return $"is {value.Length} characters long; the limit is {MaxLength}";
        switch (p.Type)
        {
            case ParameterType.Int:
                if (!long.TryParse(value, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var n)) return $"'{Clip(value)}' is not a whole number";
                if (p.Min is { } min && n < min) return $"{n} is below the minimum {min}";
                if (p.Max is { } max && n > max) return $"{n} is above the maximum {max}";
                return null;
            case ParameterType.Bool:
                return value is "true" or "false" ? null : $"'{Clip(value)}' is not true or false";
            case ParameterType.Enum:
                return p.Values.Contains(value) ? null : $"'{Clip(value)}' is not one of: {string.Join(", ", p.Values)}";
            default:
                if (p.Min is { } minLength && value.Length < minLength) return $"is {value.Length} characters long; the minimum is {minLength}";
                if (p.Max is { } maxLength && value.Length > maxLength) return $"is {value.Length} characters long; the maximum is {maxLength}";
                if (p.Pattern is not null && !FullMatch(p.Pattern, value)) return $"'{Clip(value)}' does not match the pattern {p.Pattern}";
                return null;
        }
    }

    /// <summary>Whether the whole of <paramref name="value"/> matches <paramref name="pattern"/> (bounded in time).</summary>
    public static bool FullMatch(string pattern, string value)
    {
        try
        {
            return Regex.IsMatch(value, $"^(?:{pattern})$", RegexOptions.CultureInvariant, TimeSpan.FromSeconds(1));
        }
        catch (RegexMatchTimeoutException)
        {
            return false;
        }
    }

    private static string Normalize(RunbookParameter p, string value) =>
        p.Type == ParameterType.Int ? long.Parse(value, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture).ToString(CultureInfo.InvariantCulture) : value;

    private static string Clip(string value) => Texts.Truncate(value, 80);
}
