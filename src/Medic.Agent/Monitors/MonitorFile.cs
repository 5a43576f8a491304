using System.Globalization;
using System.Text.RegularExpressions;
using Medic.Contracts.Agent;

namespace Medic.Agent.Monitors;

/// <summary>
/// Reads monitor definitions from a monitors file (a top-level <c>monitors:</c> list, see
/// docs/monitors.md) and checks them the same way whether they came from YAML or from the control
/// plane's JSON: a monitor that would silently mean something else is refused at load, naming it.
/// </summary>
internal static class MonitorFile
{
    public const string DefaultPath = "/etc/medic/monitors.yaml";
    private const string Docs = "docs/monitors.md";

    private static readonly string[] Common = ["name", "kind", "interval", "for", "recover_after", "severity", "labels", "timeout"];

    private static readonly Dictionary<MonitorKind, string[]> KindKeys = new()
    {
        [MonitorKind.Process] = ["unit", "match", "pidfile", "start", "working_directory", "health", "heal", "limits"],
        [MonitorKind.Http] = ["url", "expect_status", "body_regex"],
        [MonitorKind.Tcp] = ["host", "port"],
        [MonitorKind.Disk] = ["mount", "max_percent", "max_inodes_percent", "recover_below"],
        [MonitorKind.Memory] = ["max_percent", "recover_below"],
        [MonitorKind.Cpu] = ["max_percent", "recover_below"],
        [MonitorKind.Load] = ["max_load", "recover_below"],
        [MonitorKind.Log] = ["path", "pattern", "count", "window"],
        [MonitorKind.Tls] = ["host", "port", "min_days"],
        [MonitorKind.FileAge] = ["path", "max_age"],
        [MonitorKind.Command] = ["command"],
    };

    private static readonly Dictionary<string, MonitorKind> KindNames = new(StringComparer.Ordinal)
    {
        ["process"] = MonitorKind.Process,
        ["http"] = MonitorKind.Http,
        ["tcp"] = MonitorKind.Tcp,
        ["disk"] = MonitorKind.Disk,
        ["memory"] = MonitorKind.Memory,
        ["cpu"] = MonitorKind.Cpu,
        ["load"] = MonitorKind.Load,
        ["log"] = MonitorKind.Log,
        ["tls"] = MonitorKind.Tls,
        ["file_age"] = MonitorKind.FileAge,
        ["command"] = MonitorKind.Command,
    };

    public static IReadOnlyList<MonitorDefinition> Load(string path)
    {
        if (!File.Exists(path))
        {
            throw new AgentException($"{path} does not exist", $"create it (the format is in {Docs}) or pass another file");
        }

        return Parse(File.ReadAllText(path), path);
    }

    public static IReadOnlyList<MonitorDefinition> Parse(string text, string source)
    {
        YamlNode? root;
        try
        {
            root = StrictYaml.Parse(text);
        }
        catch (YamlSyntaxException ex)
        {
            throw YamlFields.Error(source, ex.Line, ex.Message, Docs);
        }

        var fields = new YamlFields(root, source, Docs, "a monitors file");
        var monitors = ParseList(fields.Node("monitors"), source, Docs);
        fields.Done("a monitors file", ["monitors"]);
        return monitors;
    }

    /// <summary>The <c>monitors:</c> list of a monitors or watch file.</summary>
    public static IReadOnlyList<MonitorDefinition> ParseList(YamlNode? node, string source, string docs)
    {
        if (node is null) return [];
        if (node is not YamlList list) throw YamlFields.Error(source, node.Line, "'monitors' must be a list ('- name: ...' items)", docs);
        var monitors = new List<MonitorDefinition>();
        foreach (var item in list.Items)
        {
            var monitor = ParseOne(new YamlFields(item, source, docs, "each monitor"), source, docs);
            if (monitors.Any(m => m.Name == monitor.Name))
            {
                throw YamlFields.Error(source, item.Line, $"two monitors are named '{monitor.Name}'", docs);
            }

            monitors.Add(monitor);
        }

        return monitors;
    }

