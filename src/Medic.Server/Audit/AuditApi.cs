using System.Globalization;
using System.Text.Json;
using Medic.Contracts;
using Medic.Server.Auth;
using Medic.Server.Common;
using Microsoft.AspNetCore.Http.HttpResults;

namespace Medic.Server.Audit;

/// <summary>
/// Reading, exporting and verifying the caller's tenant chain (admins). Superadmins may name the
/// <c>system</c> chain with <c>?chain=system</c> and verify every chain with <c>?all=true</c>.
/// </summary>
internal static class AuditApi
{
    public static IServiceCollection AddAudit(this IServiceCollection services, MedicOptions options)
    {
        services.AddSingleton<AuditLog>();
        services.AddSingleton(_ => AuditCheckpointKey.LoadOrCreate(options.AuditCheckpointKeyPath));
        services.AddSingleton<AuditCheckpointer>();
        services.AddHostedService(sp => sp.GetRequiredService<AuditCheckpointer>());
        services.AddHttpClient(AuditCheckpointer.HttpClientName, c => c.DefaultRequestHeaders.UserAgent.ParseAdd("medic-audit/" + MedicVersion.Current))
            .ConfigurePrimaryHttpMessageHandler(() => new SocketsHttpHandler { AllowAutoRedirect = false, UseCookies = false })
            .RemoveAllLoggers(); // the webhook URL may carry a token
        return services;
    }

    public static IEndpointRouteBuilder MapAudit(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/api/v1/audit").WithTags("Audit").Requires(Permission.Administer);
        group.MapGet("/", List).WithSummary("Audit entries, newest first. Filters: since, until, actor, action, target, outcome; paging with before and limit.");
        group.MapGet("/export", Export).WithSummary("The whole chain (or a time range), oldest first, as JSON lines.");
        group.MapGet("/verify", Verify).WithSummary("Recompute the hash chain and report the first broken entry.");
        group.MapPost("/checkpoints", Checkpoint).WithSummary("Sign the chain's head now (unless the latest checkpoint covers it) and return the checkpoint; all=true: every chain (superadmins).");
        group.MapGet("/checkpoints", Checkpoints).WithSummary("The chain's signed checkpoints, oldest first.");
        group.MapGet("/checkpoints/export", ExportCheckpoints).WithSummary("The chain's signed checkpoints as JSON lines, each with the public key; all=true: every chain (superadmins).");
        group.MapGet("/checkpoints/key", CheckpointKey).WithSummary("The public key that signs checkpoints, to pin when verifying.");
        return app;
    }

    private static (string? Chain, ProblemHttpResult? Problem) ChainFor(Caller caller, string? requested)
    {
        if (string.IsNullOrEmpty(requested) || requested == caller.TenantId) return (caller.TenantId, null);
        if (caller.Superadmin && requested == AuditLog.SystemChain) return (AuditLog.SystemChain, null);
        return (null, Problems.NotFound("audit chain", requested, "medic audit verify --all"));
    }

    private static (AuditQuery? Query, ValidationProblem? Problem) ParseQuery(HttpRequest request)
    {
        var v = new Validator();
        DateTimeOffset? Time(string name)
        {
            var text = request.Query[name].ToString();
            if (string.IsNullOrEmpty(text)) return null;
            if (DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var t)) return t;
            if (Durations.TryParse(text, out var ago)) return DateTimeOffset.UtcNow - ago;
            v.Add(name, $"'{text}' is neither a timestamp (2026-11-21T10:00:00Z) nor a duration ago (24h)");
            return null;
        }

