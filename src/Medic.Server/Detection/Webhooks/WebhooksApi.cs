using System.Buffers;
using System.Globalization;
using Medic.Contracts;
using Medic.Server.Audit;
using Medic.Server.Auth;
using Medic.Server.Common;
using Medic.Server.Incidents;
using Medic.Server.Storage;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Extensions.Options;

namespace Medic.Server.Detection.Webhooks;

/// <summary>
/// Alert webhooks: senders post to <c>/api/v1/webhooks/alerts/{tenant_slug}/{source}</c> with the
/// tenant's webhook credentials (not a user's); admins read the URLs and credentials and rotate them.
/// </summary>
internal static class WebhooksApi
{
    public static IServiceCollection AddWebhooks(this IServiceCollection services)
    {
        services.AddSingleton<WebhookCredentialStore>();
        services.AddSingleton<WebhookAudit>();
        services.AddSingleton<WebhookMappingStore>();
        services.AddSingleton<AlertTypeStore>();
        services.AddSingleton<ITenantSources>(sp => sp.GetRequiredService<WebhookMappingStore>());
        services.AddSingleton<WebhookDeliveryLog>();
        services.AddSingleton<WebhookRateLimits>();
        services.AddSingleton<WebhookMetrics>();
        services.AddSingleton<IMetricInstruments>(sp => sp.GetRequiredService<WebhookMetrics>());
        return services;
    }

    public const int MaxBodyBytes = 1024 * 1024;
    private const int MaxDiscardBytes = 8 * 1024 * 1024;
    public const string DeliveryPath = "/api/v1/webhooks/alerts";

    public static readonly TimeSpan DefaultOverlap = TimeSpan.FromHours(24);
    public static readonly TimeSpan MaxOverlap = TimeSpan.FromDays(30);

    public static IEndpointRouteBuilder MapWebhooks(this IEndpointRouteBuilder app)
    {
        // Not under the rate limiting middleware: the budgets are taken after authentication (WebhookRateLimits).
        app.MapPost(DeliveryPath + "/{tenant_slug}/{source}", Deliver).AllowAnonymous().WithTags("Webhooks")
            .WithSummary("An alert sender delivers alerts (Alertmanager, Grafana, Datadog, PagerDuty or the generic format), authenticated by the tenant's webhook credentials.");

        var group = app.MapGroup("/api/v1/webhooks").WithTags("Webhooks").Requires(Permission.Administer);
        group.MapGet("/", Show).WithSummary("Each source's URL, the tenant's webhook secret and token (created on first use), and sender configuration to paste.");
        group.MapPost("/rotate", Rotate).WithSummary("New webhook secret and token; the old ones keep working for the overlap (default 24h).");
        group.MapPut("/sources/{source}/secret", SetSecret).WithSummary("Sets the signing secret one source signs with (PagerDuty generates its own); replaces the one set before.");
        group.MapDelete("/sources/{source}/secret", (string source, WebhookCredentialStore store, HttpContext http, CancellationToken ct) =>
            ClearAsync(source, WebhookCredentialStore.SigningSecretKind, store, http, ct)).WithSummary("Removes the signing secret set for one source.");
        group.MapPut("/sources/{source}/basic-auth", SetBasicAuth).WithSummary("Sets the HTTP basic auth user name and password one source presents; replaces the pair set before.");
        group.MapDelete("/sources/{source}/basic-auth", (string source, WebhookCredentialStore store, HttpContext http, CancellationToken ct) =>
            ClearAsync(source, WebhookCredentialStore.BasicAuthKind, store, http, ct)).WithSummary("Removes the basic auth set for one source.");
        group.MapGet("/sources/{source}/deliveries", Deliveries).WithSummary("The source's last deliveries (newest first) with the reason for each refusal, and refusals counted by reason.");
        app.MapWebhookMappings();
        app.MapAlertTypes();
        return app;
    }

    public const int MinSecretLength = 16;
    private const int MaxSecretLength = 1000;

