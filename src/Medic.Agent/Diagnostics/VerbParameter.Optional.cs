using System.Globalization;

namespace Medic.Agent.Diagnostics;

/// <summary>Arguments a verb takes only when given: the empty default means "not given".</summary>
internal sealed partial class VerbParameter
{
    /// <summary>Printable text of at most <paramref name="maxLength"/> characters, or empty.</summary>
    public static VerbParameter OptionalText(string name, string description, int maxLength) =>
        new(name, description + " (optional)", "", (value, _) =>
            value.Length <= maxLength && !value.Any(char.IsControl)
                ? null
                : $"'{Shorten(value)}' is not printable text of at most {maxLength} characters");

    /// <summary>A whole number from <paramref name="min"/> to <paramref name="max"/>, or empty.</summary>
    public static VerbParameter OptionalInteger(string name, string description, int min, int max) =>
        new(name, $"{description} ({min}-{max}, optional)", "", (value, _) =>
            value.Length == 0 || (int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var number) && number >= min && number <= max)
                ? null
                : $"'{Shorten(value)}' is not a whole number from {min} to {max}");
}