    private static MonitorDefinition ParseOne(YamlFields f, string source, string docs)
    {
        var name = f.RequiredText("name", "name: web");
        var kindText = f.RequiredText("kind", "kind: process");
        if (!KindNames.TryGetValue(kindText, out var kind))
        {
            throw f.Error(f.LineOf("kind"), $"'kind: {kindText}' is not a monitor kind (known: {string.Join(", ", KindNames.Keys)})");
        }

        var definition = new MonitorDefinition
        {
            Name = name,
            Kind = kind,
            IntervalSeconds = f.Seconds("interval", 0.1, 86400),
            ForSeconds = f.Seconds("for", 0, 7 * 86400) ?? 0,
            RecoverAfter = f.Integer("recover_after", 1, 1000) ?? 1,
            Severity = f.Text("severity") switch
            {
                null or "critical" => MonitorSeverity.Critical,
                "warning" => MonitorSeverity.Warning,
                "info" => MonitorSeverity.Info,
                var other => throw f.Error(f.LineOf("severity"), $"'severity: {other}' is not critical, warning or info"),
            },
            Labels = f.TextMap("labels"),
            TimeoutSeconds = f.Seconds("timeout", 0.1, 600) ?? 5,
        };

        var keys = KindKeys[kind];
        definition = kind switch
        {
            MonitorKind.Process => definition with
            {
                Unit = f.Text("unit"),
                Match = f.Text("match"),
                Pidfile = f.Text("pidfile"),
                Start = Argv(f, "start"),
                WorkingDirectory = f.Text("working_directory"),
                Health = f.Has("health") ? ParseHealth(new YamlFields(f.Node("health"), source, docs, "'health'")) : null,
                Heal = ParseHeal(f, source, docs),
                Limits = f.Has("limits") ? ParseLimits(new YamlFields(f.Node("limits"), source, docs, "'limits'")) : null,
            },
            MonitorKind.Http => definition with
            {
                Url = f.RequiredText("url", "url: http://127.0.0.1:8080/healthz"),
                ExpectStatus = f.Integer("expect_status", 100, 599),
                BodyRegex = f.Text("body_regex"),
            },
            MonitorKind.Tcp or MonitorKind.Tls => definition with
            {
                Host = f.RequiredText("host", "host: 127.0.0.1"),
                Port = f.Integer("port", 1, 65535) ?? (kind == MonitorKind.Tls ? 443 : throw f.Error(f.Line, "'port' is required (for example port: 5432)")),
                MinDays = kind == MonitorKind.Tls ? f.Integer("min_days", 0, 3650) ?? 14 : null,
            },
            MonitorKind.Disk => definition with
            {
                Mount = f.RequiredText("mount", "mount: /"),
                MaxPercent = f.Number("max_percent", 0, 100),
                MaxInodesPercent = f.Number("max_inodes_percent", 0, 100),
                RecoverBelow = f.Number("recover_below", 0, 100),
            },
            MonitorKind.Memory or MonitorKind.Cpu => definition with
            {
                MaxPercent = f.Number("max_percent", 0, 100) ?? throw f.Error(f.Line, "'max_percent' is required (for example max_percent: 90)"),
                RecoverBelow = f.Number("recover_below", 0, 100),
            },
            MonitorKind.Load => definition with
            {
                MaxLoad = f.Number("max_load", 0, 100_000) ?? throw f.Error(f.Line, "'max_load' is required (for example max_load: 8)"),
                RecoverBelow = f.Number("recover_below", 0, 100_000),
            },
            MonitorKind.Log => definition with
            {
                Path = f.RequiredText("path", "path: /var/log/app.log"),
                Pattern = f.RequiredText("pattern", "pattern: 'ERROR|FATAL'"),
                Count = f.Integer("count", 1, 1_000_000) ?? 1,
                WindowSeconds = f.Seconds("window", 1, 86400) ?? 300,
            },
            MonitorKind.FileAge => definition with
            {
                Path = f.RequiredText("path", "path: /var/backups/db"),
                MaxAgeSeconds = f.Seconds("max_age", 1, 366 * 86400) ?? throw f.Error(f.Line, "'max_age' is required (for example max_age: 26h)"),
            },
            MonitorKind.Command => definition with
            {
                Command = Argv(f, "command") ?? throw f.Error(f.Line, "'command' is required (for example command: [/usr/lib/nagios/plugins/check_users, -w, '5', -c, '10'])"),
            },
            _ => definition,
        };
        f.Done($"a {kindText} monitor", [.. Common, .. keys]);
        if (Validate(definition) is { } problem)
        {
            throw f.Error(f.Line, $"monitor '{name}': {problem}");
        }

        return definition;
    }

