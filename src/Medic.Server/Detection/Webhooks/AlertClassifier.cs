using System.Text.RegularExpressions;
using Medic.Contracts;
using Medic.Server.Incidents;

namespace Medic.Server.Detection.Webhooks;

/// <summary>A classification rule with its regex compiled: the tenant's (by name) or a built-in one.</summary>
internal sealed class AlertTypeMatcher
{
    public static readonly TimeSpan RegexTimeout = TimeSpan.FromMilliseconds(50);

    private readonly HashSet<string>? _names;
    private readonly Regex? _regex;

    public AlertTypeMatcher(string name, AlertTypeRule rule, bool builtIn, IEnumerable<string>? names = null)
    {
        Name = name;
        Rule = rule;
        BuiltIn = builtIn;
        _names = names is null && rule.Alertname is null ? null : new HashSet<string>(names ?? [rule.Alertname!], StringComparer.Ordinal);
        _regex = rule.AlertnameRegex is null ? null : new Regex(rule.AlertnameRegex, RegexOptions.CultureInvariant, RegexTimeout);
    }

    public string Name { get; }

    public AlertTypeRule Rule { get; }

    public bool BuiltIn { get; }

    /// <summary>The exact names a built-in rule knows besides its regex (shown by <c>medic webhooks types list</c>).</summary>
    public IReadOnlyCollection<string> Names => _names ?? [];

    /// <summary>Every given condition holds; the exact names and the regex are alternatives when a built-in rule has both.</summary>
    public bool Matches(string source, string? name, IReadOnlyDictionary<string, string> labels)
    {
        if (Rule.Source is not null && !string.Equals(Rule.Source, source, StringComparison.Ordinal)) return false;
        if (Rule.Labels is { } wanted)
        {
            foreach (var (key, value) in wanted)
            {
                if (!labels.TryGetValue(key, out var actual) || (value != "*" && !string.Equals(actual, value, StringComparison.Ordinal))) return false;
            }
        }

        if (_names is null && _regex is null) return true;
        if (name is null) return false;
        if (_names is not null && _names.Contains(name)) return true;
        try
        {
            return _regex is not null && _regex.IsMatch(name);
        }
        catch (RegexMatchTimeoutException)
        {
            return false;
        }
    }
}

/// <summary>
/// Gives alerts from webhooks an incident type (disk_full, service_down, ...) from their alert name and
/// labels, and adds the label names triage rules read (<c>mount</c>, <c>unit</c>, <c>port</c>, <c>url</c>,
/// ...) next to the sender's own. Order: a <c>medic_type</c> label, then the tenant's rules by name, then
/// the built-in ones; no match keeps the type <c>alert</c>. Pure: a function of the signal and the rules.
/// </summary>
internal static partial class AlertClassifier
{
    public const string Unclassified = "alert";
    public const string TypeLabel = "medic_type";

    [GeneratedRegex("^[a-z][a-z0-9_]{1,39}$", RegexOptions.CultureInvariant)]
    public static partial Regex TypePattern();

    /// <summary>A systemd unit name as node-exporter's and systemd-exporter's <c>name</c> label carries it.</summary>
    [GeneratedRegex(@"^[A-Za-z0-9:_.\\@-]+\.(service|socket|timer|mount|automount|path|target|scope|slice|swap|device)$", RegexOptions.CultureInvariant)]
    private static partial Regex UnitPattern();

    [GeneratedRegex(@"^\[?(?<host>[A-Za-z0-9_.:-]*?)\]?:(?<port>[0-9]{1,5})$", RegexOptions.CultureInvariant)]
    private static partial Regex HostPortPattern();

    /// <summary>Zabbix's Linux template names the file system in its trigger: <c>FS [/var]: Space is critically low</c>.</summary>
    [GeneratedRegex(@"\bFS \[(?<mount>/[^\]]{0,200})\]", RegexOptions.CultureInvariant)]
    private static partial Regex ZabbixMountPattern();

