using System.Buffers;
using System.Globalization;
using Medic.Contracts;
using Medic.Server.Audit;
using Medic.Server.Auth;
using Medic.Server.Hosting;
using Medic.Server.Incidents;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Extensions.Options;

namespace Medic.Server.Detection.Webhooks;

/// <summary>
/// Alert webhooks: senders post to <c>/api/v1/webhooks/alerts/{tenant_slug}/{source}</c> with the
/// tenant's webhook credentials (not a user's); admins read the URLs and credentials and rotate them.
/// </summary>
public static class WebhooksApi
{
    public const string RateLimitPolicy = "webhooks";
    public const int MaxBodyBytes = 1024 * 1024;
    private const int MaxDiscardBytes = 8 * 1024 * 1024;
    public const string DeliveryPath = "/api/v1/webhooks/alerts";

    public static readonly TimeSpan DefaultOverlap = TimeSpan.FromHours(24);
    public static readonly TimeSpan MaxOverlap = TimeSpan.FromDays(30);

    public static IEndpointRouteBuilder MapWebhooks(this IEndpointRouteBuilder app)
    {
        app.MapPost(DeliveryPath + "/{tenant_slug}/{source}", Deliver).AllowAnonymous().RequireRateLimiting(RateLimitPolicy).WithTags("Webhooks")
            .WithSummary("An alert sender delivers alerts (Alertmanager, Grafana, Datadog, PagerDuty or the generic format), authenticated by the tenant's webhook credentials.");

        var group = app.MapGroup("/api/v1/webhooks").WithTags("Webhooks").Requires(Permission.Administer);
        group.MapGet("/", Show).WithSummary("Each source's URL, the tenant's webhook secret and token (created on first use), and sender configuration to paste.");
        group.MapPost("/rotate", Rotate).WithSummary("New webhook secret and token; the old ones keep working for the overlap (default 24h).");
        app.MapWebhookMappings();
        return app;
    }

