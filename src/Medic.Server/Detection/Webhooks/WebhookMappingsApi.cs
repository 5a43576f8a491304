using Medic.Contracts;
using Medic.Server.Auth;
using Microsoft.AspNetCore.Http.HttpResults;

namespace Medic.Server.Detection.Webhooks;

/// <summary>
/// Mapped sources: <c>PUT /api/v1/webhooks/mappings/{name}</c> with a <see cref="WebhookMapping"/>
/// makes <c>/api/v1/webhooks/alerts/{tenant}/{name}</c> accept that sender's JSON (admins).
/// </summary>
internal static class WebhookMappingsApi
{
    private static readonly NamedDocumentKind Kind = new("mapped source", "mapped sources", "medic webhooks mapping");

    public static IEndpointRouteBuilder MapWebhookMappings(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/api/v1/webhooks/mappings").WithTags("Webhooks").Requires(Permission.Administer);
        group.MapGet("/", List).WithSummary("The tenant's mapped sources: each name, URL and field mapping.");
        group.MapPut("/{name}", Put).WithSummary("Create or replace a mapped source: JSON paths to title, fingerprint, status, severity, host and summary.");
        group.MapDelete("/{name}", Delete).WithSummary("Remove a mapped source; deliveries to its URL are refused from then on.");
        return app;
    }

    private static async Task<Ok<IReadOnlyList<WebhookMappingResponse>>> List(WebhookMappingStore store, HttpContext http, CancellationToken ct)
    {
        var caller = http.Caller();
        var rows = await store.ListAsync(caller.TenantId, ct);
        return TypedResults.Ok<IReadOnlyList<WebhookMappingResponse>>(rows.Select(r => Response(r, caller.TenantSlug, http)).ToList());
    }

    private static Task<Results<Ok<WebhookMappingResponse>, ValidationProblem, ProblemHttpResult>> Put(
        string name, WebhookMapping? mapping, WebhookMappingStore store, HttpContext http, CancellationToken ct) =>
        NamedDocumentEndpoints.PutAsync(store, Kind, name, mapping, MappedAdapter.Validate(name, mapping), row => Response(row, http.Caller().TenantSlug, http), http, ct);

    private static Task<Results<NoContent, ProblemHttpResult>> Delete(string name, WebhookMappingStore store, HttpContext http, CancellationToken ct) =>
        NamedDocumentEndpoints.DeleteAsync(store, Kind, name, http, ct);

    private static WebhookMappingResponse Response(NamedDocument<WebhookMapping> row, string tenantSlug, HttpContext http) =>
        new(row.Name, WebhookSetup.Url($"{http.Request.Scheme}://{http.Request.Host}{http.Request.PathBase}", tenantSlug, row.Name), row.Value, row.UpdatedBy, row.UpdatedAt);
}
