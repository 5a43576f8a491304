using Medic.Contracts;
using Medic.Server.Audit;
using Medic.Server.Common;
using Medic.Server.Fleet;
using Medic.Server.Incidents;
using Medic.Server.Runbooks;
using Medic.Server.Storage;

namespace Medic.Server.Pipeline;

/// <summary>
/// Runs the round's remediation once (the run carries the idempotency key
/// <c>pipeline:{incident}:{round}:run</c>) and hands it to verification, or fails and escalates it.
/// </summary>
internal sealed class ExecutionStep(
    Database db,
    PipelineIncidents incidents,
    PipelineStore store,
    RunbookStore runbooks,
    RunbookRunner runner,
    NodeStore nodes,
    Medic.Server.Gateway.AgentConnections connections,
    JobQueue jobs,
    AuditLog audit,
    JobSignal signal,
    IAiStage ai,
    Microsoft.Extensions.Options.IOptions<MedicOptions> options,
    TimeProvider time)
{
    /// <summary>
    /// Starts the round's remediation on its server under the run's idempotency key, and moves on
    /// when the run ends: verifying when it succeeded (or was cut short by a restart: verification
    /// decides, the fix is not run again), failed and escalated when a step failed. The job holds no
    /// worker while the run goes on: it is deferred, and made due again the moment a run of this
    /// process ends (re-read every few seconds when another replica runs it). An agent that is not
    /// connected yet (the control plane just restarted, say) gets <c>pipeline.node_grace_seconds</c>
    /// to come back before the remediation fails as unreachable.
    /// </summary>
    /// <param name="since">When the execute job was queued, for the grace period.</param>
    public async Task ExecuteAsync(PipelineJob job, DateTimeOffset since, CancellationToken ct)
    {
        RemediationRow? remediation;
        await using (var c = await db.OpenAsync(ct))
        {
            remediation = await PipelineStore.RemediationAsync(c, null, job.TenantId, job.IncidentId, job.Round);
        }

        if (remediation is null || remediation.StatusValue != RemediationStatus.Executing) return;
        var key = PipelineEntry.Key(job.IncidentId, job.Round, "run");
        var run = await runner.FindByIdempotencyKeyAsync(job.TenantId, key, ct);
        if (run is null)
        {
            var node = remediation.ServerId is null ? null : await nodes.FindAsync(job.TenantId, remediation.ServerId, ct);
            var row = await runbooks.FindAsync(job.TenantId, remediation.Runbook, remediation.Version, ct);
            if (node is null || row is null)
            {
                await FailAsync(job, remediation, node is null ? "the server is gone" : "the runbook version is gone", null, ct);
                return;
            }

            if (!node.IsAgentless && !node.Drained && !connections.TryGet(node.Id, out _))
            {
                // Past the grace period the run starts anyway: its first step fails "offline", on the record, and the remediation is unreachable.
                var grace = TimeSpan.FromSeconds(options.Value.Pipeline.NodeGraceSeconds);
                if (time.GetUtcNow() - since < grace) throw new JobDeferredException(time.GetUtcNow().AddSeconds(1), $"waiting for {node.Name}'s agent to connect");
            }

            var approvedBy = (await store.ApprovalsAsync(job.TenantId, ApprovalStatus.Approved, job.IncidentId, 50, ct)).FirstOrDefault(a => a.RemediationId == remediation.Id)?.DecidedBy;
            var actor = approvedBy ?? remediation.ProposedBy;
            var started = await runner.StartAsync(job.TenantId, runbooks.Load(row), [node], remediation.ParamMap, actor, key,
                new RunbookRunOptions(Confirmed: approvedBy is not null, async (c, tx, r) =>
                {
                    remediation.RunId = r.Id;
                    await PipelineStore.UpdateRemediationAsync(c, tx, remediation);
                    await incidents.NoteAsync(c, tx, job.TenantId, job.IncidentId, "remediation_started", actor,
                        $"running {remediation.Runbook} v{remediation.Version} on {node.Name} (run {r.Id})", new Dictionary<string, string> { ["run"] = r.Id });
                    await audit.AppendAsync(c, tx, new AuditRecord(job.TenantId, actor, "runbook.run", "runbook_run:" + r.Id, AuditOutcomes.Success, null,
                        new Dictionary<string, string> { ["runbook"] = remediation.Runbook, ["incident"] = job.IncidentId, ["targets"] = node.Name, ["remediation"] = remediation.Id }));
                }), ct);
            run = await runner.GetAsync(job.TenantId, started.RunId, ct);
        }

        if (run is { Status: RunbookRunStatus.Running })
        {
            throw new JobDeferredException(time.GetUtcNow().AddSeconds(5), $"run {run.Id} goes on", runner.WaitAsync(run.Id, TimeSpan.FromMinutes(10), CancellationToken.None));
        }

        if (run is null)
        {
            await FailAsync(job, remediation, "the run record is gone", null, ct);
            return;
        }

        if (run.Status == RunbookRunStatus.Failed)
        {
            var failing = run.Steps.LastOrDefault(s => s.Phase == "main" && s.Status is not (RunbookStepStatus.Ok or RunbookStepStatus.Skipped));
            var output = failing is null ? null : Texts.Truncate(string.Join("\n", new[] { failing.Stdout.Trim(), failing.Stderr.Trim() }.Where(t => t.Length > 0)), 4000);
            // An agent that was not there says nothing about the recipe: not a failure the circuit breaker counts.
            var status = failing?.Status == RunbookStepStatus.Offline ? RemediationStatus.Unreachable : RemediationStatus.Failed;
            await FailAsync(job, remediation, run.Error ?? "the run failed", output, ct, status);
            return;
        }

        var note = run.Status == RunbookRunStatus.Interrupted
            ? $"run {run.Id} was cut short when the control plane stopped; it is not run again: verification decides"
            : $"run {run.Id} finished; verifying";
        var after = await db.WriteAsync<IncidentResponse?>(async (c, tx) =>
        {
            var r = (await PipelineStore.RemediationAsync(c, tx, job.TenantId, job.IncidentId, job.Round))!;
            if (r.StatusValue != RemediationStatus.Executing) return null;
            r.StatusValue = RemediationStatus.Verifying;
            r.RunId = run.Id;
            await PipelineStore.UpdateRemediationAsync(c, tx, r);
            var (incident, refusal) = await incidents.TransitionAsync(c, tx, job.TenantId, job.IncidentId, IncidentTrigger.StartVerification, RemediationPipeline.SystemActor, note,
                new Dictionary<string, string> { ["run"] = run.Id, ["run_status"] = run.Status.ToText() }, job.Round);
            await jobs.EnqueueAsync(c, tx, job.TenantId, PipelineEntry.VerifyKind, PipelineEntry.Key(job.IncidentId, job.Round, "verify"), PipelineEntry.Payload(job));
            return refusal is null ? incident : null;
        }, ct);
        if (after is not null) incidents.Publish(job.TenantId, "updated", after);
        signal.Wake();
    }

    /// <summary>The round's remediation failed (its run, or its verification): recorded on it, and the incident escalated.</summary>
    public async Task FailAsync(PipelineJob job, RemediationRow remediation, string error, string? output, CancellationToken ct, RemediationStatus status = RemediationStatus.Failed)
    {
        var review = await ai.PerformsAsync(AiStageRole.Review, job.TenantId, ct);
        var after = await db.WriteAsync<IncidentResponse?>(async (c, tx) =>
        {
            var r = (await PipelineStore.RemediationAsync(c, tx, job.TenantId, job.IncidentId, job.Round))!;
            if (r.StatusValue is not (RemediationStatus.Executing or RemediationStatus.Verifying)) return null;
            r.StatusValue = status;
            r.Error = Texts.Truncate(error, 4000);
            r.FinishedAt = time.GetUtcNow();
            await PipelineStore.UpdateRemediationAsync(c, tx, r);
            if (review) await jobs.EnqueueAsync(c, tx, job.TenantId, PipelineEntry.ReviewKind, PipelineEntry.Key(job.IncidentId, job.Round, "review"), PipelineEntry.Payload(job));
            var data = new Dictionary<string, string> { ["runbook"] = r.Runbook };
            if (r.RunId is not null) data["run"] = r.RunId;
            if (output is { Length: > 0 }) data["output"] = output;
            var (_, refusal) = await incidents.TransitionAsync(c, tx, job.TenantId, job.IncidentId, IncidentTrigger.RemediationFailed, RemediationPipeline.SystemActor, $"{r.Runbook} failed: {error}", data, job.Round);
            if (refusal is not null) return null;
            var (incident, _) = await incidents.TransitionAsync(c, tx, job.TenantId, job.IncidentId, IncidentTrigger.Escalate, RemediationPipeline.SystemActor,
                $"escalated: {r.Runbook} did not fix it; a person takes over", null, job.Round);
            return incident;
        }, ct);
        if (after is not null) incidents.Publish(job.TenantId, "updated", after);
    }
}