    private static IReadOnlyList<string>? Argv(YamlFields f, string key)
    {
        var node = f.Node(key);
        if (node is YamlScalar { Value: var single } && single.Contains(' ', StringComparison.Ordinal))
        {
            throw f.Error(node.Line, $"'{key}' is run as an argv, never through a shell: write it as a list, e.g. {key}: [{string.Join(", ", single.Split(' ', StringSplitOptions.RemoveEmptyEntries))}]");
        }

        return f.TextList(key);
    }

    private static HealthCheckDefinition ParseHealth(YamlFields f)
    {
        var health = new HealthCheckDefinition
        {
            Http = f.Text("http"),
            ExpectStatus = f.Integer("expect_status", 100, 599),
            Tcp = f.Text("tcp"),
            TimeoutSeconds = f.Seconds("timeout", 0.05, 60) ?? 2,
            Failures = f.Integer("failures", 1, 100) ?? 3,
        };
        f.Done("'health'", ["http", "expect_status", "tcp", "timeout", "failures"]);
        return health;
    }

    private static ProcessLimitsDefinition ParseLimits(YamlFields f)
    {
        var limits = new ProcessLimitsDefinition
        {
            CpuPercent = Percent(f, "cpu"),
            MemoryBytes = Size(f, "memory"),
            ForSeconds = f.Seconds("for", 0, 7 * 86400) ?? 0,
        };
        f.Done("'limits'", ["cpu", "memory", "for"]);
        if (limits.CpuPercent is null && limits.MemoryBytes is null) throw f.Error(f.Line, "'limits' needs cpu, memory or both (for example limits: { cpu: 90%, memory: 1.5GiB, for: 2m })");
        return limits;
    }

    /// <summary>CPU as a percentage of one core: 90% (or 90); above 100% on a process using several cores.</summary>
    private static double? Percent(YamlFields f, string key)
    {
        var text = f.Text(key);
        if (text is null) return null;
        var number = text.EndsWith('%') ? text[..^1].TrimEnd() : text;
        return double.TryParse(number, NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var n) && n > 0 && n <= 100 * 1024
            ? n
            : throw f.Error(f.LineOf(key), $"'{key}: {text}' is not a percentage of one core above 0 (for example {key}: 90% for most of one core, {key}: 250% for two and a half)");
    }

    /// <summary>A size such as 1.5GiB, 800MiB, 512MB or plain bytes.</summary>
    private static long? Size(YamlFields f, string key)
    {
        var text = f.Text(key);
        if (text is null) return null;
        return TryParseSize(text, out var bytes) && bytes > 0
            ? bytes
            : throw f.Error(f.LineOf(key), $"'{key}: {text}' is not a size (write 1.5GiB, 800MiB, 512MB or plain bytes)");
    }