    /// <summary>
    /// The built-in table: the alert names of node-exporter, blackbox-exporter, cAdvisor, kube-state-metrics
    /// and systemd-exporter rules as the common rule sets (awesome-prometheus-alerts, kube-prometheus'
    /// node-mixin) and Zabbix' Linux templates name them. Inodes come before disks and forecasts before
    /// "full", so the more specific type wins.
    /// </summary>
    public static readonly IReadOnlyList<AlertTypeMatcher> BuiltIn =
    [
        Built("inodes-forecast", "inodes_full_forecast", ["HostInodesWillFillIn24Hours", "HostInodesMayFillIn24Hours", "NodeFilesystemFilesFillingUp", "KubePersistentVolumeInodesFillingUp"],
            @"(?i)inodes?\w*(will ?fill|may ?fill|filling ?up)|files ?filling ?up"),
        Built("inodes-full", "inodes_full", ["HostOutOfInodes", "NodeFilesystemAlmostOutOfFiles", "KubePersistentVolumeInodesFull"],
            @"(?i)out ?of ?(free )?(inodes|files)\b|inodes? (is |are )?(critically )?low|running out of free inodes"),
        Built("disk-forecast", "disk_full_forecast", ["HostDiskWillFillIn24Hours", "HostDiskMayFillIn24Hours", "NodeFilesystemSpaceFillingUp", "KubePersistentVolumeFillingUp"],
            @"(?i)(disk|filesystem|space|volume)\w*(will ?fill|may ?fill|filling ?up)"),
        Built("disk-full", "disk_full", ["HostOutOfDiskSpace", "NodeFilesystemAlmostOutOfSpace", "NodeFilesystemFull", "HostDiskFull"],
            @"(?i)out ?of ?disk ?space|almost ?out ?of ?space|(disk ?)?space (is )?(critically )?low|(disk|filesystem) ?(is )?full\b"),
        Built("certificate", "certificate_expiring", ["BlackboxSslCertificateWillExpireSoon", "BlackboxSslCertificateExpired", "SSLCertExpiringSoon", "SslCertificateExpiringSoon", "CertificateExpiringSoon", "X509CertificateExpiration"],
            @"(?i)(ssl|tls|x509)? ?cert(ificate)?\w* ?(will ?)?(expir|expire)"),
        Built("cpu", "cpu_high", ["HostHighCpuLoad", "NodeCPUHighUsage", "NodeHighCpuUsage", "HostCpuHighUsage"],
            @"(?i)high ?cpu ?(load|usage|utili[sz]ation)|cpu ?(usage|utili[sz]ation) ?(is )?(too )?high"),
        Built("memory", "memory_high", ["HostOutOfMemory", "NodeMemoryHighUtilization", "HostMemoryUnderMemoryPressure", "NodeOutOfMemory"],
            @"(?i)out ?of ?memory|high ?memory ?(usage|utili[sz]ation)|memory ?(usage|utili[sz]ation) ?(is )?(too )?high|lack of available memory|memory ?pressure"),
        Built("load", "load_high", ["HostHighLoad", "NodeHighLoad", "HostSystemLoadHigh"], @"(?i)load average (is )?too high"),
        Built("systemd-unit", "service_down", ["HostSystemdServiceCrashed", "NodeSystemdServiceFailed", "NodeSystemdUnitFailed", "SystemdUnitFailed", "SystemdServiceFailed", "SystemdUnitDown", "ServiceDown"],
            @"(?i)systemd ?(service|unit)\w* ?(crashed|failed|down)|service .{1,100} is not running"),
        // node_systemd_unit_state{state="failed"} (and systemd-exporter's) under any alert name.
        new AlertTypeMatcher("systemd-unit-state", new AlertTypeRule("service_down", Labels: new Dictionary<string, string> { ["state"] = "failed", ["name"] = "*" }), true),
        Built("target-down", "service_down", ["TargetDown", "InstanceDown", "PrometheusTargetMissing", "ExporterDown", "ScrapeTargetDown"], @"(?i)^(target|instance|exporter) ?(is )?down$"),
        Built("probe", "endpoint_down", ["BlackboxProbeFailed", "ProbeFailed", "BlackboxProbeHttpFailure", "EndpointDown", "HttpProbeFailed", "WebsiteDown", "SiteDown"],
            @"(?i)probe ?(has )?failed|probe\w*failure|endpoint ?(is )?down|(website|site|url) ?(is )?down"),
        Built("container-down", "container_down", ["ContainerKilled", "ContainerAbsent", "ContainerDown", "ContainerExited"], @"(?i)container ?(killed|absent|down|exited|stopped)"),
        Built("container-unhealthy", "container_unhealthy", ["ContainerUnhealthy", "KubePodCrashLooping"], @"(?i)container ?(is )?unhealthy|crash ?loop"),
        // Uptime Kuma reports only that a monitor (a URL, a port, a keyword) stopped answering.
        new AlertTypeMatcher("uptime-kuma", new AlertTypeRule("endpoint_down", Source: IncidentSources.UptimeKuma), true),
    ];

