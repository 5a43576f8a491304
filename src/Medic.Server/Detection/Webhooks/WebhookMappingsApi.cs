using Medic.Contracts;
using Medic.Server.Audit;
using Medic.Server.Auth;
using Medic.Server.Common;
using Microsoft.AspNetCore.Http.HttpResults;

namespace Medic.Server.Detection.Webhooks;

/// <summary>
/// Mapped sources: <c>PUT /api/v1/webhooks/mappings/{name}</c> with a <see cref="WebhookMapping"/>
/// makes <c>/api/v1/webhooks/alerts/{tenant}/{name}</c> accept that sender's JSON (admins).
/// </summary>
internal static class WebhookMappingsApi
{
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

    private static async Task<Results<Ok<WebhookMappingResponse>, ValidationProblem, ProblemHttpResult>> Put(
        string name, WebhookMapping? mapping, WebhookMappingStore store, HttpContext http, CancellationToken ct)
    {
        var errors = MappedAdapter.Validate(name, mapping);
        if (errors.Count > 0) return Problems.Validation(errors);
        var caller = http.Caller();
        var row = await store.SaveAsync(caller.TenantId, name, mapping!, caller.Actor, http.ClientAddress(), ct);
        if (row is null)
        {
            return Problems.Conflict($"The tenant already has {WebhookMappingStore.MaxPerTenant} mapped sources.", "remove one with 'medic webhooks mapping remove NAME' first");
        }

        http.MarkAudited();
        return TypedResults.Ok(Response(row, caller.TenantSlug, http));
    }

    private static async Task<Results<NoContent, ProblemHttpResult>> Delete(string name, WebhookMappingStore store, HttpContext http, CancellationToken ct)
    {
        var caller = http.Caller();
        if (!await store.DeleteAsync(caller.TenantId, name, caller.Actor, http.ClientAddress(), ct))
        {
            return Problems.NotFound("mapped source", WebhookText.Clean(name, 60), "medic webhooks mapping list");
        }

        http.MarkAudited();
        return TypedResults.NoContent();
    }

    private static WebhookMappingResponse Response(NamedDocument<WebhookMapping> row, string tenantSlug, HttpContext http) =>
        new(row.Name, WebhookSetup.Url($"{http.Request.Scheme}://{http.Request.Host}{http.Request.PathBase}", tenantSlug, row.Name), row.Value, row.UpdatedBy, row.UpdatedAt);
}
