using System.Text.Json;
using Medic.Server.Incidents;

namespace Medic.Server.Detection.Webhooks;

/// <summary>
/// Medic's own alert format, for scripts and senders without an adapter (docs/webhooks.md):
/// <c>{"alerts": [{"fingerprint", "status", "title", "severity", "server", "instance", "summary",
/// "labels", "evidence"}]}</c>. Unlike the senders' formats it is strict: an unknown field or an
/// over-long value is refused, so a typo is reported instead of silently ignored.
/// </summary>
internal sealed class GenericAdapter : WebhookAdapter
{
    private static readonly HashSet<string> RootFields = ["alerts"];
    private static readonly HashSet<string> AlertFields = ["fingerprint", "status", "title", "severity", "server", "instance", "summary", "labels", "evidence"];

    public override string Source => IncidentSources.Generic;

    protected override IReadOnlyList<IncidentSignal> Read(JsonElement root, WebhookContext context)
    {
        Known(root, RootFields, "");
        var alerts = PayloadReader.RequiredArray(root, "alerts", "");
        var signals = new List<IncidentSignal>(alerts.GetArrayLength());
        var index = 0;
        foreach (var alert in alerts.EnumerateArray())
        {
            var path = $"alerts[{index++}]";
            if (alert.ValueKind != JsonValueKind.Object) throw new PayloadException($"{path} must be an object, not a {PayloadReader.Kind(alert)}");
            Known(alert, AlertFields, path);
            var fingerprint = Bounded(PayloadReader.RequiredString(alert, "fingerprint", path), WebhookText.MaxFingerprint, path + ".fingerprint");
            var status = PayloadReader.RequiredString(alert, "status", path);
            var resolved = status switch
            {
                "firing" => false,
                "resolved" => true,
                _ => throw new PayloadException($"{path}.status '{WebhookText.Clean(status, 40)}' is neither 'firing' nor 'resolved'"),
            };
            var title = Bounded(PayloadReader.RequiredString(alert, "title", path), WebhookText.MaxTitle, path + ".title");
            var severityWord = PayloadReader.OptionalString(alert, "severity", path);
            var severity = severityWord switch
            {
                null => null,
                "critical" or "warning" or "info" => severityWord,
                _ => throw new PayloadException($"{path}.severity '{WebhookText.Clean(severityWord, 40)}' is none of critical, warning, info"),
            };
            var summary = PayloadReader.OptionalString(alert, "summary", path) is { } s ? Bounded(s, WebhookText.MaxSummary, path + ".summary") : null;
            var server = PayloadReader.OptionalString(alert, "server", path);
            var instance = PayloadReader.OptionalString(alert, "instance", path);
            var labels = PayloadReader.StringMap(alert, "labels", path);
            var evidence = PayloadReader.StringMap(alert, "evidence", path);
            foreach (var (key, value) in labels.Concat(evidence))
            {
                Bounded(value, WebhookText.MaxLabelValue, $"{path} value of '{WebhookText.Clean(key, 100)}'");
            }

            var hint = !string.IsNullOrWhiteSpace(server) ? server.Trim()
                : !string.IsNullOrWhiteSpace(instance) ? WebhookText.StripPort(instance)
                : WebhookText.ServerHint(labels);
            signals.Add(Signal(context, fingerprint, severity, title, summary, hint, labels, evidence, resolved));
        }

        return signals;
    }

    private static void Known(JsonElement obj, HashSet<string> fields, string path)
    {
        foreach (var property in obj.EnumerateObject())
        {
            if (!fields.Contains(property.Name))
            {
                throw new PayloadException($"{PayloadReader.Path(path, WebhookText.Clean(property.Name, 100))} is not a field of Medic's generic alert format; the fields are {string.Join(", ", fields)}");
            }
        }
    }

    private static string Bounded(string value, int max, string what) =>
        value.Length <= max ? value : throw new PayloadException($"{what} is {value.Length} characters long; the limit is {max}");
}
