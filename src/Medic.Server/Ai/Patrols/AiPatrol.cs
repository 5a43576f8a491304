using Medic.Contracts;
using Medic.Server.Ai.Agents;
using Medic.Server.Ai.Runs;
using Medic.Server.Ai.Stages;
using Medic.Server.Ai.Tools;
using Medic.Server.Common;
using Medic.Server.Incidents;
using Medic.Server.Pipeline;
using Medic.Server.Tenancy;

namespace Medic.Server.Ai.Patrols;

/// <summary>
/// Patrols (docs/ai.md): every enabled AI agent with a patrol interval reviews what changed since its
/// last patrol. With a model, the agent reads the statistical review, looks closer with the read-only
/// tools, and may open up to <see cref="ReportFindingTool.MaxPerRun"/> <c>patrol_finding</c> incidents;
/// without one, the statistical review is the patrol's report. Either way the patrol is kept as a
/// run (purpose <c>patrol</c>). One patrol per agent per interval, at most one patrol at a time.
/// </summary>
internal sealed partial class AiPatrol(
    TenantStore tenants, AiAgentStore agents, PatrolReview review, AiRunner runner, AiRunStore runs, ServerScope scope, IIncidentIngest ingest,
    TimeProvider time, ILogger<AiPatrol> log) : BackgroundService
{
    /// <summary>How often due patrols are looked for.</summary>
    public static readonly TimeSpan Tick = TimeSpan.FromMinutes(1);

    private readonly Dictionary<(string Tenant, string Agent), DateTimeOffset> _last = [];

    protected override Task ExecuteAsync(CancellationToken stoppingToken) => PeriodicRounds.RunAsync(Tick, time, PatrolDueAsync, PatrolFailed, stoppingToken);

    /// <summary>Runs every patrol that is due now; returns the runs made.</summary>
    public async Task<IReadOnlyList<AiRunSummary>> PatrolDueAsync(CancellationToken ct)
    {
        var done = new List<AiRunSummary>();
        var now = time.GetUtcNow();
        foreach (var tenant in await tenants.ListAsync(ct))
        {
            foreach (var agent in (await agents.ListAsync(tenant.Id, ct)).Where(a => a.Enabled && a.Patrol is not null))
            {
                var key = (tenant.Id, agent.Name);
                if (!_last.TryGetValue(key, out var last))
                {
                    var previous = (await runs.ListAsync(tenant.Id, null, "patrol", 50, ct)).FirstOrDefault(r => r.Agent == agent.Name);
                    last = previous?.StartedAt ?? now - agent.Patrol!.Value;
                }

                if (now - last < agent.Patrol!.Value) continue;
                _last[key] = now;
                done.Add(await PatrolAsync(tenant.Id, agent, last, ct));
            }
        }

        return done;
    }

    /// <summary>One patrol by one agent over what changed since <paramref name="since"/>.</summary>
    public async Task<AiRunSummary> PatrolAsync(string tenantId, AiAgentDefinition agent, DateTimeOffset since, CancellationToken ct)
    {
        var now = time.GetUtcNow();
        var report = await review.BuildAsync(tenantId, since, now, ct);
        var actor = "ai:" + agent.Name;
        var result = await runner.RunAsync(
            AiStageSpec.For(agent, tenantId, "patrol", Trust.Manual, PatrolTask + "\n\n" + report.Text) with
            {
                ReadOnly = true, ExtraTools = [new ReportFindingTool(scope, ingest, time)], Limits = new AiRunLimits(MaxIterations: 12),
            },
            null, ct);
        if (result is not null) return result.Summary;

        // No model: the statistical review is the report.
        var bundle = new AiRunBundle
        {
            RunId = Ids.New("air"), Purpose = "patrol", Agent = agent.Name, Input = report.Text, Output = report.Text,
            Outcome = AiRunOutcome.StatisticalOnly.ToText(), OutcomeReason = "no AI model is configured: the statistical review only",
            StartedAt = now, FinishedAt = time.GetUtcNow(),
        };
        return await runs.SaveAsync(tenantId, actor, bundle, ct);
    }

    public const string PatrolTask =
        "Patrol: review what changed in this tenant since the last patrol (below). Look closer with the read-only tools where something "
        + "looks like it is becoming a problem, and report each real finding with report_finding (not what is already an open incident). "
        + "End with a short summary of the fleet's state.";

    [LoggerMessage(1130, LogLevel.Error, "A patrol failed; the next tick tries again")]
    private partial void PatrolFailed(Exception ex);
}