    private static AlertTypeMatcher Built(string name, string type, string[] names, string regex) =>
        new(name, new AlertTypeRule(type, null, regex), true, names);

    /// <summary>The name rules match: the <c>alertname</c> label (Alertmanager, Grafana), else the title.</summary>
    public static string? AlertName(IReadOnlyDictionary<string, string> labels, string? title) =>
        labels.TryGetValue("alertname", out var name) && name.Length > 0 ? name : title;

    /// <summary>The signal with its type and derived labels; a resolved signal is classified too (it folds into the same incident either way).</summary>
    public static IncidentSignal Classify(IncidentSignal signal, IReadOnlyList<AlertTypeMatcher> tenantRules)
    {
        if (signal.Type != Unclassified) return signal;
        var (type, _) = TypeOf(signal.Source, AlertName(signal.Labels, signal.Title), signal.Labels, tenantRules);
        var derived = DerivedLabels(type, signal.Labels, signal.Title);
        if (type == Unclassified && derived.Count == 0) return signal;
        var labels = new Dictionary<string, string>(signal.Labels, StringComparer.Ordinal);
        foreach (var (key, value) in derived) labels[key] = WebhookText.Clean(value, WebhookText.MaxLabelValue);
        return signal with { Type = type, Labels = labels };
    }

    /// <summary>The type and the rule that gave it (null when none did and it stays <c>alert</c>).</summary>
    public static (string Type, string? Rule) TypeOf(string source, string? name, IReadOnlyDictionary<string, string> labels, IReadOnlyList<AlertTypeMatcher> tenantRules)
    {
        if (labels.TryGetValue(TypeLabel, out var forced) && TypePattern().IsMatch(forced)) return (forced, "label:" + TypeLabel);
        foreach (var rule in tenantRules)
        {
            if (rule.Matches(source, name, labels)) return (rule.Rule.Type, rule.Name);
        }

        foreach (var rule in BuiltIn)
        {
            if (rule.Matches(source, name, labels)) return (rule.Rule.Type, "built-in:" + rule.Name);
        }

        return (Unclassified, null);
    }

    /// <summary>
    /// The labels the built-in triage rules and process targeting read, derived from the exporters' own
    /// names; a label the sender already set is never replaced. A host:port <c>instance</c> gives <c>port</c>
    /// only for probes, certificates and scrape targets that are down (elsewhere it names the exporter).
    /// </summary>
    public static Dictionary<string, string> DerivedLabels(string type, IReadOnlyDictionary<string, string> labels, string? title)
    {
        var derived = new Dictionary<string, string>(StringComparer.Ordinal);
        void Add(string key, string? value)
        {
            if (!string.IsNullOrWhiteSpace(value) && !labels.ContainsKey(key) && !derived.ContainsKey(key)) derived[key] = value.Trim();
        }

        Add("mount", labels.GetValueOrDefault("mountpoint"));
        if (type is "disk_full" or "disk_full_forecast" or "inodes_full" or "inodes_full_forecast" && title is not null && ZabbixMountPattern().Match(title) is { Success: true } fs)
        {
            Add("mount", fs.Groups["mount"].Value);
        }

        if (labels.GetValueOrDefault("name") is { } name)
        {
            if (UnitPattern().IsMatch(name)) Add("unit", name);
            else if (type is "container_down" or "container_unhealthy") Add("container", name);
        }

        Add("process", labels.GetValueOrDefault("groupname"));
        // On node-exporter's alerts instance is the exporter (host:9100), not what is wrong: a port only where the instance is the target itself.
        var instanceIsTarget = type is "endpoint_down" or "certificate_expiring" || (type == "service_down" && !labels.ContainsKey("unit") && !derived.ContainsKey("unit"));
        foreach (var key in (string[])["instance", "target"])
        {
            if (labels.GetValueOrDefault(key) is not { } value) continue;
            if (Uri.TryCreate(value, UriKind.Absolute, out var uri) && uri.Scheme is "http" or "https" or "tcp" or "tls" or "ssl")
            {
                Add("url", value);
                if (type == "certificate_expiring") Add("domain", uri.IdnHost);
            }
            else if (instanceIsTarget && HostPortPattern().Match(value) is { Success: true } hp && int.TryParse(hp.Groups["port"].Value, System.Globalization.CultureInfo.InvariantCulture, out var port) && port is > 0 and < 65536)
            {
                Add("port", hp.Groups["port"].Value);
                if (type == "certificate_expiring" && hp.Groups["host"].Value is { Length: > 0 } host) Add("domain", host);
            }
        }

        return derived;
    }

