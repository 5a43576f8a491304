using System.Text.Json;
using System.Text.RegularExpressions;
using Medic.Contracts;
using Medic.Contracts.Agent;
using Medic.Server.Audit;
using Medic.Server.Auth;
using Medic.Server.Common;
using Medic.Server.Storage;
using Microsoft.AspNetCore.Http.HttpResults;

namespace Medic.Server.Fleet;

/// <summary>Enrollment tokens (admins) and the agent's exchange of one for a node credential.</summary>
internal static partial class EnrollmentApi
{
    public const string EnrollRateLimit = "enroll";
    public const string TokenScheme = "mde_";

    [GeneratedRegex("^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$")]
    internal static partial Regex NodeNamePattern();

    public static IEndpointRouteBuilder MapEnrollment(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/api/v1/enrollment-tokens").WithTags("Fleet").Requires(Permission.Administer);
        group.MapGet("/", List).WithSummary("Enrollment tokens of the tenant (never their secrets).");
        group.MapPost("/", Create).WithSummary("Create an enrollment token: tags given to enrolled servers, expiry, number of uses.");
        group.MapDelete("/{id}", Revoke).WithSummary("Revoke an enrollment token; servers already enrolled stay.");

        app.MapPost("/agent/v1/enroll", Enroll).AllowAnonymous().RequireRateLimiting(EnrollRateLimit).WithTags("Agent")
            .WithSummary("An agent exchanges an enrollment token for its node credential and the task-signing public key.");
        return app;
    }

    private static async Task<Ok<IReadOnlyList<EnrollmentTokenResponse>>> List(NodeStore nodes, HttpContext http, CancellationToken ct) =>
        TypedResults.Ok<IReadOnlyList<EnrollmentTokenResponse>>((await nodes.ListEnrollmentTokensAsync(http.Caller().TenantId, ct)).Select(t => t.ToResponse()).ToList());

    private static async Task<Results<Created<EnrollmentTokenCreatedResponse>, ValidationProblem>> Create(
        CreateEnrollmentTokenRequest request, Database db, AuditLog audit, TimeProvider time, HttpContext http, CancellationToken ct)
    {
        var caller = http.Caller();
        var v = new Validator();
        var tags = request.Tags ?? new Dictionary<string, string>();
        if (Tags.Problem(tags.ToDictionary(kv => kv.Key, kv => (string?)kv.Value)) is { } tagProblem) v.Add("tags", tagProblem);
        var lifetime = TimeSpan.FromHours(24);
        if (request.ExpiresIn is not null && (!Durations.TryParse(request.ExpiresIn, out lifetime) || lifetime > TimeSpan.FromDays(365)))
        {
            v.Add("expires_in", $"use a duration up to 365d; {Duration.Hint}");
        }

        var uses = request.Uses ?? 1;
        v.Check(uses is >= 1 and <= 100_000, "uses", "must be from 1 to 100000");
        if (!v.Ok) return v.Problem();

        var (row, secret) = await CreateTokenAsync(db, audit, time, caller.TenantId, tags, lifetime, uses, caller.Username, caller.Actor, http.ClientAddress(), ct);
        http.MarkAudited();
        return TypedResults.Created($"/api/v1/enrollment-tokens/{row.Id}", new EnrollmentTokenCreatedResponse(row.ToResponse(), secret));
    }

    /// <summary>Creates an enrollment token and its audit entry in one transaction; the secret is returned once.</summary>
    public static async Task<(EnrollmentTokenRow Row, string Secret)> CreateTokenAsync(Database db, AuditLog audit, TimeProvider time, string tenantId,
        IReadOnlyDictionary<string, string> tags, TimeSpan lifetime, int uses, string createdBy, string actor, string? clientAddress, CancellationToken ct)
    {
        var secret = TokenScheme + Ids.Secret(32);
        var now = time.GetUtcNow();
        var row = new EnrollmentTokenRow
        {
            Id = Ids.New("enr"), TenantId = tenantId, Prefix = secret[..12], Tags = Tags.Serialize(tags), UsesAllowed = uses,
            CreatedBy = createdBy, CreatedAt = now, ExpiresAt = now + lifetime,
        };
        await db.WriteAsync(async (c, tx) =>
        {
            await NodeStore.InsertEnrollmentTokenAsync(c, tx, row, secret);
            await audit.AppendAsync(c, tx, new AuditRecord(tenantId, actor, "enrollment_token.create", "enrollment_token:" + row.Id, AuditOutcomes.Success,
                clientAddress, new Dictionary<string, string> { ["tags"] = row.Tags, ["uses"] = uses.ToString(System.Globalization.CultureInfo.InvariantCulture), ["expires_at"] = AuditChain.FormatTime(row.ExpiresAt), ["prefix"] = row.Prefix }));
        }, ct);
        return (row, secret);
    }

