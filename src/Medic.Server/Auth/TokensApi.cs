using Medic.Contracts;
using Medic.Server.Audit;
using Medic.Server.Common;
using Medic.Server.Storage;
using Microsoft.AspNetCore.Http.HttpResults;

namespace Medic.Server.Auth;

/// <summary>API tokens. Admins see and revoke every token of their tenant; others only their own.</summary>
internal static class TokensApi
{
    public static IEndpointRouteBuilder MapTokens(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/api/v1/tokens").WithTags("Tokens").Requires(Permission.Read);
        group.MapGet("/", List).WithSummary("API tokens (never their secrets).");
        group.MapGet("/{id}", Get).WithSummary("One API token.");
        group.MapPost("/", Create).WithSummary("Create an API token for the caller; the secret is in the response and nowhere else.");
        group.MapDelete("/{id}", Revoke).WithSummary("Revoke an API token.");
        return app;
    }

    private static string? OwnerFilter(Caller c) => Permissions.Allows(c.Role, c.Superadmin, Permission.Administer) ? null : c.UserId;

    private static async Task<Ok<IReadOnlyList<TokenResponse>>> List(TokenStore tokens, HttpContext http, CancellationToken ct)
    {
        var c = http.Caller();
        return TypedResults.Ok<IReadOnlyList<TokenResponse>>((await tokens.ListAsync(c.TenantId, OwnerFilter(c), ct)).Select(t => t.ToResponse()).ToList());
    }

    private static async Task<Results<Ok<TokenResponse>, ProblemHttpResult>> Get(string id, TokenStore tokens, HttpContext http, CancellationToken ct)
    {
        var c = http.Caller();
        var token = await tokens.FindAsync(c.TenantId, id, ct);
        return token is not null && (OwnerFilter(c) is null || token.UserId == c.UserId) ? TypedResults.Ok(token.ToResponse()) : Problems.NotFound("token", id, "medic tokens list");
    }

    private static async Task<Results<Created<TokenCreatedResponse>, ProblemHttpResult, ValidationProblem>> Create(
        CreateTokenRequest request, Accounts accounts, HttpContext http, CancellationToken ct)
    {
        var c = http.Caller();
        var v = new Validator().Require("name", request.Name, 100);
        var role = request.Role ?? c.Role;
        if (role == Role.Metrics)
        {
            v.Check(Permissions.MayMintMetrics(c.Role, c.Superadmin), "role",
                "only a superadmin signed in as admin creates a 'metrics' token: /metrics shows every tenant's series (docs/metrics.md)");
        }
        else
        {
            v.Check(Permissions.Covers(c.Role, role), "role", $"your role ({c.Role.ToWire()}) cannot create a token with role '{role.ToWire()}'");
        }

        var (lifetime, error) = accounts.Lifetime(request.ExpiresIn);
        if (error is not null) v.Add("expires_in", error);
        if (!v.Ok) return v.Problem();

        var issued = await accounts.IssueTokenAsync(c, request.Name, role, lifetime!.Value, c.Actor, http.ClientAddress(), ct);
        http.MarkAudited();
        return TypedResults.Created($"/api/v1/tokens/{issued.Token.Id}", new TokenCreatedResponse(issued.Token.ToResponse(), issued.Secret));
    }

    private static async Task<Results<Ok<TokenResponse>, ProblemHttpResult>> Revoke(
        string id, Database db, AuditLog audit, TimeProvider time, HttpContext http, CancellationToken ct)
    {
        var c = http.Caller();
        return await db.WriteAsync<Results<Ok<TokenResponse>, ProblemHttpResult>>(async (conn, tx) =>
        {
            var token = await TokenStore.FindAsync(conn, tx, c.TenantId, id);
            if (token is null || (OwnerFilter(c) is not null && token.UserId != c.UserId)) return Problems.NotFound("token", id, "medic tokens list");
            var details = new Dictionary<string, string> { ["name"] = token.Name, ["owner"] = token.Username, ["prefix"] = token.Prefix };
            if (token.RevokedAt is null)
            {
                var now = time.GetUtcNow();
                await TokenStore.RevokeAsync(conn, tx, c.TenantId, token.Id, now);
                token.RevokedAt = now;
            }
            else
            {
                details["already_revoked_at"] = AuditChain.FormatTime(token.RevokedAt.Value);
            }

            await audit.AppendAsync(conn, tx, new AuditRecord(c.TenantId, c.Actor, "token.revoke", "token:" + token.Id, AuditOutcomes.Success, http.ClientAddress(), details));

            http.MarkAudited();
            return TypedResults.Ok(token.ToResponse());
        }, ct);
    }
}
