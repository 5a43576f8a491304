using System.Text;
using Medic.Contracts;
using Medic.Server.Audit;
using Medic.Server.Auth;
using Medic.Server.Common;
using Microsoft.AspNetCore.Http.HttpResults;

namespace Medic.Server.Secrets;

/// <summary>
/// Named secrets, for the tenant's admins: <c>PUT /api/v1/secrets/{name}</c> sets one,
/// <c>GET</c> lists them or shows one, <c>DELETE</c> removes one. Write-only: no answer ever holds
/// a value, nor a hash or any part of one; only its length.
/// </summary>
internal static class SecretsApi
{
    public const int MaxDescription = 500;

    public static IEndpointRouteBuilder MapSecrets(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/api/v1/secrets").WithTags("Secrets").Requires(Permission.Administer);
        group.MapGet("/", List).WithSummary("The tenant's secrets: names and metadata, never values.");
        group.MapGet("/{name}", Get).WithSummary("One secret's metadata (description, length, who set it and when); never its value.");
        group.MapPut("/{name}", Put).WithSummary("Create or replace a secret: {value, description?}. The value is sealed with the master key and can never be read back through the API.");
        group.MapDelete("/{name}", Delete).WithSummary("Remove a secret; runbooks, channels and models that name it fail clearly until it is set again.");
        return app;
    }

    private static async Task<Ok<IReadOnlyList<SecretResponse>>> List(SecretStore store, HttpContext http, CancellationToken ct) =>
        TypedResults.Ok<IReadOnlyList<SecretResponse>>([.. (await store.ListAsync(http.Caller().TenantId, ct)).Select(r => r.ToResponse())]);

    private static async Task<Results<Ok<SecretResponse>, ProblemHttpResult>> Get(string name, SecretStore store, HttpContext http, CancellationToken ct) =>
        await store.FindAsync(http.Caller().TenantId, name, ct) is { } row
            ? TypedResults.Ok(row.ToResponse())
            : NotFound(name);

    private static async Task<Results<Ok<SecretResponse>, Created<SecretResponse>, ProblemHttpResult>> Put(
        string name, SetSecretRequest? request, SecretStore store, HttpContext http, CancellationToken ct)
    {
        if (Invalid(name, request) is { } problem) return problem;
        var caller = http.Caller();
        var saved = await store.SetAsync(caller.TenantId, name, request!.Value!, request.Description, caller.Actor, http.ClientAddress(), ct);
        if (saved is not { } s)
        {
            return Problems.Conflict($"The tenant already has {SecretStore.MaxPerTenant} secrets.", "remove one with 'medic secrets delete NAME' first");
        }

        http.MarkAudited();
        return s.Created ? TypedResults.Created($"/api/v1/secrets/{name}", s.Row.ToResponse()) : TypedResults.Ok(s.Row.ToResponse());
    }

    private static async Task<Results<NoContent, ProblemHttpResult>> Delete(string name, SecretStore store, HttpContext http, CancellationToken ct)
    {
        var caller = http.Caller();
        if (!await store.DeleteAsync(caller.TenantId, name, caller.Actor, http.ClientAddress(), ct)) return NotFound(name);
        http.MarkAudited();
        return TypedResults.NoContent();
    }

    private static ProblemHttpResult NotFound(string name) =>
        Problems.NotFound("secret", SecretNames.IsValid(name) ? name : Texts.Truncate(name, 64), "medic secrets list");

    private static ProblemHttpResult? Invalid(string name, SetSecretRequest? request)
    {
        if (!SecretNames.IsValid(name))
        {
            return Problems.Invalid($"'{Texts.Truncate(name, 64)}' is not a secret name.", SecretNames.Rule);
        }

        if (request?.Value is not { Length: > 0 } value)
        {
            return Problems.Invalid("The secret has no value.", "send {\"value\": \"...\"} with the value, e.g. medic secrets set NAME < file");
        }

        var bytes = Encoding.UTF8.GetByteCount(value);
        if (bytes > SecretNames.MaxValueBytes)
        {
            return Problems.Invalid($"The value is {bytes} bytes long; a secret holds at most {SecretNames.MaxValueBytes} bytes (64 KiB).",
                "store a smaller value, such as a key or token; keep large files (certificates bundles, keytabs) on the servers themselves");
        }

        if (value.Contains('\0', StringComparison.Ordinal))
        {
            return Problems.Invalid("The value contains a NUL character (\\u0000), which a command's argument or environment cannot carry.", "remove the NUL character from the value");
        }

        if (request.Description is { Length: > MaxDescription } || request.Description?.Contains('\0', StringComparison.Ordinal) == true)
        {
            return Problems.Invalid($"The description is longer than {MaxDescription} characters or contains a NUL character.", $"give a description of at most {MaxDescription} characters");
        }

        return null;
    }
}
