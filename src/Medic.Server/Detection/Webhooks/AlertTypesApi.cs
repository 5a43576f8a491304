using Medic.Contracts;
using Medic.Server.Auth;
using Medic.Server.Common;
using Microsoft.AspNetCore.Http.HttpResults;

namespace Medic.Server.Detection.Webhooks;

/// <summary>
/// Alert classification: <c>GET /api/v1/webhooks/types</c> lists the tenant's rules then the built-in
/// ones; <c>PUT/DELETE /api/v1/webhooks/types/{name}</c> change the tenant's (admins);
/// <c>POST /api/v1/webhooks/types/test</c> says what an alert would become.
/// </summary>
internal static class AlertTypesApi
{
    private static readonly NamedDocumentKind Kind = new("classification rule", "classification rules", "medic webhooks types");

    public static IEndpointRouteBuilder MapAlertTypes(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/api/v1/webhooks/types").WithTags("Webhooks").Requires(Permission.Administer);
        group.MapGet("/", List).WithSummary("The rules that give webhook alerts an incident type: the tenant's (tried first, by name), then the built-in ones.");
        group.MapPost("/test", Test).WithSummary("The type and derived labels an alert with this name, title, labels and source would get.");
        group.MapPut("/{name}", Put).WithSummary("Create or replace a classification rule: type, and alertname, alertname_regex, labels or source to match.");
        group.MapDelete("/{name}", Delete).WithSummary("Remove one of the tenant's classification rules.");
        return app;
    }

    private static async Task<Ok<IReadOnlyList<AlertTypeRuleResponse>>> List(AlertTypeStore store, HttpContext http, CancellationToken ct)
    {
        var rows = await store.ListAsync(http.Caller().TenantId, ct);
        var builtIn = AlertClassifier.BuiltIn.Select(m => new AlertTypeRuleResponse(m.Name,
            m.Names.Count == 0 ? m.Rule : m.Rule with { Alertname = string.Join(" | ", m.Names) }, true));
        return TypedResults.Ok<IReadOnlyList<AlertTypeRuleResponse>>([.. rows.Select(AlertTypeStore.Response), .. builtIn]);
    }

    private static async Task<Results<Ok<AlertTypeTestResponse>, ProblemHttpResult>> Test(AlertTypeTestRequest? request, AlertTypeStore store, HttpContext http, CancellationToken ct)
    {
        if (request is null || (request.Alertname is null && request.Title is null && request.Labels is not { Count: > 0 }))
        {
            return Problems.Invalid("Give the alert's alertname, title or labels.", "e.g. {\"alertname\": \"HostOutOfDiskSpace\", \"labels\": {\"mountpoint\": \"/var\"}}");
        }

        var labels = request.Labels ?? new Dictionary<string, string>();
        if (request.Alertname is not null && !labels.ContainsKey("alertname")) labels = new Dictionary<string, string>(labels) { ["alertname"] = request.Alertname };
        var source = request.Source ?? Incidents.IncidentSources.Alertmanager;
        var (type, rule) = AlertClassifier.TypeOf(source, AlertClassifier.AlertName(labels, request.Title), labels, await store.MatchersAsync(http.Caller().TenantId, ct));
        return TypedResults.Ok(new AlertTypeTestResponse(type, rule, AlertClassifier.DerivedLabels(type, labels, request.Title)));
    }

    private static Task<Results<Ok<AlertTypeRuleResponse>, ValidationProblem, ProblemHttpResult>> Put(
        string name, AlertTypeRule? rule, AlertTypeStore store, HttpContext http, CancellationToken ct) =>
        NamedDocumentEndpoints.PutAsync(store, Kind, name, rule, AlertClassifier.Validate(name, rule), AlertTypeStore.Response, http, ct);

    private static Task<Results<NoContent, ProblemHttpResult>> Delete(string name, AlertTypeStore store, HttpContext http, CancellationToken ct) =>
        NamedDocumentEndpoints.DeleteAsync(store, Kind, name, http, ct);
}