        long? Number(string name, long min, long max)
        {
            var text = request.Query[name].ToString();
            if (string.IsNullOrEmpty(text)) return null;
            if (long.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var n) && n >= min && n <= max) return n;
            v.Add(name, $"must be a whole number from {min} to {max}");
            return null;
        }

        string? Text(string name)
        {
            var text = request.Query[name].ToString();
            if (string.IsNullOrEmpty(text)) return null;
            if (text.Length > 200) v.Add(name, "is longer than 200 characters");
            else if (text.Contains('\0', StringComparison.Ordinal)) v.Add(name, Validator.NulMessage);
            return text;
        }

        var q = new AuditQuery(Time("since"), Time("until"), Text("actor"), Text("action"), Number("before", 1, long.MaxValue), (int)(Number("limit", 1, 500) ?? 50),
            Text("target"), Text("outcome"));
        return v.Ok ? (q, null) : (null, v.Problem());
    }

    private static async Task<Results<Ok<AuditPage>, ProblemHttpResult, ValidationProblem>> List(HttpContext http, AuditLog audit, string? chain, CancellationToken ct)
    {
        var (name, notFound) = ChainFor(http.Caller(), chain);
        if (notFound is not null) return notFound;
        var (query, invalid) = ParseQuery(http.Request);
        if (invalid is not null) return invalid;
        return TypedResults.Ok(await audit.QueryAsync(name!, query!, ct));
    }

    private static async Task<Results<EmptyHttpResult, ProblemHttpResult, ValidationProblem>> Export(HttpContext http, AuditLog audit, string? chain, CancellationToken ct)
    {
        var (name, notFound) = ChainFor(http.Caller(), chain);
        if (notFound is not null) return notFound;
        var (query, invalid) = ParseQuery(http.Request);
        if (invalid is not null) return invalid;

        http.Response.ContentType = "application/x-ndjson";
        http.Response.Headers.ContentDisposition = $"attachment; filename=\"medic-audit-{name}.jsonl\"";
        var newline = "\n"u8.ToArray();
        await foreach (var entry in audit.ReadChainAsync(name!, query, ct))
        {
            await JsonSerializer.SerializeAsync(http.Response.Body, entry, MedicJson.Default.AuditEntry, ct);
            await http.Response.Body.WriteAsync(newline, ct);
        }

        return TypedResults.Empty;
    }

    private static async Task<Results<Ok<AuditVerificationReport>, ProblemHttpResult>> Verify(HttpContext http, AuditLog audit, string? chain, bool? all, CancellationToken ct)
    {
        var caller = http.Caller();
        IReadOnlyList<string> chains;
        if (all == true)
        {
            if (!caller.Superadmin) return Problems.Of(StatusCodes.Status403Forbidden, "Forbidden", "Only superadmins can verify every tenant's chain.", "drop --all to verify your tenant's chain");
            chains = await audit.ChainsAsync(ct);
        }
        else
        {
            var (name, notFound) = ChainFor(caller, chain);
            if (notFound is not null) return notFound;
            chains = [name!];
        }

        var results = new List<AuditVerification>();
        foreach (var c in chains)
        {
            results.Add(await audit.VerifyAsync(c, ct));
        }

        return TypedResults.Ok(new AuditVerificationReport(results.All(r => r.Ok), results));
    }

    private static async Task<(IReadOnlyList<string>? Chains, ProblemHttpResult? Problem)> ChainsFor(Caller caller, AuditLog audit, string? chain, bool? all, CancellationToken ct)
    {
        if (all == true)
        {
            if (!caller.Superadmin) return (null, Problems.Of(StatusCodes.Status403Forbidden, "Forbidden", "Only superadmins can act on every tenant's chain.", "drop --all to use your tenant's chain"));
            return (await audit.ChainsAsync(ct), null);
        }

        var (name, notFound) = ChainFor(caller, chain);
        return notFound is not null ? (null, notFound) : ([name!], null);
    }

    private static async Task<Results<Ok<IReadOnlyList<AuditCheckpoint>>, ProblemHttpResult>> Checkpoint(
        HttpContext http, AuditLog audit, AuditCheckpointer checkpointer, string? chain, bool? all, CancellationToken ct)
    {
        var caller = http.Caller();
        var (chains, problem) = await ChainsFor(caller, audit, chain, all, ct);
        if (problem is not null) return problem;

        var checkpoints = new List<AuditCheckpoint>();
        foreach (var name in chains!)
        {
            var outcome = await checkpointer.CheckpointAsync(name, ct);
            if (outcome.Refusal == CheckpointRefusal.ChainBroken)
            {
                var broken = outcome.Verification.FirstBroken!;
                return Problems.Conflict(
                    $"Chain {name} does not verify (entry {broken.Seq}: {broken.Reason}), so its head is not signed.",
                    "run 'medic audit verify' and investigate before checkpointing");
            }

            if (outcome.Checkpoint is { } checkpoint) checkpoints.Add(checkpoint);
        }

        // Recorded after signing: the entry itself goes into the next checkpoint.
        await audit.AppendAsync(new AuditRecord(caller.TenantId, caller.Actor, "audit.checkpoint", all == true ? "audit:all" : $"audit:{chains![0]}", AuditOutcomes.Success,
            http.Connection.RemoteIpAddress?.ToString(), checkpoints.ToDictionary(c => "seq:" + c.Chain, c => c.Seq.ToString(CultureInfo.InvariantCulture))), CancellationToken.None);
        http.MarkAudited();
        return TypedResults.Ok<IReadOnlyList<AuditCheckpoint>>(checkpoints);
    }

    private static async Task<Results<Ok<IReadOnlyList<AuditCheckpoint>>, ProblemHttpResult>> Checkpoints(HttpContext http, AuditCheckpointer checkpointer, string? chain, CancellationToken ct)
    {
        var (name, notFound) = ChainFor(http.Caller(), chain);
        if (notFound is not null) return notFound;
        return TypedResults.Ok(await checkpointer.ListAsync(name!, ct));
    }

    private static async Task<Results<EmptyHttpResult, ProblemHttpResult>> ExportCheckpoints(
        HttpContext http, AuditLog audit, AuditCheckpointer checkpointer, string? chain, bool? all, CancellationToken ct)
    {
        var (chains, problem) = await ChainsFor(http.Caller(), audit, chain, all, ct);
        if (problem is not null) return problem;

        http.Response.ContentType = "application/x-ndjson";
        http.Response.Headers.ContentDisposition = $"attachment; filename=\"medic-audit-checkpoints{(all == true ? "" : "-" + chains![0])}.jsonl\"";
        var newline = "\n"u8.ToArray();
        foreach (var name in chains!)
        {
            foreach (var checkpoint in await checkpointer.ListAsync(name, ct))
            {
                await JsonSerializer.SerializeAsync(http.Response.Body, checkpoint, MedicJson.Default.AuditCheckpoint, ct);
                await http.Response.Body.WriteAsync(newline, ct);
            }
        }

        return TypedResults.Empty;
    }

    private static Ok<AuditCheckpointKeyResponse> CheckpointKey(AuditCheckpointKey key) =>
        TypedResults.Ok(new AuditCheckpointKeyResponse(key.PublicKey, key.Fingerprint));
}
