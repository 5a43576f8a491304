using System.Globalization;
using Dapper;
using Medic.Contracts;
using Medic.Server.Audit;
using Medic.Server.Storage;

namespace Medic.Server.Ai.Providers;

/// <summary>This calendar month's (UTC) spend against the tenant's monthly budget; no budget is never exhausted.</summary>
internal sealed record BudgetState(bool Exhausted, double SpentUsd, double? LimitUsd, string Month);

internal sealed class UsageSum
{
    public string? Key { get; set; }
    public long Calls { get; set; }
    public long InputTokens { get; set; }
    public long OutputTokens { get; set; }
    public double CostUsd { get; set; }
}

/// <summary>Token use per call (ai_usage) with its estimated cost, and the tenant's monthly AI budget (ai_budgets).</summary>
internal sealed class AiBudget(Database db, AuditLog audit, TimeProvider time, AiModelStore models)
{
    public const string MonthFormat = "yyyy-MM";

    public static (DateTimeOffset From, DateTimeOffset To) MonthBounds(DateTimeOffset at)
    {
        var from = new DateTimeOffset(at.UtcDateTime.Year, at.UtcDateTime.Month, 1, 0, 0, 0, TimeSpan.Zero);
        return (from, from.AddMonths(1));
    }

    public async Task<BudgetState> CheckAsync(string tenantId, CancellationToken ct)
    {
        var (from, to) = MonthBounds(time.GetUtcNow());
        await using var c = await db.OpenAsync(ct);
        var limit = await c.ExecuteScalarAsync<double?>("SELECT monthly_usd FROM ai_budgets WHERE tenant_id = @tenantId", new { tenantId });
        var spent = await c.ExecuteScalarAsync<double?>("SELECT SUM(cost_usd) FROM ai_usage WHERE tenant_id = @tenantId AND at >= @from AND at < @to", new { tenantId, from, to }) ?? 0;
        return new BudgetState(limit is { } l && spent >= l, spent, limit, from.ToString(MonthFormat, CultureInfo.InvariantCulture));
    }

    /// <summary>Records one call; its cost is estimated from the prices of the tenant's (or the configuration's) first entry named <paramref name="model"/>.</summary>
    public async Task RecordAsync(string tenantId, string? agent, string? runId, string model, long inputTokens, long outputTokens, CancellationToken ct)
    {
        var entry = (await models.ListAsync(tenantId, ct)).FirstOrDefault(e => e.Name == model);
        await RecordAsync(tenantId, agent, runId, model, inputTokens, outputTokens, entry?.Cost(inputTokens, outputTokens) ?? 0, ct);
    }

    public async Task RecordAsync(string tenantId, string? agent, string? runId, string model, long inputTokens, long outputTokens, double costUsd, CancellationToken ct) =>
        await db.WriteAsync(async (c, tx) => await c.ExecuteAsync(
            "INSERT INTO ai_usage (tenant_id, agent, run_id, model_name, input_tokens, output_tokens, cost_usd, at) VALUES (@tenantId, @agent, @runId, @model, @inputTokens, @outputTokens, @costUsd, @at)",
            new { tenantId, agent, runId, model, inputTokens, outputTokens, costUsd, at = time.GetUtcNow() }, tx), ct);

    /// <summary>Sets (or with null removes) the tenant's monthly budget in USD; audited.</summary>
    public async Task SetLimitAsync(string tenantId, double? monthlyUsd, string actor, string? clientAddress, CancellationToken ct) =>
        await db.WriteAsync(async (c, tx) =>
        {
            if (monthlyUsd is { } usd)
            {
                await c.ExecuteAsync(
                    "INSERT INTO ai_budgets (tenant_id, monthly_usd, updated_by, updated_at) VALUES (@tenantId, @usd, @actor, @at) " +
                    "ON CONFLICT (tenant_id) DO UPDATE SET monthly_usd = excluded.monthly_usd, updated_by = excluded.updated_by, updated_at = excluded.updated_at",
                    new { tenantId, usd, actor, at = time.GetUtcNow() }, tx);
            }
            else
            {
                await c.ExecuteAsync("DELETE FROM ai_budgets WHERE tenant_id = @tenantId", new { tenantId }, tx);
            }

            await audit.AppendAsync(c, tx, new AuditRecord(tenantId, actor, "ai.budget.set", "ai_budget", AuditOutcomes.Success, clientAddress,
                new Dictionary<string, string> { ["monthly_usd"] = monthlyUsd?.ToString(CultureInfo.InvariantCulture) ?? "none" }));
        }, ct);

    /// <summary>The month's use summed by agent, model entry or run (<paramref name="by"/> one of those words), largest cost first.</summary>
    public async Task<AiUsageResponse> UsageAsync(string tenantId, DateTimeOffset month, string by, CancellationToken ct)
    {
        var column = by switch { "agent" => "agent", "run" => "run_id", _ => "model_name" };
        var (from, to) = MonthBounds(month);
        await using var c = await db.OpenAsync(ct);
        var rows = (await c.QueryAsync<UsageSum>(
            $"SELECT {column} AS key, COUNT(*) AS calls, CAST(COALESCE(SUM(input_tokens), 0) AS bigint) AS input_tokens, " +
            $"CAST(COALESCE(SUM(output_tokens), 0) AS bigint) AS output_tokens, COALESCE(SUM(cost_usd), 0) AS cost_usd " +
            $"FROM ai_usage WHERE tenant_id = @tenantId AND at >= @from AND at < @to GROUP BY {column} ORDER BY cost_usd DESC, calls DESC, key",
            new { tenantId, from, to })).ToList();
        return new AiUsageResponse(from.ToString(MonthFormat, CultureInfo.InvariantCulture), by,
            [.. rows.Select(r => new AiUsageRow(r.Key, r.Calls, r.InputTokens, r.OutputTokens, r.CostUsd))],
            rows.Sum(r => r.InputTokens), rows.Sum(r => r.OutputTokens), rows.Sum(r => r.CostUsd));
    }
}