    /// <summary>What is wrong with a tenant's rule, field by field; empty when it can be saved.</summary>
    public static Dictionary<string, string[]> Validate(string name, AlertTypeRule? rule)
    {
        var errors = new Dictionary<string, string[]>(StringComparer.Ordinal);
        if (!RuleName().IsMatch(name)) errors["name"] = ["is 1 to 40 lower-case letters, digits, dashes or underscores, starting with a letter or digit (rules are tried in name order)"];
        if (rule is null)
        {
            errors["rule"] = ["is required: a JSON object with \"type\" and at least one of \"alertname\", \"alertname_regex\", \"labels\" or \"source\""];
            return errors;
        }

        if (rule.Type is null || !TypePattern().IsMatch(rule.Type)) errors["type"] = ["is 2 to 40 lower-case letters, digits or underscores, starting with a letter: the incident type triage rules match (disk_full, service_down, ...)"];
        if (rule.Alertname is null && rule.AlertnameRegex is null && rule.Labels is not { Count: > 0 } && rule.Source is null)
        {
            errors["rule"] = ["matches every alert; give at least one of alertname, alertname_regex, labels or source"];
        }

        if (rule.Alertname is { } exact && (exact.Length is 0 or > 200 || exact.Any(char.IsControl))) errors["alertname"] = ["is 1 to 200 characters without control characters"];
        if (rule.AlertnameRegex is { } pattern)
        {
            if (pattern.Length is 0 or > 300)
            {
                errors["alertname_regex"] = ["is 1 to 300 characters"];
            }
            else
            {
                try
                {
                    _ = new Regex(pattern, RegexOptions.CultureInvariant, AlertTypeMatcher.RegexTimeout);
                }
                catch (ArgumentException ex)
                {
                    errors["alertname_regex"] = ["is not a valid .NET regular expression: " + WebhookText.Clean(ex.Message, 200)];
                }
            }
        }

        if (rule.Labels is { } labels)
        {
            if (labels.Count > 10) errors["labels"] = ["holds at most 10 labels"];
            else if (labels.FirstOrDefault(kv => !LabelName().IsMatch(kv.Key) || kv.Value is null || kv.Value.Length is 0 or > 200) is { Key: not null } bad)
            {
                errors["labels"] = [$"'{WebhookText.Clean(bad.Key, 60)}': a label name is letters, digits and underscores, and its value 1 to 200 characters (\"*\": the label is present)"];
            }
        }

        if (rule.Source is { } source && !IncidentSources.Webhook.Contains(source) && !MappedAdapter.IsName(source))
        {
            errors["source"] = [$"'{WebhookText.Clean(source, 60)}' is not a webhook source; use one of {string.Join(", ", IncidentSources.Webhook)} or a mapped source's name"];
        }

        return errors;
    }

    [GeneratedRegex("^[a-z0-9][a-z0-9_-]{0,39}$", RegexOptions.CultureInvariant)]
    public static partial Regex RuleName();

    [GeneratedRegex("^[A-Za-z_][A-Za-z0-9_]{0,99}$", RegexOptions.CultureInvariant)]
    private static partial Regex LabelName();
}