    internal static bool TryParseSize(string text, out long bytes)
    {
        bytes = 0;
        text = text.Trim();
        (string Suffix, double Factor)[] units = [("TiB", 1L << 40), ("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10), ("TB", 1e12), ("GB", 1e9), ("MB", 1e6), ("KB", 1e3)];
        foreach (var (suffix, factor) in units)
        {
            if (!text.EndsWith(suffix, StringComparison.Ordinal)) continue;
            if (!double.TryParse(text.AsSpan(0, text.Length - suffix.Length).TrimEnd(), NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var n)
                || n * factor >= long.MaxValue)
            {
                return false;
            }

            bytes = (long)Math.Round(n * factor);
            return true;
        }

        return long.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out bytes);
    }

    private static HealDefinition? ParseHeal(YamlFields parent, string source, string docs)
    {
        var node = parent.Node("heal");
        switch (node)
        {
            case null:
                return null;
            case YamlScalar:
                return parent.Bool("heal") == true ? new HealDefinition() : null;
        }

        var f = new YamlFields(node, source, docs, "'heal'");
        var heal = new HealDefinition
        {
            MaxRestarts = f.Integer("max_restarts", 1, 1000) ?? 5,
            WindowSeconds = f.Seconds("window", 1, 7 * 86400) ?? 600,
            Retries = f.Integer("retries", 1, 1000) ?? 10,
            DelaySeconds = f.Seconds("delay", 0.01, 600) ?? 0.5,
        };

        // Backoff between restarts and retries after giving up (the ladder part of issue 12).
        heal = heal with
        {
            BackoffSeconds = f.Text("backoff") is "off" ? 0 : f.Seconds("backoff", 0, 3600) ?? 1,
            BackoffMaxSeconds = f.Seconds("backoff_max", 0, 86400) ?? 60,
            RetryAfterSeconds = f.Text("retry_after") is "off" ? 0 : f.Seconds("retry_after", 0, 7 * 86400) ?? 300,
            Watch = f.TextList("watch"),
        };
        f.Done("'heal'", ["max_restarts", "window", "retries", "delay", "backoff", "backoff_max", "retry_after", "watch"]);
        return heal;
    }

    /// <summary>What is wrong with a definition (from YAML or JSON), or null.</summary>
    public static string? Validate(MonitorDefinition m)
    {
        if (string.IsNullOrWhiteSpace(m.Name) || m.Name.Length > 100 || m.Name.Any(c => char.IsControl(c) || c == '/'))
        {
            return "the name must be 1 to 100 characters, without '/' or control characters";
        }

        if (m.IntervalSeconds is <= 0) return "the interval must be positive";
        if (m.ForSeconds < 0) return "'for' must not be negative";
        if (m.RecoverAfter < 1) return "'recover_after' must be at least 1";
        if (m.TimeoutSeconds <= 0) return "the timeout must be positive";
        switch (m.Kind)
        {
            case MonitorKind.Process:
                if (m.Unit is null && m.Match is null && m.Pidfile is null && m.Start is null)
                {
                    return "a process monitor needs one of unit, match, pidfile or start";
                }

                if (m.Match is not null && m.Pidfile is not null) return "use match or pidfile, not both";
                if (m.Start is { Count: 0 } || m.Start?.Any(string.IsNullOrEmpty) == true) return "'start' must be a non-empty argv";
                if (m.Heal is not null && m.Unit is null && m.Start is null)
                {
                    return "heal needs a way to restart: a systemd 'unit' or a 'start' command";
                }

                if (m.Match is not null && RegexProblem(m.Match) is { } matchProblem) return "'match' " + matchProblem;
                if (m.Heal is { } heal && HealProblem(heal) is { } healProblem) return healProblem;
                if (m.Limits is { } limits)
                {
                    if (limits.CpuPercent is null && limits.MemoryBytes is null) return "'limits' needs cpu, memory or both";
                    if (limits.CpuPercent is <= 0) return "'limits.cpu' must be above 0%";
                    if (limits.MemoryBytes is <= 0) return "'limits.memory' must be above 0 bytes";
                    if (limits.ForSeconds < 0) return "'limits.for' must not be negative";
                }

                if (m.Health is { } health)
                {
                    if ((health.Http is null) == (health.Tcp is null)) return "'health' needs exactly one of http or tcp";
                    if (health.Http is not null && !IsHttpUrl(health.Http)) return $"'health.http: {health.Http}' is not an http:// or https:// URL";
                    if (health.Tcp is not null && !TryHostPort(health.Tcp, out _, out _)) return $"'health.tcp: {health.Tcp}' is not host:port";
                }

                break;
            case MonitorKind.Http:
                if (!IsHttpUrl(m.Url)) return $"'url: {m.Url}' is not an http:// or https:// URL";
                if (m.BodyRegex is not null && RegexProblem(m.BodyRegex) is { } bodyProblem) return "'body_regex' " + bodyProblem;
                break;
            case MonitorKind.Tcp or MonitorKind.Tls:
                if (string.IsNullOrWhiteSpace(m.Host) || m.Port is not (>= 1 and <= 65535)) return "host and a port from 1 to 65535 are required";
                break;
            case MonitorKind.Disk:
                if (m.Mount is not ['/', ..]) return "'mount' must be an absolute path";
                if (m.MaxPercent is null && m.MaxInodesPercent is null) return "a disk monitor needs max_percent, max_inodes_percent or both";
                break;
            case MonitorKind.Memory or MonitorKind.Cpu:
                if (m.MaxPercent is null) return "'max_percent' is required";
                break;
            case MonitorKind.Load:
                if (m.MaxLoad is null) return "'max_load' is required";
                break;
            case MonitorKind.Log:
                if (m.Path is not ['/', ..]) return "'path' must be an absolute path";
                if (m.Pattern is null || RegexProblem(m.Pattern) is { } patternProblem) return "'pattern' " + (m.Pattern is null ? "is required" : RegexProblem(m.Pattern));
                if (m.Count is < 1) return "'count' must be at least 1";
                break;
            case MonitorKind.FileAge:
                if (m.Path is not ['/', ..]) return "'path' must be an absolute path";
                if (m.MaxAgeSeconds is not > 0) return "'max_age' is required";
                break;
            case MonitorKind.Command:
                if (m.Command is not { Count: > 0 } || m.Command.Any(string.IsNullOrEmpty)) return "'command' must be a non-empty argv";
                break;
        }

        if (m.RecoverBelow is { } below)
        {
            var threshold = m.Kind == MonitorKind.Load ? m.MaxLoad : m.MaxPercent ?? m.MaxInodesPercent;
            if (threshold is { } t && below > t) return $"'recover_below: {below}' must not be above the threshold {t}";
        }

        return null;
    }

    private static string? HealProblem(HealDefinition heal)
    {
        if (heal.BackoffSeconds < 0 || heal.BackoffMaxSeconds < 0 || heal.RetryAfterSeconds < 0) return "'heal' durations must not be negative";
        if (heal.BackoffMaxSeconds < heal.BackoffSeconds) return $"'heal.backoff_max' ({Units.Describe(heal.BackoffMaxSeconds)}) must not be below 'heal.backoff' ({Units.Describe(heal.BackoffSeconds)})";
        if (heal.Watch?.FirstOrDefault(p => p is not ['/', ..]) is { } relative) return $"'heal.watch: {relative}' must be an absolute path";
        return null;
    }

    private static bool IsHttpUrl(string? url) =>
        Uri.TryCreate(url, UriKind.Absolute, out var uri) && uri.Scheme is "http" or "https";

    internal static bool TryHostPort(string text, out string host, out int port)
    {
        host = "";
        port = 0;
        var colon = text.LastIndexOf(':');
        if (colon <= 0 || !int.TryParse(text.AsSpan(colon + 1), out port) || port is < 1 or > 65535) return false;
        host = text[..colon].Trim('[', ']');
        return host.Length > 0;
    }

    private static string? RegexProblem(string pattern)
    {
        try
        {
            _ = new Regex(pattern, RegexOptions.None, TimeSpan.FromSeconds(1));
            return null;
        }
        catch (ArgumentException ex)
        {
            return $"is not a valid regular expression ({ex.Message})";
        }
    }
}
