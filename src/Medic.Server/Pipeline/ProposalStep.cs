using System.Globalization;
using Medic.Contracts;
using Medic.Server.Audit;
using Medic.Server.Common;
using Medic.Server.Fleet;
using Medic.Server.Incidents;
using Medic.Server.Notifications;
using Medic.Server.Runbooks;
using Medic.Server.Storage;

namespace Medic.Server.Pipeline;

/// <summary>A proposed recipe before the risk gate: it runs, waits for an approver, or is escalated.</summary>
internal sealed partial class ProposalStep(
    Database db,
    PipelineIncidents incidents,
    RunbookStore runbooks,
    NodeStore nodes,
    JobQueue jobs,
    NotificationPlanner planner,
    ConsoleLinks links,
    AuditLog audit,
    JobSignal signal,
    ProcessTargeting targeting,
    TimeProvider time,
    ILogger<ProposalStep> log)
{
    /// <summary>
    /// Turns a proposal (a triage rule's, or a person's) into a remediation for the incident's
    /// current round: checks the recipe and its parameters, asks the risk gate, and in one
    /// transaction records the remediation and moves the incident to executing (auto-run, with the
    /// execute job), awaiting approval (with the approval, its notification and its expiry job) or
    /// escalated. A round that already has a remediation returns it and changes nothing.
    /// </summary>
    /// <param name="round">The round a triage job belongs to; null for a person's proposal, which starts a new round when the incident is escalated.</param>
    public async Task<ProposalOutcome> ProposeAsync(string tenantId, string incidentId, int? round, string proposer, Trust trust, string recipe, int? version,
        IReadOnlyDictionary<string, string>? parameters, string why, string? clientAddress, CancellationToken ct)
    {
        var detail = await incidents.GetAsync(tenantId, incidentId, ct)
            ?? throw new ProposalException($"No incident '{incidentId}' exists in this tenant.", "list them with medic incidents list", StatusCodes.Status404NotFound);
        var incident = detail.Incident;
        if (await runbooks.FindAsync(tenantId, recipe, version, ct) is not { } row)
        {
            throw new ProposalException($"No runbook '{recipe}'{(version is null ? "" : " v" + version)} exists in this tenant or the library.", "list them with medic runbook list");
        }

        var stored = runbooks.Load(row);
        var (values, errors) = ParameterValues.Bind(stored.Runbook, parameters);
        if (errors.Count > 0)
        {
            throw new ProposalException("The parameters do not fit the runbook: " + string.Join("; ", errors.Select(e => $"{e.Key}: {e.Value}")),
                $"see the parameters with medic runbook show {recipe}", StatusCodes.Status400BadRequest, errors);
        }

        var server = incident.ServerId is null ? null : await nodes.FindAsync(tenantId, incident.ServerId, ct);
        if (server is null)
        {
            throw new ProposalException("The incident names no server of this tenant to run the recipe on.", "run the runbook by hand with medic runbook run NAME --target SERVER");
        }

        // A process recipe acts on the one instance the evidence names, or not at all (two instances of one program: only the broken one).
        var targeted = await targeting.PinAsync(incident, server, stored.Runbook, values, ct);
        (values, errors) = ParameterValues.Bind(stored.Runbook, targeted.Values);
        if (errors.Count > 0)
        {
            throw new ProposalException("The process the evidence names does not fit the runbook's parameters: " + string.Join("; ", errors.Select(e => $"{e.Key}: {e.Value}")),
                $"propose it by hand with the right parameters (medic runbook show {recipe})", StatusCodes.Status409Conflict, errors);
        }

        var risk = stored.Runbook.Risk;
        var now = time.GetUtcNow();
        var outcome = await db.WriteAsync(async (c, tx) =>
        {
            if (await incidents.LockForPipelineAsync(c, tx, tenantId, incidentId) is not { } locked) throw new ProposalException($"No incident '{incidentId}' exists in this tenant.", "", StatusCodes.Status404NotFound);
            var current = locked.Round;
            if (round is { } r && r != current) throw new ProposalException($"the incident moved on to round {current}", "", StatusCodes.Status409Conflict);
            if (await PipelineStore.RemediationAsync(c, tx, tenantId, incidentId, current) is { } existing && round is not null)
            {
                return new ProposalOutcome(existing, locked.Incident, null);
            }

            var status = locked.Incident.Status;
            if (round is null)
            {
                // A person's proposal: on an escalated incident (or one whose round already had a remediation) it starts a new round.
                if (status is not (IncidentStatus.Open or IncidentStatus.Triaging or IncidentStatus.Escalated or IncidentStatus.Diagnosing))
                {
                    throw new ProposalException($"The incident is {locked.Incident.Status.ToText()}; a remediation can be proposed while it is open, triaging or escalated.",
                        "wait for the remediation under way, or reject its approval first", StatusCodes.Status409Conflict);
                }

                if (status == IncidentStatus.Escalated)
                {
                    await incidents.MoveAsync(c, tx, tenantId, incidentId, IncidentTrigger.Comment, proposer, $"{proposer} proposes {recipe}", null);
                }

                if (status == IncidentStatus.Escalated || await PipelineStore.RemediationAsync(c, tx, tenantId, incidentId, current) is not null)
                {
                    current = await incidents.NextRoundAsync(c, tx, tenantId, incidentId);
                }
            }

            if (status == IncidentStatus.Open) await incidents.MoveAsync(c, tx, tenantId, incidentId, IncidentTrigger.StartTriage, RemediationPipeline.SystemActor, "triage started", null);
            var proposedEvidence = new Dictionary<string, string> { ["runbook"] = stored.Row.Name, ["version"] = stored.Row.Version.ToString(CultureInfo.InvariantCulture), ["risk"] = Name(risk), ["server"] = server.Name };
            foreach (var (k, v) in values) proposedEvidence["param." + k] = v;
            foreach (var (k, v) in targeted.Evidence) proposedEvidence[k] = v;
            await incidents.MoveAsync(c, tx, tenantId, incidentId, IncidentTrigger.ProposeRecipe, proposer, $"{why}: {stored.Row.Name} v{stored.Row.Version} ({Name(risk)} risk) on {server.Name}", proposedEvidence);

            var settings = await PipelineStore.SettingsAsync(c, tx, tenantId);
            var context = await PipelineStore.GateContextAsync(c, tx, tenantId, server.Id, stored.Row.Name, settings, now);
            var decision = RiskGate.Decide(risk, trust, context);
            if (decision.Outcome == GateOutcome.AutoRun && !settings.Automation)
            {
                decision = new GateDecision(GateOutcome.NeedsApproval, "automation is off for this tenant: a person approves every run");
            }

            if (decision.Outcome == GateOutcome.AutoRun && await PipelineStore.RejectedAsync(c, tx, tenantId, incidentId, stored.Row.Name) is { } rejected)
            {
                // A person said no to this recipe on this incident: it never runs here again without a new approval.
                decision = new GateDecision(GateOutcome.NeedsApproval, $"a person rejected {stored.Row.Name} on this incident (round {rejected.Round}): it runs again only with a new approval");
            }

            var remediation = new RemediationRow
            {
                Id = Ids.New("rem"), TenantId = tenantId, IncidentId = incidentId, Round = current, Runbook = stored.Row.Name, Version = stored.Row.Version, Risk = Name(risk),
                Params = IncidentJson.Write(values) ?? "{}", ServerId = server.Id, ServerName = server.Name, ProposedBy = proposer, Trust = Name(trust),
                Gate = GateNames.Name(decision.Outcome), GateReason = decision.Reason, CreatedAt = now,
            };
            string? approvalId = null;
            IncidentResponse after;
            switch (decision.Outcome)
            {
                case GateOutcome.AutoRun:
                    remediation.StatusValue = RemediationStatus.Executing;
                    await PipelineStore.InsertRemediationAsync(c, tx, remediation);
                    after = await incidents.MoveAsync(c, tx, tenantId, incidentId, IncidentTrigger.AutoApprove, RemediationPipeline.SystemActor, "risk gate: " + decision.Reason, null);
                    await jobs.EnqueueAsync(c, tx, tenantId, PipelineEntry.ExecuteKind, PipelineEntry.Key(incidentId, current, "execute"),
                        PipelineEntry.Payload(new PipelineJob(tenantId, incidentId, current)));
                    break;
                case GateOutcome.NeedsApproval:
                    remediation.StatusValue = RemediationStatus.AwaitingApproval;
                    await PipelineStore.InsertRemediationAsync(c, tx, remediation);
                    var approval = new ApprovalRow
                    {
                        Id = PipelineStore.NewApprovalId(), TenantId = tenantId, IncidentId = incidentId, RemediationId = remediation.Id, RequestedBy = proposer,
                        Reason = decision.Reason, ExpiresAt = now.AddSeconds(settings.ApprovalTtlSeconds), CreatedAt = now,
                    };
                    approvalId = approval.Id;
                    await PipelineStore.InsertApprovalAsync(c, tx, approval);
                    after = await incidents.MoveAsync(c, tx, tenantId, incidentId, IncidentTrigger.RequestApproval, RemediationPipeline.SystemActor,
                        $"risk gate: {decision.Reason}; approval {approval.Id} waits until {approval.ExpiresAt:yyyy-MM-dd HH:mm} UTC: {links.Approval(approval.Id)}",
                        new Dictionary<string, string> { ["approval"] = approval.Id });
                    await audit.AppendAsync(c, tx, new AuditRecord(tenantId, proposer, "approval.request", "approval:" + approval.Id, AuditOutcomes.Success, clientAddress,
                        new Dictionary<string, string> { ["incident"] = incidentId, ["runbook"] = remediation.Runbook, ["risk"] = remediation.Risk, ["server"] = server.Name, ["reason"] = decision.Reason }));
                    await planner.ApprovalRequestedAsync(c, tx, tenantId, approval.Id, after);
                    await jobs.EnqueueAsync(c, tx, tenantId, PipelineEntry.ExpireKind, $"pipeline:approval:{approval.Id}:expire",
                        PipelineEntry.Payload(new PipelineJob(tenantId, incidentId, current, approval.Id)), approval.ExpiresAt);
                    break;
                default:
                    remediation.StatusValue = RemediationStatus.Escalated;
                    remediation.Error = decision.Reason;
                    remediation.FinishedAt = now;
                    await PipelineStore.InsertRemediationAsync(c, tx, remediation);
                    after = await incidents.MoveAsync(c, tx, tenantId, incidentId, IncidentTrigger.Escalate, RemediationPipeline.SystemActor, "risk gate: " + decision.Reason, null);
                    break;
            }

            return new ProposalOutcome(remediation, after, approvalId);
        }, ct);
        incidents.Publish(tenantId, "updated", outcome.Incident);
        signal.Wake();
        LogProposed(incidentId, outcome.Remediation.Runbook, outcome.Remediation.Gate, outcome.Remediation.GateReason);
        return outcome;
    }

    private static string Name(Risk risk) => risk.ToString().ToLowerInvariant();

    private static string Name(Trust trust) => trust.ToString().ToLowerInvariant();
}