    private static ProblemHttpResult? UnknownSource(string source) => WebhookAdapters.BySource.ContainsKey(source)
        ? null
        : Problems.NotFound("webhook source", WebhookText.Clean(source, 60), "medic webhooks show");

    private static async Task<Results<Ok<WebhookSourceCredentialResponse>, ProblemHttpResult, ValidationProblem>> SetSecret(
        string source, SetWebhookSecretRequest request, WebhookCredentialStore store, HttpContext http, CancellationToken ct)
    {
        if (UnknownSource(source) is { } unknown) return unknown;
        var v = new Validator();
        CheckSecret(v, "secret", request.Secret);
        if (!v.Ok) return v.Problem();
        var caller = http.Caller();
        var set = await store.SetSourceCredentialAsync(caller.TenantId, source, WebhookCredentialStore.SigningSecretKind, request.Secret, null, caller.Actor, http.ClientAddress(), ct);
        http.MarkAudited();
        return TypedResults.Ok(set);
    }

    private static async Task<Results<Ok<WebhookSourceCredentialResponse>, ProblemHttpResult, ValidationProblem>> SetBasicAuth(
        string source, SetWebhookBasicAuthRequest request, WebhookCredentialStore store, HttpContext http, CancellationToken ct)
    {
        if (UnknownSource(source) is { } unknown) return unknown;
        var v = new Validator();
        v.Require("username", request.Username, 200);
        v.Check(!request.Username.Contains(':', StringComparison.Ordinal), "username", "cannot contain ':' (HTTP basic auth separates the user name from the password with it)");
        v.Check(!request.Username.Any(char.IsControl), "username", "cannot contain control characters");
        CheckSecret(v, "password", request.Password);
        if (!v.Ok) return v.Problem();
        var caller = http.Caller();
        var set = await store.SetSourceCredentialAsync(caller.TenantId, source, WebhookCredentialStore.BasicAuthKind, request.Username + ":" + request.Password, request.Username,
            caller.Actor, http.ClientAddress(), ct);
        http.MarkAudited();
        return TypedResults.Ok(set);
    }

    private static void CheckSecret(Validator v, string field, string? value)
    {
        if (value is null || value.Length < MinSecretLength)
        {
            v.Add(field, $"must be at least {MinSecretLength} characters; use the value the sender generated, or a random one (openssl rand -hex 32)");
        }
        else if (value.Length > MaxSecretLength)
        {
            v.Add(field, $"is {value.Length} characters long; the limit is {MaxSecretLength}");
        }
        else if (value.Any(char.IsControl) || value.Trim().Length != value.Length)
        {
            v.Add(field, "cannot contain control characters or start or end with white space (a pasted line break?)");
        }
    }

    private static async Task<Results<NoContent, ProblemHttpResult>> ClearAsync(string source, string kind, WebhookCredentialStore store, HttpContext http, CancellationToken ct)
    {
        if (UnknownSource(source) is { } unknown) return unknown;
        var caller = http.Caller();
        if (!await store.ClearSourceCredentialAsync(caller.TenantId, source, kind, caller.Actor, http.ClientAddress(), ct))
        {
            return Problems.Of(StatusCodes.Status404NotFound, "Not found", $"No {kind.Replace('_', ' ')} is set for {source}.", "'medic webhooks show' lists what is set for each source");
        }

        http.MarkAudited();
        return TypedResults.NoContent();
    }

    private static async Task<Results<Ok<WebhookDeliveriesResponse>, ProblemHttpResult>> Deliveries(
        string source, int? limit, WebhookDeliveryLog log, HttpContext http, CancellationToken ct)
    {
        if (UnknownSource(source) is { } unknown) return unknown;
        if (limit is < 1 or > WebhookDeliveryLog.Kept)
        {
            return Problems.Invalid($"limit must be between 1 and {WebhookDeliveryLog.Kept}.", $"ask for at most the {WebhookDeliveryLog.Kept} deliveries each source keeps");
        }

        return TypedResults.Ok(await log.ReadAsync(http.Caller().TenantId, source, limit ?? 50, ct));
    }

