using System.Text.Json;
using System.Text.RegularExpressions;
using Medic.Contracts;
using Medic.Server.Incidents;

namespace Medic.Server.Detection.Webhooks;

/// <summary>
/// A source the tenant defined by a <see cref="WebhookMapping"/>: any sender's JSON read through
/// JSON paths, so a sender without an adapter needs no code. Built once per delivery from the
/// stored mapping, which <see cref="Validate"/> checked when it was saved.
/// </summary>
internal sealed partial class MappedAdapter : WebhookAdapter
{
    private readonly string _source;
    private readonly WebhookMapping _mapping;
    private readonly JsonPath? _alerts;
    private readonly JsonPath _title;
    private readonly JsonPath? _fingerprint, _status, _severity, _host, _summary;

    private MappedAdapter(string source, WebhookMapping mapping)
    {
        _source = source;
        _mapping = mapping;
        _alerts = mapping.Alerts is null ? null : JsonPath.Parse(mapping.Alerts);
        _title = JsonPath.Parse(mapping.Title);
        _fingerprint = mapping.Fingerprint is null ? null : JsonPath.Parse(mapping.Fingerprint);
        _status = mapping.Status is null ? null : JsonPath.Parse(mapping.Status);
        _severity = mapping.Severity is null ? null : JsonPath.Parse(mapping.Severity);
        _host = mapping.Host is null ? null : JsonPath.Parse(mapping.Host);
        _summary = mapping.Summary is null ? null : JsonPath.Parse(mapping.Summary);
    }

    public override string Source => _source;

    /// <summary>Lower-case letters, digits and dashes; not the name of a built-in source.</summary>
    [GeneratedRegex("^[a-z][a-z0-9-]{1,39}$", RegexOptions.CultureInvariant)]
    private static partial Regex NamePattern();

    public static bool IsName(string name) => NamePattern().IsMatch(name) && !IncidentSources.Reserved.Contains(name);

    /// <summary>The adapter for a mapping that passed <see cref="Validate"/>.</summary>
    public static MappedAdapter For(string name, WebhookMapping mapping) => new(name, mapping);

    /// <summary>What is wrong with a mapping, field by field; empty when it can be used.</summary>
    public static Dictionary<string, string[]> Validate(string name, WebhookMapping? mapping)
    {
        var errors = new Dictionary<string, string[]>(StringComparer.Ordinal);
        if (!NamePattern().IsMatch(name)) errors["name"] = ["is 2 to 40 lower-case letters, digits or dashes, starting with a letter"];
        else if (IncidentSources.Reserved.Contains(name)) errors["name"] = [$"'{name}' is a built-in source; choose another name"];
        if (mapping is null)
        {
            errors["mapping"] = ["is required: a JSON object with at least \"title\": \"$.path.to.title\""];
            return errors;
        }

        void Path(string field, string? path, bool required)
        {
            if (path is null)
            {
                if (required) errors[field] = ["is required"];
                return;
            }

            if (JsonPath.Problem(path) is { } problem) errors[field] = [problem];
        }

        Path("alerts", mapping.Alerts, false);
        Path("title", mapping.Title, true);
        Path("fingerprint", mapping.Fingerprint, false);
        Path("status", mapping.Status, false);
        Path("severity", mapping.Severity, false);
        Path("host", mapping.Host, false);
        Path("summary", mapping.Summary, false);
        if (mapping.Status is not null && (mapping.ResolvedValues is null || mapping.ResolvedValues.Count == 0))
        {
            errors["resolved_values"] = ["is required with status: the status values that mean the problem is over, e.g. [\"ok\", \"resolved\"]"];
        }
        else if (mapping.Status is null && mapping.ResolvedValues is { Count: > 0 })
        {
            errors["resolved_values"] = ["has no effect without status; add the path of the status field"];
        }
        else if (mapping.ResolvedValues is { } values && (values.Count > 20 || values.Any(v => v is null || v.Length > 100)))
        {
            errors["resolved_values"] = ["holds at most 20 values of up to 100 characters"];
        }

        if (mapping.SeverityMap is { } map)
        {
            if (mapping.Severity is null) errors["severity_map"] = ["has no effect without severity; add the path of the severity field"];
            else if (map.Count > 50) errors["severity_map"] = ["holds at most 50 entries"];
            else if (map.Where(kv => !Severities.All.Contains(kv.Value)).Select(kv => kv.Key).FirstOrDefault() is { } bad)
            {
                errors["severity_map"] = [$"maps '{WebhookText.Clean(bad, 40)}' to '{WebhookText.Clean(map[bad] ?? "", 40)}'; values are critical, warning or info"];
            }
        }

        return errors;
    }

    protected override IReadOnlyList<IncidentSignal> Read(JsonElement root, WebhookContext context)
    {
        if (_alerts is null) return [ReadAlert(root, "", context)];
        var alerts = _alerts.Select(root) is { ValueKind: JsonValueKind.Array } array
            ? array
            : throw new PayloadException($"{_mapping.Alerts} is not an array in this payload; the mapping's alerts path must name the list of alerts");
        if (alerts.GetArrayLength() > MaxAlerts) throw new PayloadException($"{_mapping.Alerts} holds more than {MaxAlerts} alerts");
        var signals = new List<IncidentSignal>();
        var index = 0;
        foreach (var alert in alerts.EnumerateArray())
        {
            signals.Add(ReadAlert(alert, $"{_mapping.Alerts}[{index++}]", context));
        }

        return signals;
    }

