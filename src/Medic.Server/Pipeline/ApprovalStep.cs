using Medic.Contracts;
using Medic.Server.Audit;
using Medic.Server.Incidents;
using Medic.Server.Storage;

namespace Medic.Server.Pipeline;

/// <summary>What becomes of an approval request: a person approves or rejects it, or nobody does in time.</summary>
internal sealed class ApprovalStep(
    Database db,
    PipelineIncidents incidents,
    PipelineStore store,
    JobQueue jobs,
    AuditLog audit,
    JobSignal signal,
    TimeProvider time)
{
    /// <summary>
    /// An approver's decision. Refused (<see cref="ProposalException"/> with 409) when the request was
    /// decided already, has expired, is the approver's own, or its incident has moved on (then it is cancelled).
    /// </summary>
    public async Task<ApprovalRow> DecideAsync(string tenantId, string approvalId, bool approve, string actor, string? comment, string? clientAddress, CancellationToken ct)
    {
        var now = time.GetUtcNow();
        var (approval, incident, cancelled) = await db.WriteAsync(async (c, tx) =>
        {
            var a = await store.LockApprovalAsync(c, tx, tenantId, approvalId)
                ?? throw new ProposalException($"No approval '{approvalId}' exists in this tenant.", "list them with medic approvals", StatusCodes.Status404NotFound);
            if (RiskGate.CannotApprove(a.RequestedBy, actor, a.ExpiresAt, now, a.StatusValue) is { } refusal)
            {
                throw new ProposalException($"Approval {a.Id} cannot be decided: {refusal}.",
                    a.RequestedBy == actor ? "ask another approver" : "see it with medic approvals show " + a.Id, StatusCodes.Status409Conflict);
            }

            var remediation = (await PipelineStore.RemediationByIdAsync(c, tx, tenantId, a.RemediationId))!;
            var locked = await incidents.LockForPipelineAsync(c, tx, tenantId, a.IncidentId);
            if (locked is not { } l || l.Incident.Status != IncidentStatus.AwaitingApproval || l.Round != remediation.Round)
            {
                a.StatusValue = ApprovalStatus.Cancelled;
                a.DecidedAt = now;
                a.Comment = "the incident moved on before a decision (" + (locked?.Incident.Status.ToText() ?? "gone") + ")";
                await PipelineStore.DecideApprovalAsync(c, tx, a);
                remediation.StatusValue = RemediationStatus.Cancelled;
                remediation.FinishedAt = now;
                await PipelineStore.UpdateRemediationAsync(c, tx, remediation);
                return (a, (IncidentResponse?)null, true);
            }

            a.StatusValue = approve ? ApprovalStatus.Approved : ApprovalStatus.Rejected;
            a.DecidedBy = actor;
            a.DecidedAt = now;
            a.Comment = comment;
            await PipelineStore.DecideApprovalAsync(c, tx, a);
            var details = new Dictionary<string, string> { ["incident"] = a.IncidentId, ["runbook"] = remediation.Runbook, ["risk"] = remediation.Risk, ["server"] = remediation.ServerName ?? "" };
            if (comment is not null) details[approve ? "comment" : "reason"] = comment.Length > 500 ? comment[..500] : comment;
            await audit.AppendAsync(c, tx, new AuditRecord(tenantId, actor, approve ? "approval.approve" : "approval.reject", "approval:" + a.Id, AuditOutcomes.Success, clientAddress, details));
            IncidentResponse after;
            if (approve)
            {
                remediation.StatusValue = RemediationStatus.Executing;
                await PipelineStore.UpdateRemediationAsync(c, tx, remediation);
                after = await incidents.MoveAsync(c, tx, tenantId, a.IncidentId, IncidentTrigger.Approve, actor, $"approved {remediation.Runbook}" + (comment is null ? "" : ": " + comment), null);
                await jobs.EnqueueAsync(c, tx, tenantId, PipelineEntry.ExecuteKind, PipelineEntry.Key(a.IncidentId, remediation.Round, "execute"),
                    PipelineEntry.Payload(new PipelineJob(tenantId, a.IncidentId, remediation.Round)));
            }
            else
            {
                remediation.StatusValue = RemediationStatus.Rejected;
                remediation.Error = "rejected by " + actor + (comment is null ? "" : ": " + comment);
                remediation.FinishedAt = now;
                await PipelineStore.UpdateRemediationAsync(c, tx, remediation);
                after = await incidents.MoveAsync(c, tx, tenantId, a.IncidentId, IncidentTrigger.Reject, actor, $"rejected {remediation.Runbook}" + (comment is null ? "" : ": " + comment), null);
            }

            return (a, after, false);
        }, ct);
        if (cancelled) throw new ProposalException($"Approval {approval.Id} was cancelled: {approval.Comment}.", "see the incident with medic incidents show " + approval.IncidentId, StatusCodes.Status409Conflict);
        incidents.Publish(tenantId, "updated", incident!);
        signal.Wake();
        return approval;
    }

    /// <summary>An approval nobody decided in time: expired, and the incident escalated.</summary>
    public async Task ExpireAsync(PipelineJob job, CancellationToken ct)
    {
        var now = time.GetUtcNow();
        var after = await db.WriteAsync<IncidentResponse?>(async (c, tx) =>
        {
            var a = await store.LockApprovalAsync(c, tx, job.TenantId, job.ApprovalId!);
            if (a is null || a.StatusValue != ApprovalStatus.Pending) return null;
            var remediation = (await PipelineStore.RemediationByIdAsync(c, tx, job.TenantId, a.RemediationId))!;
            // Renewed by a re-proposal in a later round: that round's expiry job decides.
            if (remediation.Round != job.Round) return null;
            if (now < a.ExpiresAt) throw new InvalidOperationException("the approval has not expired yet");
            a.StatusValue = ApprovalStatus.Expired;
            a.DecidedAt = now;
            a.Comment = $"expired: nobody approved or rejected it by {a.ExpiresAt:yyyy-MM-dd HH:mm:ss} UTC";
            await PipelineStore.DecideApprovalAsync(c, tx, a);
            remediation.StatusValue = RemediationStatus.Expired;
            remediation.Error = $"nobody decided by {a.ExpiresAt:yyyy-MM-dd HH:mm:ss} UTC";
            remediation.FinishedAt = now;
            await PipelineStore.UpdateRemediationAsync(c, tx, remediation);
            await audit.AppendAsync(c, tx, new AuditRecord(job.TenantId, RemediationPipeline.SystemActor, "approval.expire", "approval:" + a.Id, AuditOutcomes.Success, null,
                new Dictionary<string, string> { ["incident"] = a.IncidentId, ["runbook"] = remediation.Runbook }));
            var (incident, refusal) = await incidents.TransitionAsync(c, tx, job.TenantId, a.IncidentId, IncidentTrigger.ApprovalExpired, RemediationPipeline.SystemActor,
                $"approval {a.Id} for {remediation.Runbook} expired unanswered", null, remediation.Round);
            return refusal is null ? incident : null;
        }, ct);
        if (after is not null) incidents.Publish(job.TenantId, "updated", after);
    }
}
