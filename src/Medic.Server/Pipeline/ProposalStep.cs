using System.Data.Common;
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
    Func<IAiStage> ai,
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
        // An AI agent holding validate checks what anything but a person proposed, before the gate decides;
        // its verdict can only make the gate stricter (a person's proposal waits for another person anyway).
        var validation = proposer.StartsWith("user:", StringComparison.Ordinal) ? null
            : await ai().ValidateAsync(tenantId, incidentId,
                new ProposalToValidate(proposer, stored.Row.Name, stored.Row.Version, Name(risk), stored.Runbook.Description, values, server.Name, why), ct);
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

            if (validation is not null)
            {
                decision = Stricter(decision, validation);
                await incidents.NoteAsync(c, tx, tenantId, incidentId, "ai_run", "ai:" + validation.Agent, ValidationNote(validation, stored.Row.Name),
                    new Dictionary<string, string> { ["ai_run"] = validation.RunId, ["purpose"] = "validate", ["verdict"] = VerdictName(validation.Verdict) });
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
                    var (approval, renewed) = await RequestApprovalAsync(c, tx, remediation, proposer, decision.Reason, settings, now, clientAddress);
                    approvalId = approval.Id;
                    after = await incidents.MoveAsync(c, tx, tenantId, incidentId, IncidentTrigger.RequestApproval, RemediationPipeline.SystemActor,
                        renewed
                            ? $"risk gate: {decision.Reason}; approval {approval.Id}, asked for earlier for the same recipe and parameters, still waits, now until {approval.ExpiresAt:yyyy-MM-dd HH:mm} UTC: {links.Approval(approval.Id)}"
                            : $"risk gate: {decision.Reason}; approval {approval.Id} waits until {approval.ExpiresAt:yyyy-MM-dd HH:mm} UTC: {links.Approval(approval.Id)}",
                        new Dictionary<string, string> { ["approval"] = approval.Id });
                    // People were asked once for this request; a re-proposal renews it without asking again.
                    if (!renewed) await planner.ApprovalRequestedAsync(c, tx, tenantId, approval.Id, after);
                    await jobs.EnqueueAsync(c, tx, tenantId, PipelineEntry.ExpireKind, ExpireKey(approval.Id, renewed ? current : null),
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

    /// <summary>
    /// One pending approval per problem: an approval still waiting on this incident for the same
    /// recipe, version, server and parameters (a re-fired alert, a reopened incident, a later round)
    /// is carried over to <paramref name="remediation"/> with the new reason and expiry; one waiting
    /// for anything else is superseded. Only when none carries over is a new approval created.
    /// </summary>
    private async Task<(ApprovalRow Approval, bool Renewed)> RequestApprovalAsync(DbConnection c, DbTransaction tx, RemediationRow remediation, string proposer, string reason,
        PipelineSettingsRow settings, DateTimeOffset now, string? clientAddress)
    {
        var tenantId = remediation.TenantId;
        var expires = now.AddSeconds(settings.ApprovalTtlSeconds);
        ApprovalRow? carried = null;
        foreach (var waiting in await PipelineStore.PendingApprovalsAsync(c, tx, tenantId, remediation.IncidentId))
        {
            var earlier = (await PipelineStore.RemediationByIdAsync(c, tx, tenantId, waiting.RemediationId))!;
            var same = carried is null && SameRequest(earlier, remediation);
            earlier.StatusValue = RemediationStatus.Cancelled;
            earlier.FinishedAt = now;
            earlier.Error = same
                ? $"proposed again in round {remediation.Round} ({remediation.Id}); approval {waiting.Id} carries over to it"
                : $"superseded: {remediation.Runbook} v{remediation.Version} was proposed in round {remediation.Round} ({remediation.Id})";
            await PipelineStore.UpdateRemediationAsync(c, tx, earlier);
            if (same)
            {
                waiting.RemediationId = remediation.Id;
                waiting.Reason = reason;
                waiting.ExpiresAt = expires;
                await PipelineStore.RenewApprovalAsync(c, tx, waiting);
                await audit.AppendAsync(c, tx, new AuditRecord(tenantId, proposer, "approval.renew", "approval:" + waiting.Id, AuditOutcomes.Success, clientAddress,
                    new Dictionary<string, string> { ["incident"] = remediation.IncidentId, ["runbook"] = remediation.Runbook, ["round"] = remediation.Round.ToString(CultureInfo.InvariantCulture), ["reason"] = reason }));
                carried = waiting;
                continue;
            }

            waiting.StatusValue = ApprovalStatus.Superseded;
            waiting.DecidedAt = now;
            waiting.Comment = $"superseded by the proposal of {remediation.Runbook} v{remediation.Version} ({ParamsText(remediation)}) in round {remediation.Round}";
            await PipelineStore.DecideApprovalAsync(c, tx, waiting);
            await audit.AppendAsync(c, tx, new AuditRecord(tenantId, RemediationPipeline.SystemActor, "approval.supersede", "approval:" + waiting.Id, AuditOutcomes.Success, null,
                new Dictionary<string, string> { ["incident"] = remediation.IncidentId, ["runbook"] = earlier.Runbook, ["by"] = remediation.Id }));
            await incidents.NoteAsync(c, tx, tenantId, remediation.IncidentId, "approval_superseded", RemediationPipeline.SystemActor,
                $"approval {waiting.Id} for {earlier.Runbook} ({ParamsText(earlier)}) is superseded: {remediation.Runbook} ({ParamsText(remediation)}) was proposed instead",
                new Dictionary<string, string> { ["approval"] = waiting.Id });
        }

        if (carried is not null) return (carried, true);
        var approval = new ApprovalRow
        {
            Id = PipelineStore.NewApprovalId(), TenantId = tenantId, IncidentId = remediation.IncidentId, RemediationId = remediation.Id, RequestedBy = proposer,
            Reason = reason, ExpiresAt = expires, CreatedAt = now,
        };
        await PipelineStore.InsertApprovalAsync(c, tx, approval);
        await audit.AppendAsync(c, tx, new AuditRecord(tenantId, proposer, "approval.request", "approval:" + approval.Id, AuditOutcomes.Success, clientAddress,
            new Dictionary<string, string> { ["incident"] = remediation.IncidentId, ["runbook"] = remediation.Runbook, ["risk"] = remediation.Risk, ["server"] = remediation.ServerName ?? "", ["reason"] = reason }));
        return (approval, false);
    }

    /// <summary>A validator's disagreement turns an automatic run into a request for a person and adds its reason to one; nothing else changes the gate.</summary>
    internal static GateDecision Stricter(GateDecision decision, AiValidation validation)
    {
        if (validation.Verdict != AiVerdict.Disagree || decision.Outcome == GateOutcome.Escalate) return decision;
        var because = $"AI validator {validation.Agent} disagrees (run {validation.RunId}): {validation.Reason}";
        return decision.Outcome == GateOutcome.AutoRun
            ? new GateDecision(GateOutcome.NeedsApproval, because + "; a person decides")
            : new GateDecision(GateOutcome.NeedsApproval, decision.Reason + "; " + because);
    }

    private static string ValidationNote(AiValidation v, string recipe) => v.Verdict switch
    {
        AiVerdict.Agree => $"AI validation of {recipe} by {v.Agent} (run {v.RunId}): agrees; the risk gate decides as usual",
        AiVerdict.Disagree => $"AI validation of {recipe} by {v.Agent} (run {v.RunId}): disagrees: {v.Reason}; it cannot run without a person's approval",
        _ => $"AI validation of {recipe} by {v.Agent} (run {v.RunId}) gave no verdict ({v.Reason}); the risk gate decides as without it",
    };

    private static string VerdictName(AiVerdict verdict) => verdict switch
    {
        AiVerdict.Agree => "agree",
        AiVerdict.Disagree => "disagree",
        _ => "none",
    };

    private static bool SameRequest(RemediationRow a, RemediationRow b) =>
        a.Runbook == b.Runbook && a.Version == b.Version && a.ServerId == b.ServerId
        && a.ParamMap.Count == b.ParamMap.Count && a.ParamMap.All(kv => b.ParamMap.TryGetValue(kv.Key, out var v) && v == kv.Value);

    private static string ParamsText(RemediationRow r) =>
        r.ParamMap.Count == 0 ? "no parameters" : string.Join(", ", r.ParamMap.OrderBy(kv => kv.Key, StringComparer.Ordinal).Select(kv => kv.Key + "=" + kv.Value));

    /// <summary>The expiry job of an approval; a renewal (in a later round) gets its own, and the earlier one finds nothing to do.</summary>
    internal static string ExpireKey(string approvalId, int? renewedInRound) =>
        $"pipeline:approval:{approvalId}:expire" + (renewedInRound is { } round ? ":" + round.ToString(CultureInfo.InvariantCulture) : "");

    private static string Name(Risk risk) => risk.ToString().ToLowerInvariant();

    private static string Name(Trust trust) => trust.ToString().ToLowerInvariant();
}
