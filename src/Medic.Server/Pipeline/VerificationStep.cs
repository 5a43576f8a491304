using Medic.Contracts;
using Medic.Server.Common;
using Medic.Server.Detection.Checks;
using Medic.Server.Fleet;
using Medic.Server.Incidents;
using Medic.Server.Runbooks;
using Medic.Server.Storage;

namespace Medic.Server.Pipeline;

/// <summary>After the run: is the incident's problem gone? Resolved when it is, failed and escalated (through <see cref="ExecutionStep"/>) when not.</summary>
internal sealed class VerificationStep(
    Database db,
    PipelineIncidents incidents,
    CheckStore checks,
    CheckRunner checkRunner,
    RunbookRunner runner,
    ExecutionStep execution,
    NodeStore nodes,
    JobQueue jobs,
    IAiStage ai,
    Medic.Server.Gateway.AgentConnections connections,
    Microsoft.Extensions.Options.IOptions<MedicOptions> options,
    TimeProvider time)
{
    /// <summary>What verification found: the problem is gone, it is not, or the answer is not in yet.</summary>
    private enum Verdict
    {
        Passed,
        Failed,

        /// <summary>The incident's source has not reported the problem over yet; ask again shortly.</summary>
        WaitForSignal,

        /// <summary>Nothing can re-check this incident (a manual one): a person confirms.</summary>
        WaitForPerson,
    }

    /// <summary>
    /// Resolved means the original problem is gone: the recipe's own checks passed (its run succeeded)
    /// and the incident's own signal is re-checked. A scheduled check is re-run; an agent monitor, an
    /// outside alert or a forecast must report the problem over within <c>pipeline.signal_wait_seconds</c>
    /// (the job waits deferred, holding no worker); a manual incident, which nothing can re-check,
    /// waits for a person to confirm (<c>medic incidents resolve ID</c>). Otherwise: failed and escalated.
    /// </summary>
    /// <param name="since">When verification began (the verify job's creation), for the bounded wait.</param>
    public async Task VerifyAsync(PipelineJob job, DateTimeOffset since, CancellationToken ct)
    {
        RemediationRow? remediation;
        await using (var c = await db.OpenAsync(ct))
        {
            remediation = await PipelineStore.RemediationAsync(c, null, job.TenantId, job.IncidentId, job.Round);
        }

        if (remediation is null || remediation.StatusValue is not (RemediationStatus.Verifying or RemediationStatus.AwaitingConfirmation)) return;
        var incident = await incidents.IncidentAsync(job.TenantId, job.IncidentId, ct);
        if (incident is null) return;
        if (incident.Status == IncidentStatus.Resolved)
        {
            // A person confirmed (medic incidents resolve) while verification waited: that is the verification.
            await FinishVerifiedAsync(job, $"confirmed by a person: {incident.Resolution ?? "resolved"}", transition: false, ct);
            return;
        }

        if (incident.Status != IncidentStatus.Verifying) return; // moved on (escalated by hand, say): nothing to verify any more

        var (verdict, how) = await VerificationAsync(job, remediation, incident, since, ct);
        switch (verdict)
        {
            case Verdict.Passed:
                await FinishVerifiedAsync(job, how, transition: true, ct);
                return;
            case Verdict.Failed:
                await execution.FailAsync(job, remediation, "verification did not pass: " + how, null, ct);
                return;
            case Verdict.WaitForSignal:
                throw new JobDeferredException(time.GetUtcNow().AddSeconds(2), how);
            default:
                if (remediation.StatusValue != RemediationStatus.AwaitingConfirmation) await AwaitConfirmationAsync(job, how, ct);
                // A person's resolve makes this job due at once (IPipelineEntry.ResolvedAsync, in the resolve's own
                // transaction); the hourly look is only a safety net, so a thousand waiting incidents cost nothing.
                throw new JobDeferredException(time.GetUtcNow() + TimeSpan.FromHours(1), "waiting for a person to confirm");
        }
    }

    private async Task FinishVerifiedAsync(PipelineJob job, string how, bool transition, CancellationToken ct)
    {
        var review = await ai.PerformsAsync(AiStageRole.Review, job.TenantId, ct);
        var after = await db.WriteAsync<IncidentResponse?>(async (c, tx) =>
        {
            var r = (await PipelineStore.RemediationAsync(c, tx, job.TenantId, job.IncidentId, job.Round))!;
            if (r.StatusValue is not (RemediationStatus.Verifying or RemediationStatus.AwaitingConfirmation)) return null;
            r.StatusValue = RemediationStatus.Succeeded;
            r.Verification = Texts.Truncate(how, 2000);
            r.FinishedAt = time.GetUtcNow();
            await PipelineStore.UpdateRemediationAsync(c, tx, r);
            if (review) await jobs.EnqueueAsync(c, tx, job.TenantId, PipelineEntry.ReviewKind, PipelineEntry.Key(job.IncidentId, job.Round, "review"), PipelineEntry.Payload(job));
            if (!transition) return null;
            var (incident, refusal) = await incidents.TransitionAsync(c, tx, job.TenantId, job.IncidentId, IncidentTrigger.VerificationPassed, RemediationPipeline.SystemActor,
                $"remediated by {r.Runbook}, verified: {how}", null, job.Round);
            return refusal is null ? incident : null;
        }, ct);
        if (after is not null) incidents.Publish(job.TenantId, "resolved", after);
    }

    /// <summary>Marks the remediation as waiting for a person and says so on the timeline (and the live feed, as "noted"), once.</summary>
    private async Task AwaitConfirmationAsync(PipelineJob job, string why, CancellationToken ct)
    {
        var noted = await db.WriteAsync(async (c, tx) =>
        {
            var r = (await PipelineStore.RemediationAsync(c, tx, job.TenantId, job.IncidentId, job.Round))!;
            if (r.StatusValue != RemediationStatus.Verifying) return false;
            r.StatusValue = RemediationStatus.AwaitingConfirmation;
            r.Verification = Texts.Truncate(why, 2000);
            await PipelineStore.UpdateRemediationAsync(c, tx, r);
            await incidents.NoteAsync(c, tx, job.TenantId, job.IncidentId, "awaiting_confirmation", RemediationPipeline.SystemActor,
                $"waiting for confirmation: {why}; confirm with medic incidents resolve {job.IncidentId}", null);
            return true;
        }, ct);
        if (noted && await incidents.IncidentAsync(job.TenantId, job.IncidentId, ct) is { } noticed) incidents.Publish(job.TenantId, "noted", noticed);
    }

    private async Task<(Verdict Verdict, string How)> VerificationAsync(PipelineJob job, RemediationRow remediation, IncidentResponse incident, DateTimeOffset since, CancellationToken ct)
    {
        // The recipe's own checks: a failing check step fails the run (handled at execution); a run cut short proves nothing.
        var run = remediation.RunId is null ? null : await runner.GetAsync(job.TenantId, remediation.RunId, ct);
        var checkStep = run?.Steps.LastOrDefault(s => s.Phase == "main" && s.Type == "check");
        var recipe = run?.Status == RunbookRunStatus.Succeeded
            ? checkStep is { Status: RunbookStepStatus.Ok } ? $"the recipe's check '{checkStep.Name}' passed ({checkStep.Reason ?? "ok"})" : "the recipe ran to the end"
            : "the run was cut short by a restart";

        if (incident.Source == IncidentSources.Check && incident.Fingerprint.StartsWith("check:", StringComparison.Ordinal)
            && await checks.FindAsync(job.TenantId, incident.Fingerprint["check:".Length..], ct) is { } check)
        {
            // A command check runs through the server's agent. After a restart of the control plane the
            // agent is not connected yet while its stored status may still say online (a killed process
            // never wrote it off): the live connection decides, and the agent gets the grace period.
            if (check.ServerId is { } serverId && await nodes.FindAsync(job.TenantId, serverId, ct) is { IsAgentless: false, Drained: false } node
                && !connections.TryGet(node.Id, out _)
                && time.GetUtcNow() - since < TimeSpan.FromSeconds(options.Value.Pipeline.NodeGraceSeconds))
            {
                throw new JobDeferredException(time.GetUtcNow().AddSeconds(1), $"waiting for {node.Name}'s agent to connect before verifying");
            }

            var last = "";
            for (var attempt = 1; attempt <= 3; attempt++)
            {
                if (attempt > 1) await Task.Delay(TimeSpan.FromSeconds(2), time, ct);
                var (ok, d) = await checkRunner.RunAsync(check, ct);
                if (ok) return (Verdict.Passed, $"check {check.Name} passes again ({d})");
                last = d;
            }

            return (Verdict.Failed, $"check {check.Name} still fails after 3 tries: {last}");
        }

        if (incident.Source == IncidentSources.Manual || incident.Source == IncidentSources.Check)
        {
            // Nothing Medic can run again tells whether a person's report is over: a person says so.
            return (Verdict.WaitForPerson, $"{recipe}, but nothing can re-check the problem this incident reports (source {incident.Source})");
        }

        var source = incident.Source == IncidentSources.Agent ? "the agent's monitor" : incident.Source == IncidentSources.Patrol ? "the forecast" : $"the {incident.Source} alert";
        if (incident.Firing == 0) return (Verdict.Passed, $"{recipe}, and {source} reports the problem over");
        var wait = TimeSpan.FromSeconds(options.Value.Pipeline.SignalWaitSeconds);
        if (time.GetUtcNow() - since < wait) return (Verdict.WaitForSignal, $"waiting for {source} to report the problem over");
        return (Verdict.Failed, $"{recipe}, but {source} still reports the problem {wait.TotalSeconds:0} s later");
    }
}