    private static async Task<Results<Ok<EnrollmentTokenResponse>, ProblemHttpResult>> Revoke(string id, Database db, AuditLog audit, TimeProvider time, HttpContext http, CancellationToken ct)
    {
        var caller = http.Caller();
        return await db.WriteAsync<Results<Ok<EnrollmentTokenResponse>, ProblemHttpResult>>(async (c, tx) =>
        {
            var token = await NodeStore.FindEnrollmentTokenAsync(c, tx, caller.TenantId, id);
            if (token is null) return Problems.NotFound("enrollment token", id, "medic enroll-token list");
            token.RevokedAt ??= time.GetUtcNow();
            await NodeStore.RevokeEnrollmentTokenAsync(c, tx, caller.TenantId, id, token.RevokedAt.Value);
            await audit.AppendAsync(c, tx, new AuditRecord(caller.TenantId, caller.Actor, "enrollment_token.revoke", "enrollment_token:" + id, AuditOutcomes.Success,
                http.ClientAddress(), new Dictionary<string, string> { ["prefix"] = token.Prefix }));
            http.MarkAudited();
            return TypedResults.Ok(token.ToResponse());
        }, ct);
    }

    private static async Task<Results<Ok<EnrollResponse>, ProblemHttpResult, ValidationProblem>> Enroll(
        EnrollRequest request, Database db, NodeStore nodes, AuditLog audit, TaskSigningKey signing, TimeProvider time, HttpContext http, CancellationToken ct)
    {
        var v = new Validator().Require("token", request.Token, 200).Require("name", request.Name, 63);
        if (!string.IsNullOrEmpty(request.Name)) v.Check(NodeNamePattern().IsMatch(request.Name), "name", "use letters, digits, '.', '_' and '-', starting with a letter or digit");
        var extra = request.Tags ?? new Dictionary<string, string>();
        if (Tags.Problem(extra.ToDictionary(kv => kv.Key, kv => (string?)kv.Value)) is { } tagProblem) v.Add("tags", tagProblem);
        if (!v.Ok) return v.Problem();

        var now = time.GetUtcNow();
        var credential = "mdn_" + Ids.Secret(32);
        return await db.WriteAsync<Results<Ok<EnrollResponse>, ProblemHttpResult, ValidationProblem>>(async (c, tx) =>
        {
            var token = await nodes.FindEnrollmentTokenBySecretAsync(c, tx, request.Token);
            string? refusal = token switch
            {
                null => "The enrollment token is not known.",
                { RevokedAt: not null } => "The enrollment token was revoked.",
                _ when token.ExpiresAt <= now => $"The enrollment token expired at {token.ExpiresAt:u}.",
                _ when token.Uses >= token.UsesAllowed => $"The enrollment token was used {token.Uses} of {token.UsesAllowed} times.",
                _ => null,
            };
            if (refusal is not null)
            {
                return Problems.Of(StatusCodes.Status401Unauthorized, "Enrollment refused", refusal, "ask an admin for a new token: medic enroll-token create");
            }

            if (await NodeStore.NameTakenAsync(c, tx, token!.TenantId, request.Name))
            {
                return Problems.Conflict($"A server named '{request.Name}' is already enrolled in this tenant.", "choose another --name, or remove the old one with 'medic servers remove'");
            }

            var tags = new Dictionary<string, string>(Tags.Deserialize(token.Tags));
            foreach (var (k, val) in extra) tags[k] = val;
            var node = new NodeRow
            {
                Id = Ids.New("nod"), TenantId = token.TenantId, Name = request.Name, Tags = Tags.Serialize(tags), StatusValue = NodeStatus.Offline, EnrolledAt = now,
                Facts = request.Facts is null ? null : JsonSerializer.Serialize(request.Facts, AgentJson.Default.HostFacts),
            };
            await NodeStore.UseEnrollmentTokenAsync(c, tx, token.Id);
            await NodeStore.InsertAsync(c, tx, node, credential);
            await audit.AppendAsync(c, tx, new AuditRecord(token.TenantId, "agent:" + request.Name, "server.enroll", "server:" + node.Id, AuditOutcomes.Success,
                http.ClientAddress(), new Dictionary<string, string> { ["name"] = node.Name, ["tags"] = node.Tags, ["enrollment_token"] = token.Id }));
            http.MarkAudited();
            var slug = await Dapper.SqlMapper.ExecuteScalarAsync<string>(c, "SELECT slug FROM tenants WHERE id = @id", new { id = token.TenantId }, tx) ?? "";
            return TypedResults.Ok(new EnrollResponse(node.Id, node.Name, slug, credential, signing.PublicKey));
        }, ct);
    }
}
