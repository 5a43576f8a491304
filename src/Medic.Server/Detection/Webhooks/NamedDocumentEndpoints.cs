using Medic.Server.Audit;
using Medic.Server.Auth;
using Medic.Server.Common;
using Microsoft.AspNetCore.Http.HttpResults;

namespace Medic.Server.Detection.Webhooks;

/// <summary>
/// How the API and its problems name one kind of named document: <c>classification rule</c>, its
/// plural, and the CLI command that lists and removes them (<c>medic webhooks types</c>).
/// </summary>
internal sealed record NamedDocumentKind(string Singular, string Plural, string Command);

/// <summary>The PUT and DELETE of a <see cref="NamedDocumentStore{T}"/>'s documents, answered the same way for each kind (admins; audited).</summary>
internal static class NamedDocumentEndpoints
{
    /// <summary>Creates or replaces the document once <paramref name="errors"/> (the caller's validation) is empty; a 409 when the tenant has the most it may.</summary>
    public static async Task<Results<Ok<TResponse>, ValidationProblem, ProblemHttpResult>> PutAsync<T, TResponse>(
        NamedDocumentStore<T> store, NamedDocumentKind kind, string name, T? value, Dictionary<string, string[]> errors, Func<NamedDocument<T>, TResponse> response,
        HttpContext http, CancellationToken ct)
    {
        if (errors.Count > 0) return Problems.Validation(errors);
        var caller = http.Caller();
        var row = await store.SaveAsync(caller.TenantId, name, value!, caller.Actor, http.ClientAddress(), ct);
        if (row is null)
        {
            return Problems.Conflict($"The tenant already has {store.Limit} {kind.Plural}.", $"remove one with '{kind.Command} remove NAME' first");
        }

        http.MarkAudited();
        return TypedResults.Ok(response(row));
    }

    public static async Task<Results<NoContent, ProblemHttpResult>> DeleteAsync<T>(NamedDocumentStore<T> store, NamedDocumentKind kind, string name, HttpContext http, CancellationToken ct)
    {
        var caller = http.Caller();
        if (!await store.DeleteAsync(caller.TenantId, name, caller.Actor, http.ClientAddress(), ct))
        {
            return Problems.NotFound(kind.Singular, WebhookText.Clean(name, 60), kind.Command + " list");
        }

        http.MarkAudited();
        return TypedResults.NoContent();
    }
}