    private static async Task<Results<Ok<WebhookDeliveryResponse>, ProblemHttpResult>> Deliver(
        [FromRoute(Name = "tenant_slug")] string tenantSlug,
        string source,
        WebhookCredentialStore credentials,
        WebhookMappingStore mappings,
        IIncidentIngest ingest,
        WebhookAudit audit,
        TimeProvider time,
        HttpContext http,
        CancellationToken ct)
    {
        // A name that is no built-in source may be one of the tenant's mapped sources, found once the tenant is known.
        if (!WebhookAdapters.BySource.TryGetValue(source, out var adapter) && !MappedAdapter.IsName(source))
        {
            return Problems.Of(StatusCodes.Status400BadRequest, "Unknown webhook source", $"No webhook source '{WebhookText.Clean(source, 60)}'.",
                $"post to one of: {string.Join(", ", WebhookAdapters.Sources)}; 'medic webhooks show' prints each URL");
        }

        if (http.Request.ContentLength is { } declared && declared > MaxBodyBytes)
        {
            await DiscardAsync(http, declared, ct);
            return TooLarge(declared);
        }

        var tenant = await credentials.FindAsync(tenantSlug, ct);
        if (tenant is null)
        {
            return Problems.Of(StatusCodes.Status404NotFound, "Not found", $"No tenant '{WebhookText.Clean(tenantSlug, 60)}'.",
                "check the URL; 'medic webhooks show' prints each source's exact URL");
        }

        var (body, length) = await ReadBodyAsync(http.Request, ct);
        if (body is null)
        {
            http.Response.Headers.Connection = "close";
            return TooLarge(length);
        }

        var now = time.GetUtcNow();
        var auth = tenant.Credentials.SigningSecrets.Count + tenant.Credentials.BearerTokens.Count == 0
            ? new WebhookAuthResult(null, "this tenant has no webhook credentials yet")
            : WebhookAuthenticator.Check(http.Request.Headers, body.Value.Span, tenant.Credentials, now);
        if (!auth.Ok)
        {
            return Problems.Of(StatusCodes.Status401Unauthorized, "Not authenticated", $"The delivery was refused: {auth.Problem}.",
                tenant.Credentials.SigningSecrets.Count == 0
                    ? "a tenant admin runs 'medic webhooks show' to create the webhook credentials and configure the sender with them"
                    : "configure the sender with the credentials 'medic webhooks show' prints (docs/webhooks.md describes each scheme)");
        }

        adapter ??= await mappings.AdapterAsync(tenant.TenantId, source, ct);
        if (adapter is null)
        {
            return Problems.Of(StatusCodes.Status400BadRequest, "Unknown webhook source", $"No webhook source '{WebhookText.Clean(source, 60)}' and no mapped source of that name.",
                $"post to one of: {string.Join(", ", WebhookAdapters.Sources)}, or define the mapping with 'medic webhooks mapping set {WebhookText.Clean(source, 60)} --file MAPPING.json'");
        }

        var parsed = adapter.Parse(body.Value, new WebhookContext(tenant.TenantId, now));
        if (!parsed.Ok)
        {
            return Problems.Of(StatusCodes.Status400BadRequest, "Invalid payload", $"The {source} payload cannot be read: {parsed.Problem}.",
                $"send the {source} payload as the sender emits it; docs/webhooks.md describes each format");
        }

        var outcomes = parsed.Signals.Count == 0 ? [] : await IngestAsync(ingest, parsed.Signals, ct);
        int Count(string action) => outcomes.Count(o => o.Action == action);
        var response = new WebhookDeliveryResponse(source, parsed.Signals.Count, Count("created"), Count("updated"), Count("reopened"), Count("resolved"), Count("ignored"),
            outcomes.Where(o => o.IncidentId is not null).Select(o => o.IncidentId!).Distinct(StringComparer.Ordinal).ToList(), Count("duplicate"), parsed.Test);

        await audit.AppendAsync(new AuditRecord(tenant.TenantId, adapter.Actor, "webhook.deliver", "webhook:" + source, AuditOutcomes.Success, http.ClientAddress(),
            new Dictionary<string, string>
            {
                ["auth"] = auth.Scheme!,
                ["alerts"] = response.Alerts.ToString(CultureInfo.InvariantCulture),
                ["created"] = response.Created.ToString(CultureInfo.InvariantCulture),
                ["resolved"] = response.Resolved.ToString(CultureInfo.InvariantCulture),
                ["duplicates"] = response.Duplicates.ToString(CultureInfo.InvariantCulture),
                ["test"] = parsed.Test ?? "",
            }), CancellationToken.None);
        http.MarkAudited();
        return TypedResults.Ok(response);
    }

