using System.Globalization;
using Medic.Contracts;
using Medic.Contracts.Agent;

namespace Medic.Server.Web.Pages.Settings;

/// <summary>
/// The console's "add a monitor" form as typed: the kind, where it applies (one server, or every
/// server with some tags), the kind's own fields and the timing every kind shares. Read into the
/// API's <see cref="CreateMonitorRequest"/>, or into answers per field for what the API cannot be
/// sent at all (a number or a duration that is not one); everything else is the API's to check, and
/// its answers are shown under the same fields.
/// </summary>
internal sealed class MonitorDraft
{
    /// <summary>Every kind, in the order the form offers them, as the API spells them.</summary>
    public static readonly IReadOnlyList<MonitorKind> Kinds = Enum.GetValues<MonitorKind>();

    public string Name { get; set; } = "";
    public MonitorKind Kind { get; set; } = MonitorKind.Process;

    /// <summary>True: every server with all of <see cref="Tags"/>; false: the one <see cref="Server"/>.</summary>
    public bool ByTags { get; set; }
    public string Server { get; set; } = "";
    public string Tags { get; set; } = "";

    // process
    public string Unit { get; set; } = "";
    public string Match { get; set; } = "";
    public string Pidfile { get; set; } = "";
    /// <summary>One argument per line, so nothing needs quoting.</summary>
    public string Start { get; set; } = "";
    public bool Heal { get; set; }
    public string HealthHttp { get; set; } = "";

    // http
    public string Url { get; set; } = "";
    public string ExpectStatus { get; set; } = "";
    public string BodyRegex { get; set; } = "";

    // tcp, tls
    public string Host { get; set; } = "";
    public string Port { get; set; } = "";
    public string MinDays { get; set; } = "";

    // disk, memory, cpu, load
    public string Mount { get; set; } = "";
    public string MaxPercent { get; set; } = "";
    public string MaxInodesPercent { get; set; } = "";
    public string MaxLoad { get; set; } = "";

    // log, file_age
    public string Path { get; set; } = "";
    public string Pattern { get; set; } = "";
    public string Count { get; set; } = "";
    public string Window { get; set; } = "";
    public string MaxAge { get; set; } = "";

    // command
    /// <summary>One argument per line.</summary>
    public string Command { get; set; } = "";

    // every kind
    public string Interval { get; set; } = "";
    public string For { get; set; } = "";
    public MonitorSeverity Severity { get; set; } = MonitorSeverity.Critical;

    /// <summary>The request the API takes, or null with the answer for each field that cannot be read.</summary>
    public (CreateMonitorRequest? Request, IReadOnlyDictionary<string, string[]> Errors) ToRequest()
    {
        var errors = new Dictionary<string, string[]>(StringComparer.Ordinal);
        int? Int(string text, string field)
        {
            if (Blank(text) is not { } t) return null;
            if (int.TryParse(t, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var n)) return n;
            errors[field] = [$"'{t}' is not a whole number"];
            return null;
        }

        double? Number(string text, string field)
        {
            if (Blank(text) is not { } t) return null;
            if (double.TryParse(t, NumberStyles.Float, CultureInfo.InvariantCulture, out var n) && double.IsFinite(n)) return n;
            errors[field] = [$"'{t}' is not a number"];
            return null;
        }

        double? Seconds(string text, string field)
        {
            if (Blank(text) is not { } t) return null;
            if (Duration.TryParse(t, out var d)) return d.TotalSeconds;
            errors[field] = [$"'{t}' is not a duration; {Duration.Hint}"];
            return null;
        }

        Dictionary<string, string>? tags = null;
        if (ByTags)
        {
            tags = new Dictionary<string, string>(StringComparer.Ordinal);
            foreach (var pair in Tags.Split([',', ' ', '\t', '\n', '\r'], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
            {
                var eq = pair.IndexOf('=', StringComparison.Ordinal);
                if (eq <= 0)
                {
                    errors["tags"] = [$"'{pair}' is not key=value: write tags like role=web, env=prod"];
                    break;
                }

                tags[pair[..eq]] = pair[(eq + 1)..];
            }
        }

        var name = Name.Trim();
        var k = Kind;
        var definition = new MonitorDefinition
        {
            Name = name,
            Kind = k,
            Unit = Only(k == MonitorKind.Process, Unit),
            Match = Only(k == MonitorKind.Process, Match),
            Pidfile = Only(k == MonitorKind.Process, Pidfile),
            Start = k == MonitorKind.Process ? Lines(Start) : null,
            Heal = k == MonitorKind.Process && Heal ? new HealDefinition() : null,
            Health = Only(k == MonitorKind.Process, HealthHttp) is { } health ? new HealthCheckDefinition { Http = health } : null,
            Url = Only(k == MonitorKind.Http, Url),
            ExpectStatus = k == MonitorKind.Http ? Int(ExpectStatus, "definition.expect_status") : null,
            BodyRegex = Only(k == MonitorKind.Http, BodyRegex),
            Host = Only(k is MonitorKind.Tcp or MonitorKind.Tls, Host),
            Port = k is MonitorKind.Tcp or MonitorKind.Tls ? Int(Port, "definition.port") : null,
            MinDays = k == MonitorKind.Tls ? Int(MinDays, "definition.min_days") : null,
            Mount = Only(k == MonitorKind.Disk, Mount),
            MaxPercent = k is MonitorKind.Disk or MonitorKind.Memory or MonitorKind.Cpu ? Number(MaxPercent, "definition.max_percent") : null,
            MaxInodesPercent = k == MonitorKind.Disk ? Number(MaxInodesPercent, "definition.max_inodes_percent") : null,
            MaxLoad = k == MonitorKind.Load ? Number(MaxLoad, "definition.max_load") : null,
            Path = Only(k is MonitorKind.Log or MonitorKind.FileAge, Path),
            Pattern = Only(k == MonitorKind.Log, Pattern),
            Count = k == MonitorKind.Log ? Int(Count, "definition.count") : null,
            WindowSeconds = k == MonitorKind.Log ? Seconds(Window, "definition.window_seconds") : null,
            MaxAgeSeconds = k == MonitorKind.FileAge ? Seconds(MaxAge, "definition.max_age_seconds") : null,
            Command = k == MonitorKind.Command ? Lines(Command) : null,
            IntervalSeconds = Seconds(Interval, "definition.interval_seconds"),
            ForSeconds = Seconds(For, "definition.for_seconds") ?? 0,
            Severity = Severity,
        };
        if (errors.Count > 0) return (null, errors);
        return (new CreateMonitorRequest(name, definition, ByTags ? null : Blank(Server), tags is { Count: > 0 } ? tags : null), errors);
    }

    private static string? Only(bool used, string text) => used ? Blank(text) : null;

    private static List<string>? Lines(string text) =>
        text.Split('\n', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries) is { Length: > 0 } lines ? [.. lines] : null;

    private static string? Blank(string text) => string.IsNullOrWhiteSpace(text) ? null : text.Trim();
}