    private static async Task<Results<Ok<WebhookDeliveryResponse>, ProblemHttpResult>> Deliver(
        [FromRoute(Name = "tenant_slug")] string tenantSlug,
        string source,
        WebhookCredentialStore credentials,
        WebhookMappingStore mappings,
        AlertTypeStore types,
        IIncidentIngest ingest,
        WebhookAudit audit,
        WebhookDeliveryLog log,
        WebhookMetrics metrics,
        WebhookRateLimits limits,
        TimeProvider time,
        HttpContext http,
        CancellationToken ct)
    {
        var client = http.ClientAddress();
        // A name that is no built-in source may be one of the tenant's mapped sources, found once the tenant is known.
        if (!WebhookAdapters.BySource.TryGetValue(source, out var adapter) && !MappedAdapter.IsName(source))
        {
            if (limits.Refused(client) is { } wait) return TooMany(http, wait);
            return Problems.Of(StatusCodes.Status400BadRequest, "Unknown webhook source", $"No webhook source '{WebhookText.Clean(source, 60)}'.",
                $"post to one of: {string.Join(", ", WebhookAdapters.Sources)}; 'medic webhooks show' prints each URL");
        }

        var tenant = await credentials.FindAsync(tenantSlug, source, ct);
        var started = time.GetUtcNow();
        void Log(int status, WebhookOutcome outcome, string? scheme, int alerts, string? detail)
        {
            if (tenant is null) return;
            log.Record(new WebhookDeliveryRecord(tenant.TenantId, source, started, status, outcome, scheme, client, alerts, detail));
            metrics.Delivered(tenant.TenantId, source, outcome);
        }

        if (http.Request.ContentLength is { } declared && declared > MaxBodyBytes)
        {
            await DiscardAsync(http, declared, ct);
            Log(StatusCodes.Status413PayloadTooLarge, WebhookOutcome.TooLarge, null, 0, $"the body is declared as {declared} bytes");
            return TooLarge(declared);
        }

        var (body, length) = await ReadBodyAsync(http.Request, ct);
        if (body is null)
        {
            http.Response.Headers.Connection = "close";
            Log(StatusCodes.Status413PayloadTooLarge, WebhookOutcome.TooLarge, null, 0, $"the body is {length} bytes or more");
            return TooLarge(length);
        }

        var now = time.GetUtcNow();
        // An unknown tenant is checked against no credentials, so it is refused the same way, and after the same work, as a wrong credential.
        var auth = tenant is not null && !tenant.Credentials.Any
            ? new WebhookAuthResult(null, "this tenant has no webhook credentials yet: a tenant admin runs 'medic webhooks show' to create them", WebhookOutcome.NotConfigured)
            : WebhookAuthenticator.Check(http.Request.Headers, body.Value.Span, tenant?.Credentials ?? NoCredentials, now);
        if (!auth.Ok)
        {
            if (limits.Refused(client) is { } wait)
            {
                Log(StatusCodes.Status429TooManyRequests, WebhookOutcome.RateLimited, null, 0, $"this address's refused deliveries for this minute are spent; the delivery was refused because {auth.Problem}");
                return TooMany(http, wait);
            }

            Log(StatusCodes.Status401Unauthorized, auth.Reason, null, 0, auth.Problem);
            return NotAuthenticated();
        }

        if (limits.Sender(tenant!.TenantId, source) is { } spent)
        {
            Log(StatusCodes.Status429TooManyRequests, WebhookOutcome.RateLimited, auth.Scheme, 0, "the source's deliveries for this minute are spent");
            return TooMany(http, spent);
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
            Log(StatusCodes.Status400BadRequest, WebhookOutcome.MalformedPayload, auth.Scheme, 0, parsed.Problem);
            return Problems.Of(StatusCodes.Status400BadRequest, "Invalid payload", $"The {source} payload cannot be read: {parsed.Problem}.",
                $"send the {source} payload as the sender emits it; docs/webhooks.md describes each format");
        }

        var signals = parsed.Signals;
        if (signals.Count > 0)
        {
            var rules = await types.MatchersAsync(tenant.TenantId, ct);
            signals = [.. signals.Select(s => AlertClassifier.Classify(s, rules))];
        }

        var outcomes = signals.Count == 0 ? [] : await IngestAsync(ingest, signals, ct);
        int Count(IngestAction action) => outcomes.Count(o => o.Action == action);
        var response = new WebhookDeliveryResponse(source, parsed.Signals.Count, Count(IngestAction.Created), Count(IngestAction.Updated), Count(IngestAction.Reopened), Count(IngestAction.Resolved), Count(IngestAction.Ignored),
            outcomes.Where(o => o.IncidentId is not null).Select(o => o.IncidentId!).Distinct(StringComparer.Ordinal).ToList(), Count(IngestAction.Duplicate), parsed.Test);

        await audit.AppendAsync(new AuditRecord(tenant.TenantId, adapter.Actor, "webhook.deliver", "webhook:" + source, AuditOutcomes.Success, client,
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
        Log(StatusCodes.Status200OK, WebhookOutcome.Accepted, auth.Scheme, response.Alerts, null);
        return TypedResults.Ok(response);
    }

    private static readonly WebhookCredentialSet NoCredentials = new([], []);

    /// <summary>
    /// The one answer for every delivery that is not let in: an unknown tenant, a tenant without
    /// credentials and a wrong credential look the same, so the endpoint does not tell which tenants
    /// exist. Why it was refused is in the source's delivery log, for the tenant's admins.
    /// </summary>
    private static ProblemHttpResult NotAuthenticated() =>
        TypedResults.Problem(
            detail: "The delivery was refused: the tenant and the credentials it carries do not match.",
            statusCode: StatusCodes.Status401Unauthorized, title: "Not authenticated", instance: DeliveryPath,
            extensions: new Dictionary<string, object?>
            {
                ["remedy"] = "check the URL and the sender's credentials against 'medic webhooks show'; 'medic webhooks deliveries SOURCE' says why each delivery was refused",
            });

    private static ProblemHttpResult TooMany(HttpContext http, TimeSpan wait)
    {
        var seconds = Math.Max(1, (int)Math.Ceiling(wait.TotalSeconds));
        http.Response.Headers.RetryAfter = seconds.ToString(CultureInfo.InvariantCulture);
        return Problems.Of(StatusCodes.Status429TooManyRequests, "Too many requests", $"The delivery budget for this minute is spent; try again in {seconds} s.",
            $"wait {seconds} seconds before retrying; raise rate_limits.webhooks_per_minute if the sender legitimately sends more");
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
            catch (Exception ex) when (attempt < 3 && (ErrorStatus.IsDuplicate(ex) || ex is Npgsql.PostgresException { SqlState: "40001" or "40P01" }))
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
        return TypedResults.Ok(Response(view, caller.TenantSlug, options.Value, http) with { SourceCredentials = await credentials.SourceCredentialsAsync(caller.TenantId, ct) });
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
        return TypedResults.Ok(Response(view, caller.TenantSlug, options.Value, http) with { SourceCredentials = await credentials.SourceCredentialsAsync(caller.TenantId, ct) });
    }

    private static WebhooksResponse Response(WebhookCredentialsView view, string tenantSlug, MedicOptions options, HttpContext http)
    {
        var baseUrl = $"{http.Request.Scheme}://{http.Request.Host}{http.Request.PathBase}";
        return new WebhooksResponse(tenantSlug, view.SigningSecret, view.BearerToken, view.CreatedAt, view.Retired,
            options.RateLimits.WebhooksPerMinute, MaxBodyBytes, WebhookSetup.Sources(baseUrl, tenantSlug, view.SigningSecret, view.BearerToken));
    }
}