    private IncidentSignal ReadAlert(JsonElement alert, string where, WebhookContext context)
    {
        string? Text(JsonPath? path, string field) => path is null ? null : path.Select(alert) switch
        {
            null => null,
            { ValueKind: JsonValueKind.String } s => string.IsNullOrWhiteSpace(s.GetString()) ? null : s.GetString()!.Trim(),
            { ValueKind: JsonValueKind.Number or JsonValueKind.True or JsonValueKind.False } scalar => scalar.GetRawText(),
            var other => throw new PayloadException($"{field} ({path}{(where.Length == 0 ? "" : " in " + where)}) is a {PayloadReader.Kind(other.Value)}, not a string or number"),
        };

        var title = Text(_title, "title")
            ?? throw new PayloadException($"the title path {_title} finds nothing{(where.Length == 0 ? "" : " in " + where)}; fix the mapping or the sender's payload");
        var host = Text(_host, "host");
        var statusValue = Text(_status, "status");
        var resolved = statusValue is not null && _mapping.ResolvedValues!.Contains(statusValue, StringComparer.OrdinalIgnoreCase);
        var severityValue = Text(_severity, "severity");
        var severity = severityValue is null ? null
            : _mapping.SeverityMap?.FirstOrDefault(kv => string.Equals(kv.Key, severityValue, StringComparison.OrdinalIgnoreCase)).Value
              ?? WebhookText.Severity(severityValue);
        var fingerprint = Text(_fingerprint, "fingerprint") ?? WebhookText.Digest(title, host ?? "");

        var labels = new Dictionary<string, string>(StringComparer.Ordinal);
        if (host is not null) labels["host"] = host;
        if (severityValue is not null) labels["sender_severity"] = severityValue;
        var evidence = new Dictionary<string, string>(StringComparer.Ordinal);
        if (statusValue is not null) evidence["status"] = statusValue;
        return Signal(context, fingerprint, severity, title, Text(_summary, "summary"), host, labels, evidence, resolved);
    }

    /// <summary>
    /// The subset of JSONPath a mapping needs: <c>$</c> followed by <c>.name</c>, <c>['any name']</c>
    /// and <c>[index]</c> steps. No wildcards or filters: one path finds at most one value.
    /// </summary>
    internal sealed class JsonPath
    {
        private readonly string _text;
        private readonly IReadOnlyList<object> _steps;

        private JsonPath(string text, IReadOnlyList<object> steps)
        {
            _text = text;
            _steps = steps;
        }

        public override string ToString() => _text;

        public static string? Problem(string path)
        {
            var (_, problem) = TryParse(path);
            return problem;
        }

        public static JsonPath Parse(string path) => TryParse(path) is ({ } parsed, null) ? parsed : throw new ArgumentException(Problem(path), nameof(path));

        /// <summary>The value at the path, or null when a step finds nothing (or a JSON null).</summary>
        public JsonElement? Select(JsonElement root)
        {
            var current = root;
            foreach (var step in _steps)
            {
                if (step is string name)
                {
                    if (current.ValueKind != JsonValueKind.Object || !current.TryGetProperty(name, out current)) return null;
                }
                else
                {
                    var index = (int)step;
                    if (current.ValueKind != JsonValueKind.Array || index >= current.GetArrayLength()) return null;
                    current = current[index];
                }
            }

            return current.ValueKind == JsonValueKind.Null ? null : current;
        }

        private static (JsonPath?, string?) TryParse(string path)
        {
            const string Shape = "a path is $ followed by .name, ['name'] or [index] steps, e.g. $.alert.labels.host or $.items[0]['host name']";
            if (path.Length > 300) return (null, "is longer than 300 characters");
            if (!path.StartsWith('$')) return (null, $"'{WebhookText.Clean(path, 60)}' does not start with $; {Shape}");
            var steps = new List<object>();
            var i = 1;
            while (i < path.Length)
            {
                if (steps.Count >= 16) return (null, "has more than 16 steps");
                if (path[i] == '.')
                {
                    var start = ++i;
                    while (i < path.Length && path[i] != '.' && path[i] != '[') i++;
                    var name = path[start..i];
                    if (name.Length == 0 || name.Any(c => c is '*' or '?' or ']' or ' ' or '\'' or '"')) return (null, $"has an invalid step at position {start}; {Shape}");
                    steps.Add(name);
                }
                else if (path[i] == '[')
                {
                    var close = path.IndexOf(']', i);
                    if (close < 0) return (null, $"has an unclosed [ at position {i}; {Shape}");
                    var inner = path[(i + 1)..close];
                    if (inner.Length >= 2 && (inner[0] is '\'' or '"') && inner[^1] == inner[0])
                    {
                        steps.Add(inner[1..^1]);
                    }
                    else if (int.TryParse(inner, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var index) && index < 10000)
                    {
                        steps.Add(index);
                    }
                    else
                    {
                        return (null, $"has [{WebhookText.Clean(inner, 40)}], which is neither an index nor a quoted name (no wildcards or filters); {Shape}");
                    }

                    i = close + 1;
                }
                else
                {
                    return (null, $"has '{path[i]}' at position {i} where . or [ was expected; {Shape}");
                }
            }

            return (new JsonPath(path, steps), null);
        }
    }
}
