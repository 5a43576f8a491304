using System.Text.Json;
using Medic.Server.Incidents;

namespace Medic.Server.Detection.Webhooks;

/// <summary>Who a delivery is for and when it arrived; the adapters take nothing else from outside the body.</summary>
internal sealed record WebhookContext(string TenantId, DateTimeOffset ReceivedAt);

/// <summary>
/// What an adapter made of one delivery: the signals in payload order, or why it was refused (a 400).
/// <c>Test</c> says what a sender's test notification was (Datadog's <c>[TEST]</c>, Uptime Kuma's
/// test button): accepted and recorded as a test delivery, never folded into an incident.
/// </summary>
internal sealed record WebhookParse(IReadOnlyList<IncidentSignal> Signals, string? Problem, string? Test = null)
{
    public bool Ok => Problem is null;

    public static WebhookParse Of(IReadOnlyList<IncidentSignal> signals) => new(signals, null);

    public static WebhookParse Invalid(string problem) => new([], problem);

    public static WebhookParse TestDelivery(string what) => new([], null, what);
}

/// <summary>
/// Turns one sender's raw webhook body into incident signals. A pure function of the bytes and
/// the <see cref="WebhookContext"/>: no I/O, no clock, so it can be fed any byte string.
/// </summary>
internal abstract class WebhookAdapter
{
    /// <summary>The JSON nesting any sender needs is far below this; deeper bodies are refused, not walked.</summary>
    public const int MaxDepth = 32;

    /// <summary>More alerts than this in one delivery is refused; the 1 MiB body cap comes first for real senders.</summary>
    public const int MaxAlerts = 5000;

    private static readonly JsonDocumentOptions DocumentOptions = new() { MaxDepth = MaxDepth, AllowTrailingCommas = false, CommentHandling = JsonCommentHandling.Disallow };

    /// <summary>The route segment and the signals' source: a built-in sender (alertmanager, zabbix, ...) or a mapped source's name.</summary>
    public abstract string Source { get; }

    public string Actor => "webhook:" + Source;

    public WebhookParse Parse(ReadOnlyMemory<byte> body, WebhookContext context)
    {
        if (body.IsEmpty)
        {
            return WebhookParse.Invalid("the body is empty; the sender must post its JSON payload");
        }

        // JsonDocument checks the UTF-8 of a string only when the string is read; check all of it first.
        if (!System.Text.Unicode.Utf8.IsValid(body.Span))
        {
            return WebhookParse.Invalid("the body is not valid UTF-8; senders post JSON in UTF-8");
        }

        try
        {
            using var document = JsonDocument.Parse(body, DocumentOptions);
            if (document.RootElement.ValueKind != JsonValueKind.Object)
            {
                return WebhookParse.Invalid($"the body is a JSON {PayloadReader.Kind(document.RootElement)}, not an object");
            }

            return TestNotification(document.RootElement) is { } test
                ? WebhookParse.TestDelivery(WebhookText.Clean(test, WebhookText.MaxTitle))
                : WebhookParse.Of(Read(document.RootElement, context));
        }
        catch (JsonException ex)
        {
            return WebhookParse.Invalid("the body is not valid JSON: " + ex.Message);
        }
        catch (PayloadException ex)
        {
            return WebhookParse.Invalid(ex.Message);
        }
        catch (InvalidOperationException ex) when (ex.Message.Contains("UTF-16", StringComparison.Ordinal))
        {
            // JsonDocument parses \uD800 escapes lazily and refuses an unpaired surrogate only when the string is read.
            return WebhookParse.Invalid("the body holds a \\u escape that is not valid UTF-16 (an unpaired surrogate)");
        }
        catch (System.Text.RegularExpressions.RegexMatchTimeoutException)
        {
            return WebhookParse.Invalid("a text field is too convoluted to read in time; shorten the title");
        }
    }

    protected abstract IReadOnlyList<IncidentSignal> Read(JsonElement root, WebhookContext context);

    /// <summary>What the delivery is when it is the sender's test notification, else null (the default).</summary>
    protected virtual string? TestNotification(JsonElement root) => null;

    /// <summary>Builds one signal with every text field cleaned and capped (see <see cref="WebhookText"/>).</summary>
    protected IncidentSignal Signal(
        WebhookContext context,
        string fingerprint,
        string? severity,
        string title,
        string? summary,
        string? serverHint,
        IReadOnlyDictionary<string, string> labels,
        IReadOnlyDictionary<string, string> evidence,
        bool resolved,
        string? occurrence = null,
        string? groupKey = null,
        string? deliveryId = null) =>
        new(
            context.TenantId,
            Source,
            Source + ":" + WebhookText.Clean(fingerprint, WebhookText.MaxFingerprint),
            "alert",
            severity ?? WebhookText.DefaultSeverity,
            WebhookText.Clean(title, WebhookText.MaxTitle),
            summary is null ? null : WebhookText.Clean(summary, WebhookText.MaxSummary),
            null,
            serverHint is null ? null : WebhookText.Clean(serverHint, WebhookText.MaxLabelValue),
            WebhookText.CleanMap(labels),
            WebhookText.CleanMap(evidence),
            resolved,
            context.ReceivedAt,
            Actor,
            occurrence is null ? null : WebhookText.Clean(occurrence, WebhookText.MaxFingerprint),
            GroupKey: string.IsNullOrEmpty(groupKey) ? null : WebhookText.Clean(groupKey, WebhookText.MaxLabelValue),
            DeliveryId: string.IsNullOrEmpty(deliveryId) ? null : WebhookText.Clean(deliveryId, WebhookText.MaxFingerprint));
}

/// <summary>A payload that is JSON but not what the sender emits; the message names the field.</summary>
internal sealed class PayloadException(string message) : Exception(message);