    /// <summary>
    /// Two deliveries about one new problem can race to open its incident on PostgreSQL; the loser's
    /// transaction fails on the unique fingerprint (or a deadlock) and rolls back whole, so running it
    /// again is safe and finds the winner's incident. A sender must not see that as a refusal: a 4xx
    /// makes Alertmanager drop the notification.
    /// </summary>
    private static async Task<IReadOnlyList<IngestOutcome>> IngestAsync(IIncidentIngest ingest, IReadOnlyList<IncidentSignal> signals, CancellationToken ct)
    {
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                return await ingest.IngestAsync(signals, ct);
            }
            catch (Exception ex) when (attempt < 3 && (MedicApp.StatusFor(ex) == StatusCodes.Status409Conflict || ex is Npgsql.PostgresException { SqlState: "40001" or "40P01" }))
            {
                await Task.Delay(Random.Shared.Next(1, 10 * attempt), ct);
            }
        }
    }

    /// <summary>
    /// Reads and drops a body that was declared too large, up to <see cref="MaxDiscardBytes"/>, so the
    /// sender (which writes its whole body before reading the answer) gets the 413 instead of a broken
    /// pipe, and its connection stays usable. Larger ones are answered at once and the connection closed.
    /// </summary>
    private static async Task DiscardAsync(HttpContext http, long declared, CancellationToken ct)
    {
        var limit = http.Features.Get<Microsoft.AspNetCore.Http.Features.IHttpMaxRequestBodySizeFeature>();
        if (declared > MaxDiscardBytes || limit is null || limit.IsReadOnly)
        {
            http.Response.Headers.Connection = "close";
            return;
        }

        limit.MaxRequestBodySize = declared;
        var chunk = ArrayPool<byte>.Shared.Rent(64 * 1024);
        try
        {
            while (await http.Request.Body.ReadAsync(chunk, ct) > 0)
            {
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(chunk);
        }
    }

    private static ProblemHttpResult TooLarge(long length) =>
        Problems.Of(StatusCodes.Status413PayloadTooLarge, "Payload too large", $"The body is {length} bytes or more; the limit is {MaxBodyBytes} bytes (1 MiB).",
            "send fewer alerts per delivery (Alertmanager and Grafana: max_alerts on the webhook)");

    /// <summary>The raw body (signatures are over its exact bytes), or null with the bytes seen once it passes the cap.</summary>
    private static async Task<(ReadOnlyMemory<byte>? Body, long Length)> ReadBodyAsync(HttpRequest request, CancellationToken ct)
    {
        var expected = request.ContentLength is > 0 and <= MaxBodyBytes ? (int)request.ContentLength.Value : 16 * 1024;
        using var buffer = new MemoryStream(expected);
        var chunk = ArrayPool<byte>.Shared.Rent(16 * 1024);
        try
        {
            int read;
            while ((read = await request.Body.ReadAsync(chunk, ct)) > 0)
            {
                if (buffer.Length + read > MaxBodyBytes)
                {
                    return (null, buffer.Length + read);
                }

                buffer.Write(chunk, 0, read);
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(chunk);
        }

        return (buffer.GetBuffer().AsMemory(0, (int)buffer.Length), buffer.Length);
    }

    private static async Task<Ok<WebhooksResponse>> Show(WebhookCredentialStore credentials, AuditLog audit, IOptions<MedicOptions> options, HttpContext http, CancellationToken ct)
    {
        var caller = http.Caller();
        var view = await credentials.EnsureAsync(caller.TenantId, caller.Actor, http.ClientAddress(), ct);
        // Reading the secrets is worth a line in the audit log, like changing them.
        await audit.AppendAsync(new AuditRecord(caller.TenantId, caller.Actor, "webhooks.credentials.show", "webhooks", AuditOutcomes.Success, http.ClientAddress()), ct);
        return TypedResults.Ok(Response(view, caller.TenantSlug, options.Value, http));
    }

    private static async Task<Results<Ok<WebhooksResponse>, ValidationProblem>> Rotate(
        RotateWebhooksRequest? request, WebhookCredentialStore credentials, IOptions<MedicOptions> options, HttpContext http, CancellationToken ct)
    {
        var caller = http.Caller();
        var overlap = DefaultOverlap;
        if (request?.Overlap is { } text && text.Trim() != "0"
            && (!Durations.TryParse(text, out overlap) || overlap > MaxOverlap))
        {
            var v = new Validator();
            v.Add("overlap", $"'{WebhookText.Clean(text, 40)}' is not a duration up to 30d; use e.g. 24h, 90m, or 0 to retire the old credentials at once");
            return v.Problem();
        }

        if (request?.Overlap?.Trim() == "0") overlap = TimeSpan.Zero;
        var view = await credentials.RotateAsync(caller.TenantId, overlap, caller.Actor, http.ClientAddress(), ct);
        http.MarkAudited();
        return TypedResults.Ok(Response(view, caller.TenantSlug, options.Value, http));
    }

    private static WebhooksResponse Response(WebhookCredentialsView view, string tenantSlug, MedicOptions options, HttpContext http)
    {
        var baseUrl = $"{http.Request.Scheme}://{http.Request.Host}{http.Request.PathBase}";
        return new WebhooksResponse(tenantSlug, view.SigningSecret, view.BearerToken, view.CreatedAt, view.Retired,
            options.RateLimits.WebhooksPerMinute, MaxBodyBytes, WebhookSetup.Sources(baseUrl, tenantSlug, view.SigningSecret, view.BearerToken));
    }
}
