using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Dapper;
using Medic.Contracts;
using Medic.Server.Audit;
using Medic.Server.Storage;

namespace Medic.Server.Ai.Runs;

internal sealed class AiRunRow
{
    public string Id { get; set; } = "";
    public string Purpose { get; set; } = "";
    public string? Agent { get; set; }
    public string? IncidentId { get; set; }
    public string? Model { get; set; }
    public string Outcome { get; set; } = "";
    public string? OutcomeReason { get; set; }
    public long InputTokens { get; set; }
    public long OutputTokens { get; set; }
    public decimal? Cost { get; set; }
    public int ToolCalls { get; set; }
    public long LatencyMs { get; set; }
    public DateTimeOffset StartedAt { get; set; }
    public DateTimeOffset FinishedAt { get; set; }
    public string Actor { get; set; } = "";
    public string Bundle { get; set; } = "";
    public string BundleSha256 { get; set; } = "";

    public AiRunSummary ToSummary() => new(Id, Purpose, Agent, IncidentId, Model, Outcome, OutcomeReason, InputTokens, OutputTokens, Cost, ToolCalls, LatencyMs,
        StartedAt, FinishedAt, Actor, BundleSha256);
}

/// <summary>
/// Keeps every AI run's bundle, and writes its SHA-256 into the tenant's audit chain in the same
/// transaction (<c>ai_run.finished</c>, target <c>ai_run:ID</c>, and the incident it was about), so
/// "alert, reasoning, proposal, approval, execution, verification" reads as one verifiable chain.
/// </summary>
internal sealed class AiRunStore(Database db, AuditLog audit)
{
    private const string Columns = "id, purpose, agent, incident_id, model, outcome, outcome_reason, input_tokens, output_tokens, cost, tool_calls, latency_ms, started_at, finished_at, actor, bundle, bundle_sha256";

    public async Task<AiRunSummary> SaveAsync(string tenantId, string actor, AiRunBundle bundle, CancellationToken ct)
    {
        var row = new AiRunRow
        {
            Id = bundle.RunId, Purpose = bundle.Purpose, Agent = bundle.Agent, IncidentId = bundle.IncidentId, Model = bundle.Model, Outcome = bundle.Outcome,
            OutcomeReason = bundle.OutcomeReason, InputTokens = bundle.InputTokens, OutputTokens = bundle.OutputTokens, Cost = bundle.Cost, ToolCalls = bundle.ToolCalls,
            LatencyMs = bundle.LatencyMs, StartedAt = bundle.StartedAt, FinishedAt = bundle.FinishedAt, Actor = actor,
        };
        row.Bundle = JsonSerializer.Serialize(ToResponse(row, bundle), MedicJson.Default.AiRunBundleResponse);
        row.BundleSha256 = Hash(row.Bundle);
        await db.WriteAsync(async (c, tx) =>
        {
            await c.ExecuteAsync(
                "INSERT INTO ai_runs (id, tenant_id, purpose, agent, incident_id, model, outcome, outcome_reason, input_tokens, output_tokens, cost, tool_calls, latency_ms, " +
                "started_at, finished_at, actor, bundle, bundle_sha256) VALUES (@Id, @tenantId, @Purpose, @Agent, @IncidentId, @Model, @Outcome, @OutcomeReason, @InputTokens, " +
                "@OutputTokens, @Cost, @ToolCalls, @LatencyMs, @StartedAt, @FinishedAt, @Actor, @Bundle, @BundleSha256)",
                new
                {
                    row.Id, tenantId, row.Purpose, row.Agent, row.IncidentId, row.Model, row.Outcome, row.OutcomeReason, row.InputTokens, row.OutputTokens, row.Cost,
                    row.ToolCalls, row.LatencyMs, row.StartedAt, row.FinishedAt, row.Actor, row.Bundle, row.BundleSha256,
                }, tx);
            var details = new Dictionary<string, string>
            {
                ["bundle_sha256"] = row.BundleSha256, ["purpose"] = row.Purpose, ["outcome"] = row.Outcome, ["model"] = row.Model ?? "",
                ["tokens"] = (row.InputTokens + row.OutputTokens).ToString(System.Globalization.CultureInfo.InvariantCulture),
                ["tool_calls"] = row.ToolCalls.ToString(System.Globalization.CultureInfo.InvariantCulture),
            };
            if (row.IncidentId is { } incident) details["incident"] = incident;
            if (bundle.Proposals.Count > 0) details["proposals"] = string.Join(",", bundle.Proposals);
            await audit.AppendAsync(c, tx, new AuditRecord(tenantId, actor, "ai_run.finished", "ai_run:" + row.Id, AuditOutcomes.Success, null, details));
        }, ct);
        return row.ToSummary();
    }

    public async Task<IReadOnlyList<AiRunSummary>> ListAsync(string tenantId, string? incidentId, string? purpose, int limit, CancellationToken ct)
    {
        await using var c = await db.OpenAsync(ct);
        var sql = $"SELECT {Columns} FROM ai_runs WHERE tenant_id = @tenantId"
            + (incidentId is null ? "" : " AND incident_id = @incidentId")
            + (purpose is null ? "" : " AND purpose = @purpose")
            + " ORDER BY started_at DESC, id DESC LIMIT @limit";
        return [.. (await c.QueryAsync<AiRunRow>(sql, new { tenantId, incidentId, purpose, limit })).Select(r => r.ToSummary())];
    }

    /// <summary>The run's bundle, with whether it still hashes to what the audit chain recorded.</summary>
    public async Task<AiRunBundleResponse?> GetAsync(string tenantId, string id, CancellationToken ct)
    {
        AiRunRow? row;
        await using (var c = await db.OpenAsync(ct))
        {
            row = await c.QuerySingleOrDefaultAsync<AiRunRow>($"SELECT {Columns} FROM ai_runs WHERE tenant_id = @tenantId AND id = @id", new { tenantId, id });
        }

        if (row is null) return null;
        var entries = await audit.ForTargetsAsync(tenantId, ["ai_run:" + id], row.StartedAt.AddMinutes(-1), 5, ct);
        var recorded = entries.FirstOrDefault(e => e.Action == "ai_run.finished")?.Details.GetValueOrDefault("bundle_sha256");
        var integrity = recorded is null ? "unrecorded" : recorded == Hash(row.Bundle) && recorded == row.BundleSha256 ? "ok" : "mismatch";
        var stored = JsonSerializer.Deserialize(row.Bundle, MedicJson.Default.AiRunBundleResponse)!;
        return stored with { Run = row.ToSummary(), Integrity = integrity };
    }

    private static AiRunBundleResponse ToResponse(AiRunRow row, AiRunBundle bundle) => new(
        row.ToSummary(),
        bundle.SystemPrompt,
        bundle.Input,
        bundle.Tools,
        [.. bundle.Steps.Select(s => new AiRunStepResponse(s.Index, s.Kind, s.At, s.Ms, s.Text, s.Model, s.InputTokens, s.OutputTokens, s.Tool, s.CallId, s.Arguments, s.Result, s.Error, s.Reused))],
        bundle.Output,
        bundle.Proposals,
        bundle.Escalated,
        "ok");

    private static string Hash(string text) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(text)));
}
