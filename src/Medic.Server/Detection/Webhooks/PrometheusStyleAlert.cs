using System.Globalization;
using System.Text.Json;

namespace Medic.Server.Detection.Webhooks;

/// <summary>
/// One entry of <c>alerts</c> as Alertmanager's template data writes it, which Grafana's webhook
/// extends: status, labels, annotations, startsAt, endsAt, generatorURL, fingerprint.
/// </summary>
internal sealed record PrometheusStyleAlert(
    bool Resolved,
    string Fingerprint,
    Dictionary<string, string> Labels,
    Dictionary<string, string> Annotations,
    DateTimeOffset? StartsAt,
    DateTimeOffset? EndsAt,
    string? GeneratorUrl)
{
    public static PrometheusStyleAlert Read(JsonElement alert, string path)
    {
        if (alert.ValueKind != JsonValueKind.Object)
        {
            throw new PayloadException($"{path} must be an object, not a {PayloadReader.Kind(alert)}");
        }

        var status = PayloadReader.RequiredString(alert, "status", path);
        var resolved = status switch
        {
            "firing" => false,
            "resolved" => true,
            _ => throw new PayloadException($"{path}.status '{WebhookText.Clean(status, 40)}' is neither 'firing' nor 'resolved'"),
        };
        var labels = PayloadReader.StringMap(alert, "labels", path);
        var annotations = PayloadReader.StringMap(alert, "annotations", path);
        var fingerprint = PayloadReader.OptionalString(alert, "fingerprint", path);
        if (string.IsNullOrWhiteSpace(fingerprint))
        {
            // Alertmanager always sends one; derive the same kind of identity (the label set) when a relay dropped it.
            fingerprint = labels.Count > 0
                ? WebhookText.Digest(WebhookText.Canonical(labels))
                : throw new PayloadException($"{path} has neither a fingerprint nor labels to tell it apart");
        }

        return new PrometheusStyleAlert(
            resolved,
            fingerprint.Trim(),
            labels,
            annotations,
            PayloadReader.OptionalTime(alert, "startsAt", path),
            // Firing alerts carry Go's zero time, 0001-01-01T00:00:00Z: no end yet.
            PayloadReader.OptionalTime(alert, "endsAt", path) is { Year: > 1 } ends ? ends : null,
            PayloadReader.OptionalString(alert, "generatorURL", path));
    }

    public string? AlertName => Labels.GetValueOrDefault("alertname");

    /// <summary><c>alertname: summary</c>, or whichever of the two exists.</summary>
    public string Title(string fallback)
    {
        var summary = Annotations.GetValueOrDefault("summary") ?? Annotations.GetValueOrDefault("title");
        return (AlertName, summary) switch
        {
            ({ Length: > 0 } name, { Length: > 0 } s) => $"{name}: {s}",
            ({ Length: > 0 } name, _) => name,
            (_, { Length: > 0 } s) => s,
            _ => fallback,
        };
    }

    public string? Summary =>
        Annotations.GetValueOrDefault("description") ?? Annotations.GetValueOrDefault("message") ?? Annotations.GetValueOrDefault("summary");

    public string? Severity => WebhookText.Severity(Labels.GetValueOrDefault("severity") ?? Labels.GetValueOrDefault("priority"));

    /// <summary>Annotations as <c>annotations.NAME</c>, the times, and the link back to the rule.</summary>
    public Dictionary<string, string> Evidence()
    {
        var evidence = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var (key, value) in Annotations)
        {
            evidence["annotations." + key] = value;
        }

        if (StartsAt is { } starts) evidence["starts_at"] = starts.ToString("O", CultureInfo.InvariantCulture);
        if (EndsAt is { } ends) evidence["ends_at"] = ends.ToString("O", CultureInfo.InvariantCulture);
        if (!string.IsNullOrEmpty(GeneratorUrl)) evidence["generator_url"] = GeneratorUrl;
        return evidence;
    }
}
