using System.Globalization;
using System.Net;
using System.Text.RegularExpressions;
using Medic.Contracts;

namespace Medic.Agent.Diagnostics;

/// <summary>
/// One argument a verb accepts: its name, what it means, its default, and the check a value must
/// pass. Values arrive as strings from the control plane; anything that is not exactly the expected
/// shape is refused before a verb runs, so nothing unchecked ever reaches an argv.
/// </summary>
internal sealed partial class VerbParameter
{
    private readonly Func<string, DiagnosticOptions, string?> _check;

    private VerbParameter(string name, string description, string? defaultValue, Func<string, DiagnosticOptions, string?> check)
    {
        Name = name;
        Description = description;
        Default = defaultValue;
        _check = check;
    }

    public string Name { get; }

    public string Description { get; }

    /// <summary>The value used when the argument is absent; a parameter without one is required.</summary>
    public string? Default { get; }

    public bool Required => Default is null;

    /// <summary>Why <paramref name="value"/> is not acceptable, or null when it is.</summary>
    public string? Check(string value, DiagnosticOptions options) => _check(value, options);

    public static VerbParameter Unit(string name = "unit") => new(name, "a systemd unit name, e.g. nginx.service", null, (value, _) =>
        value.Length <= 256 && UnitPattern().IsMatch(value) && !value.StartsWith('-')
            ? null
            : $"'{value}' is not a unit name (letters, digits and @ . _ : - only, not starting with -)");

    public static VerbParameter Integer(string name, string description, int min, int max, int defaultValue) =>
        new(name, $"{description} ({min}-{max}, default {defaultValue})", defaultValue.ToString(CultureInfo.InvariantCulture), (value, _) =>
            int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var number) && number >= min && number <= max
                ? null
                : $"'{value}' is not a whole number from {min} to {max}");

    public static VerbParameter Port(string name = "port", int? defaultValue = null) =>
        new(name, "a TCP port (1-65535)" + (defaultValue is { } d ? $", default {d}" : ""), defaultValue?.ToString(CultureInfo.InvariantCulture), (value, _) =>
            int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var port) && port is >= 1 and <= 65535
                ? null
                : $"'{value}' is not a port (a whole number from 1 to 65535)");

    /// <summary>An optional program name as /proc/PID/comm shows it; empty (the default) for none.</summary>
    public static VerbParameter Program(string name, string description) => new(name, description, "", (value, _) =>
        value.Length == 0 || ProgramPattern().IsMatch(value)
            ? null
            : $"'{Shorten(value)}' is not a program name (letters, digits and . _ + - only, up to 64)");

    /// <summary>A certificate to inspect: an absolute file path, host:port, or a certbot certificate name.</summary>
    public static VerbParameter CertificateTarget(string name = "target") =>
        new(name, "a certificate file (absolute path), a host:port serving one, or a certbot certificate name", null, (value, options) =>
        {
            if (value.StartsWith('/'))
            {
                return CheckAbsolutePath(value);
            }
            var colon = value.LastIndexOf(':');
            if (colon > 0)
            {
                return IsHostName(value[..colon].Trim('[', ']')) || IPAddress.TryParse(value[..colon].Trim('[', ']'), out IPAddress? _)
                    ? int.TryParse(value[(colon + 1)..], NumberStyles.None, CultureInfo.InvariantCulture, out var port) && port is >= 1 and <= 65535 ? null : $"'{Shorten(value)}' does not end in a port (1-65535)"
                    : $"'{Shorten(value)}' is not host:port";
            }
            return CertNamePattern().IsMatch(value) ? null : $"'{Shorten(value)}' is not a path, host:port or certbot certificate name";
        });

    public static VerbParameter Seconds(int max, int defaultValue) =>
        Integer("timeout", "seconds to wait", 1, max, defaultValue);

    public static VerbParameter Host(string name = "host") => new(name, "a host name or IP address", null, (value, _) =>
        IsHostName(value) || (IPAddress.TryParse(value, out IPAddress? address) && address is not null)
            ? null
            : $"'{value}' is not a host name or IP address");

    public static VerbParameter HttpUrl(string name = "url") => new(name, "an http:// or https:// URL", null, (value, _) =>
    {
        if (value.Length > 2048 || !Uri.TryCreate(value, UriKind.Absolute, out var uri) || value.Any(char.IsControl))
        {
            return $"'{Shorten(value)}' is not an absolute URL";
        }
        if (uri.Scheme is not ("http" or "https"))
        {
            return $"only http and https URLs can be probed, not '{uri.Scheme}'";
        }
        return uri.UserInfo.Length > 0 ? "credentials in the URL are not accepted" : null;
    });

    /// <summary>An absolute path in canonical form: no '..' or '.' segments, no control characters.</summary>
    public static VerbParameter AbsolutePath(string name, string description, string? defaultValue = null) =>
        new(name, description, defaultValue, (value, _) => CheckAbsolutePath(value));

    /// <summary>An absolute path that must also lie under one of <see cref="DiagnosticOptions.FileTailRoots"/>.</summary>
    public static VerbParameter AllowedFile(string name = "path") =>
        new(name, "an absolute path to a file under the allowed directories (by default /var/log and /tmp)", null, (value, options) =>
            CheckAbsolutePath(value) ?? (options.AllowsFile(value)
                ? null
                : $"'{value}' is outside the directories file-tail may read ({string.Join(", ", options.FileTailRoots)})"));

    private static string? CheckAbsolutePath(string value)
    {
        if (value.Length is 0 or > 4096 || value[0] != '/' || value.Any(char.IsControl))
        {
            return $"'{Shorten(value)}' is not an absolute path";
        }
        var segments = value.Split('/');
        return segments.Any(s => s is "." or "..") ? $"'{value}' must not contain '.' or '..' segments" : null;
    }

    internal static bool IsHostName(string value) => value.Length <= 253 && HostPattern().IsMatch(value);

    private static string Shorten(string value) => Texts.Truncate(value, 80);

    [GeneratedRegex(@"^[A-Za-z0-9_][A-Za-z0-9._+-]{0,63}\z")]
    private static partial Regex ProgramPattern();

    [GeneratedRegex(@"^[A-Za-z0-9][A-Za-z0-9._-]{0,252}\z")]
    private static partial Regex CertNamePattern();

    [GeneratedRegex(@"^[A-Za-z0-9@._:-]+\z")]
    private static partial Regex UnitPattern();

    // RFC 1123 labels; underscores too, since internal DNS names carry them.
    [GeneratedRegex(@"^[A-Za-z0-9_](?:[A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?(?:\.[A-Za-z0-9_](?:[A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?)*\.?\z")]
    private static partial Regex HostPattern();
}

/// <summary>A verb's arguments after validation, with defaults filled in.</summary>
internal sealed class VerbArguments(IReadOnlyDictionary<string, string> values)
{
    public string Text(string name) => values[name];

    public int Integer(string name) => int.Parse(values[name], NumberStyles.None, CultureInfo.InvariantCulture);
}
