using System.Data.Common;
using System.Globalization;
using System.Reflection;
using System.Text.Json;
using Medic.Contracts;
using Medic.Server.Audit;
using Medic.Server.Common;
using Medic.Server.Detection.Checks;
using Medic.Server.Fleet;
using Medic.Server.Incidents;
using Medic.Server.Notifications;
using Medic.Server.Runbooks;
using Medic.Server.Storage;

namespace Medic.Server.Pipeline;

/// <summary>
/// The remediation pipeline (DESIGN §6): triage proposes a recipe, the risk gate decides who must
/// agree, an approver (or nobody, for a low recipe from an autonomous actor) lets it run, the
/// runbook runs on the incident's server, verification re-checks, and the incident ends resolved or
/// escalated. Each step is a job (<see cref="PipelineEntry"/> kinds) whose state changes are written
/// in one transaction with the incident's transition, its timeline event and audit entry, and the
/// next step's job; a step that runs again after a crash finds its work done and moves on, and the
/// runbook run carries the idempotency key <c>pipeline:{incident}:{round}:run</c>, so a fix runs at most once.
/// </summary>
internal sealed partial class RemediationPipeline(
    Database db,
    PipelineIncidents incidents,
    PipelineStore store,
    RunbookStore runbooks,
    RunbookRunner runner,
    NodeStore nodes,
    Medic.Server.Gateway.TaskDispatcher dispatcher,
    Medic.Server.Gateway.AgentConnections connections,
    CheckStore checks,
    CheckRunner checkRunner,
    JobQueue jobs,
    NotificationPlanner planner,
    ConsoleLinks links,
    AuditLog audit,
    JobSignal signal,
    Microsoft.Extensions.Options.IOptions<MedicOptions> options,
    TimeProvider time,
    ILogger<RemediationPipeline> log)
{
    public const string SystemActor = "system:pipeline";

    /// <summary>The built-in triage rules (Pipeline/triage-defaults.yaml), tried after a tenant's own.</summary>
    public static string BuiltinRulesYaml { get; } = ReadBuiltin();

    private static readonly Lazy<IReadOnlyList<TriageRule>> BuiltinRules = new(() => TriageRules.Parse(BuiltinRulesYaml, "built-in triage rules"));

    private static string ReadBuiltin()
    {
        using var stream = Assembly.GetExecutingAssembly().GetManifestResourceStream("triage/defaults.yaml")
            ?? throw new InvalidOperationException("the built-in triage rules are not embedded");
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd();
    }

    /// <summary>The rules in the order they are tried: the tenant's, then the built-in ones.</summary>
    public static IReadOnlyList<(TriageRule Rule, string Origin)> Rules(string? tenantYaml)
    {
        var list = new List<(TriageRule, string)>();
        if (tenantYaml is { Length: > 0 } && !string.IsNullOrWhiteSpace(tenantYaml)) list.AddRange(TriageRules.Parse(tenantYaml, "tenant triage rules").Select(r => (r, "tenant")));
        list.AddRange(BuiltinRules.Value.Select(r => (r, "builtin")));
        return list;
    }

    private void Wake() => signal.Wake();

    // ---- triage ---------------------------------------------------------------------------

    /// <summary>
    /// Triage for one round: the first triage rule that matches proposes its recipe, after running the
    /// rule's read-only diagnosis on the incident's server (its output goes on the timeline). No rule:
    /// the incident stays open (a re-entered one goes back to escalated) with a timeline note, for a person.
    /// </summary>
    public async Task TriageAsync(PipelineJob job, CancellationToken ct)
    {
        var detail = await incidents.GetAsync(job.TenantId, job.IncidentId, ct);
        if (detail is null) return;
        var incident = detail.Incident;
        var status = incident.Status;
        if (status is not (IncidentStatus.Open or IncidentStatus.Triaging or IncidentStatus.Diagnosing)) return;
        if (status == IncidentStatus.Open && AgentSignals.LadderHealing(incident))
        {
            // The agent restarts the process itself first (DESIGN §5, the self-healing ladder); it hands over if it gives up.
            await NoRecipeAsync(job, "triage waits: the agent is restarting it locally; the pipeline takes over if the agent gives up", ct);
            return;
        }

        var settings = await store.SettingsAsync(job.TenantId, ct);

        TriageProposal? proposal;
        string? ruleError = null;
        try
        {
            proposal = TriageRules.Propose(Rules(settings.TriageRules).Select(r => r.Rule).ToList(), incident);
        }
        catch (TriageRuleException ex)
        {
            proposal = TriageRules.Propose(BuiltinRules.Value, incident);
            ruleError = ex.Message;
        }

        if (proposal is null)
        {
            var why = "triage: no rule proposes a recipe for this incident (type " + incident.Type + "); a person takes it" + (ruleError is null ? "" : "; the tenant's rules do not parse: " + ruleError);
            await NoRecipeAsync(job, why, ct);
            return;
        }

        try
        {
            if (proposal.Diagnose is { Count: > 0 } diagnose && incident.ServerId is not null) await DiagnoseAsync(job, proposal.Rule, diagnose, ct);
            await ProposeAsync(job.TenantId, job.IncidentId, job.Round, "rule:" + proposal.Rule, proposal.Trust, proposal.Recipe, null, proposal.Parameters,
                $"triage rule {proposal.Rule} proposes {proposal.Recipe}", clientAddress: null, ct);
        }
        catch (ProposalException ex)
        {
            await NoRecipeAsync(job, $"triage rule {proposal.Rule} proposes {proposal.Recipe}, which cannot run: {ex.Message}", ct, escalate: true);
        }
    }

    /// <summary>
    /// Moves the incident to diagnosing and runs each read-only verb on its server (20 s each), one
    /// evidence event per verb. Safe to run again when a crashed triage is taken up: the verbs only read.
    /// </summary>
    private async Task DiagnoseAsync(PipelineJob job, string rule, IReadOnlyList<DiagnosisStep> steps, CancellationToken ct)
    {
        var moved = await db.WriteAsync<IncidentResponse?>(async (c, tx) =>
        {
            if (await incidents.LockForPipelineAsync(c, tx, job.TenantId, job.IncidentId) is not { } now || now.Round != job.Round) return null;
            if (now.Incident.Status == IncidentStatus.Diagnosing) return null;
            if (now.Incident.Status == IncidentStatus.Open) await Move(c, tx, job.TenantId, job.IncidentId, IncidentTrigger.StartTriage, SystemActor, "triage started", null);
            return await Move(c, tx, job.TenantId, job.IncidentId, IncidentTrigger.StartDiagnosis, "rule:" + rule,
                $"collecting evidence: {string.Join(", ", steps.Select(d => d.Verb))}", null);
        }, ct);
        if (moved is not null) incidents.Publish(job.TenantId, "updated", moved);
        var incident = (await incidents.GetAsync(job.TenantId, job.IncidentId, ct))?.Incident;
        if (incident?.ServerId is null || await nodes.FindAsync(job.TenantId, incident.ServerId, ct) is not { } node) return;
        foreach (var step in steps)
        {
            var result = await dispatcher.RunAsync(node, Medic.Contracts.Agent.TaskKind.Diag, [], step.Verb, step.Args, 20, null, ct);
            var output = Clip(string.Join("\n", new[] { result.Stdout.Trim(), result.Stderr.Trim() }.Where(t => t.Length > 0)), 4000);
            var data = new Dictionary<string, string> { ["verb"] = step.Verb, ["status"] = result.Status, ["task"] = result.TaskId };
            foreach (var (k, v) in step.Args) data["arg." + k] = v;
            if (output.Length > 0) data["output"] = output;
            if (result.Reason is { Length: > 0 } reason) data["reason"] = reason;
            await db.WriteAsync((c, tx) => incidents.NoteAsync(c, tx, job.TenantId, job.IncidentId, "evidence", "rule:" + rule,
                $"{step.Verb} on {node.Name}: {result.Status}{(result.ExitCode is { } code ? $" (exit {code})" : "")}", data), ct);
        }
    }

    private async Task NoRecipeAsync(PipelineJob job, string why, CancellationToken ct, bool escalate = false)
    {
        var moved = await db.WriteAsync<IncidentResponse?>(async (c, tx) =>
        {
            if (await incidents.LockForPipelineAsync(c, tx, job.TenantId, job.IncidentId) is not { } now || now.Round != job.Round) return null;
            var status = now.Incident.Status;
            if (status is not (IncidentStatus.Open or IncidentStatus.Triaging or IncidentStatus.Diagnosing)) return null; // a person's proposal got there first
            if (status != IncidentStatus.Open || escalate)
            {
                var (after, refusal) = await incidents.TransitionAsync(c, tx, job.TenantId, job.IncidentId, IncidentTrigger.Escalate, SystemActor, why, null, job.Round);
                return refusal is null ? after : null;
            }

            await incidents.NoteAsync(c, tx, job.TenantId, job.IncidentId, "triage", SystemActor, why, null);
            return null;
        }, ct);
        if (moved is not null) incidents.Publish(job.TenantId, "updated", moved);
    }

    // ---- proposal and the risk gate -------------------------------------------------------

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
                    await Move(c, tx, tenantId, incidentId, IncidentTrigger.Comment, proposer, $"{proposer} proposes {recipe}", null);
                }

                if (status == IncidentStatus.Escalated || await PipelineStore.RemediationAsync(c, tx, tenantId, incidentId, current) is not null)
                {
                    current = await incidents.NextRoundAsync(c, tx, tenantId, incidentId);
                }
            }

            if (status == IncidentStatus.Open) await Move(c, tx, tenantId, incidentId, IncidentTrigger.StartTriage, SystemActor, "triage started", null);
            var proposedEvidence = new Dictionary<string, string> { ["runbook"] = stored.Row.Name, ["version"] = stored.Row.Version.ToString(CultureInfo.InvariantCulture), ["risk"] = Name(risk), ["server"] = server.Name };
            foreach (var (k, v) in values) proposedEvidence["param." + k] = v;
            await Move(c, tx, tenantId, incidentId, IncidentTrigger.ProposeRecipe, proposer, $"{why}: {stored.Row.Name} v{stored.Row.Version} ({Name(risk)} risk) on {server.Name}", proposedEvidence);

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
                    after = await Move(c, tx, tenantId, incidentId, IncidentTrigger.AutoApprove, SystemActor, "risk gate: " + decision.Reason, null);
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
                    after = await Move(c, tx, tenantId, incidentId, IncidentTrigger.RequestApproval, SystemActor,
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
                    after = await Move(c, tx, tenantId, incidentId, IncidentTrigger.Escalate, SystemActor, "risk gate: " + decision.Reason, null);
                    break;
            }

            return new ProposalOutcome(remediation, after, approvalId);
        }, ct);
        incidents.Publish(tenantId, "updated", outcome.Incident);
        Wake();
        LogProposed(incidentId, outcome.Remediation.Runbook, outcome.Remediation.Gate, outcome.Remediation.GateReason);
        return outcome;
    }

    private async Task<IncidentResponse> Move(DbConnection c, DbTransaction tx, string tenantId, string incidentId, IncidentTrigger trigger, string actor, string message, IReadOnlyDictionary<string, string>? data)
    {
        var (incident, refusal) = await incidents.TransitionAsync(c, tx, tenantId, incidentId, trigger, actor, message, data);
        if (refusal is not null || incident is null) throw new ProposalException(refusal ?? "no such incident", "", StatusCodes.Status409Conflict);
        return incident;
    }

    // ---- approvals ------------------------------------------------------------------------

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
                after = await Move(c, tx, tenantId, a.IncidentId, IncidentTrigger.Approve, actor, $"approved {remediation.Runbook}" + (comment is null ? "" : ": " + comment), null);
                await jobs.EnqueueAsync(c, tx, tenantId, PipelineEntry.ExecuteKind, PipelineEntry.Key(a.IncidentId, remediation.Round, "execute"),
                    PipelineEntry.Payload(new PipelineJob(tenantId, a.IncidentId, remediation.Round)));
            }
            else
            {
                remediation.StatusValue = RemediationStatus.Rejected;
                remediation.Error = "rejected by " + actor + (comment is null ? "" : ": " + comment);
                remediation.FinishedAt = now;
                await PipelineStore.UpdateRemediationAsync(c, tx, remediation);
                after = await Move(c, tx, tenantId, a.IncidentId, IncidentTrigger.Reject, actor, $"rejected {remediation.Runbook}" + (comment is null ? "" : ": " + comment), null);
            }

            return (a, after, false);
        }, ct);
        if (cancelled) throw new ProposalException($"Approval {approval.Id} was cancelled: {approval.Comment}.", "see the incident with medic incidents show " + approval.IncidentId, StatusCodes.Status409Conflict);
        incidents.Publish(tenantId, "updated", incident!);
        Wake();
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
            if (now < a.ExpiresAt) throw new InvalidOperationException("the approval has not expired yet");
            a.StatusValue = ApprovalStatus.Expired;
            a.DecidedAt = now;
            await PipelineStore.DecideApprovalAsync(c, tx, a);
            var remediation = (await PipelineStore.RemediationByIdAsync(c, tx, job.TenantId, a.RemediationId))!;
            remediation.StatusValue = RemediationStatus.Expired;
            remediation.Error = $"nobody decided by {a.ExpiresAt:yyyy-MM-dd HH:mm:ss} UTC";
            remediation.FinishedAt = now;
            await PipelineStore.UpdateRemediationAsync(c, tx, remediation);
            await audit.AppendAsync(c, tx, new AuditRecord(job.TenantId, SystemActor, "approval.expire", "approval:" + a.Id, AuditOutcomes.Success, null,
                new Dictionary<string, string> { ["incident"] = a.IncidentId, ["runbook"] = remediation.Runbook }));
            var (incident, refusal) = await incidents.TransitionAsync(c, tx, job.TenantId, a.IncidentId, IncidentTrigger.ApprovalExpired, SystemActor,
                $"approval {a.Id} for {remediation.Runbook} expired unanswered", null, remediation.Round);
            return refusal is null ? incident : null;
        }, ct);
        if (after is not null) incidents.Publish(job.TenantId, "updated", after);
    }

    // ---- execution ------------------------------------------------------------------------

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
            var output = failing is null ? null : Clip(string.Join("\n", new[] { failing.Stdout.Trim(), failing.Stderr.Trim() }.Where(t => t.Length > 0)), 4000);
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
            var (incident, refusal) = await incidents.TransitionAsync(c, tx, job.TenantId, job.IncidentId, IncidentTrigger.StartVerification, SystemActor, note,
                new Dictionary<string, string> { ["run"] = run.Id, ["run_status"] = run.Status.ToText() }, job.Round);
            await jobs.EnqueueAsync(c, tx, job.TenantId, PipelineEntry.VerifyKind, PipelineEntry.Key(job.IncidentId, job.Round, "verify"), PipelineEntry.Payload(job));
            return refusal is null ? incident : null;
        }, ct);
        if (after is not null) incidents.Publish(job.TenantId, "updated", after);
        Wake();
    }

    private async Task FailAsync(PipelineJob job, RemediationRow remediation, string error, string? output, CancellationToken ct, RemediationStatus status = RemediationStatus.Failed)
    {
        var after = await db.WriteAsync<IncidentResponse?>(async (c, tx) =>
        {
            var r = (await PipelineStore.RemediationAsync(c, tx, job.TenantId, job.IncidentId, job.Round))!;
            if (r.StatusValue is not (RemediationStatus.Executing or RemediationStatus.Verifying)) return null;
            r.StatusValue = status;
            r.Error = Clip(error, 4000);
            r.FinishedAt = time.GetUtcNow();
            await PipelineStore.UpdateRemediationAsync(c, tx, r);
            var data = new Dictionary<string, string> { ["runbook"] = r.Runbook };
            if (r.RunId is not null) data["run"] = r.RunId;
            if (output is { Length: > 0 }) data["output"] = output;
            var (_, refusal) = await incidents.TransitionAsync(c, tx, job.TenantId, job.IncidentId, IncidentTrigger.RemediationFailed, SystemActor, $"{r.Runbook} failed: {error}", data, job.Round);
            if (refusal is not null) return null;
            var (incident, _) = await incidents.TransitionAsync(c, tx, job.TenantId, job.IncidentId, IncidentTrigger.Escalate, SystemActor,
                $"escalated: {r.Runbook} did not fix it; a person takes over", null, job.Round);
            return incident;
        }, ct);
        if (after is not null) incidents.Publish(job.TenantId, "updated", after);
    }

    // ---- verification ---------------------------------------------------------------------

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
        var incident = (await incidents.GetAsync(job.TenantId, job.IncidentId, ct))?.Incident;
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
                await FailAsync(job, remediation, "verification did not pass: " + how, null, ct);
                return;
            case Verdict.WaitForSignal:
                throw new JobDeferredException(time.GetUtcNow().AddSeconds(2), how);
            default:
                if (remediation.StatusValue != RemediationStatus.AwaitingConfirmation) await AwaitConfirmationAsync(job, how, ct);
                // Asked again every few seconds at first, then every minute: a person may take a while.
                var poll = time.GetUtcNow() - since < TimeSpan.FromMinutes(10) ? TimeSpan.FromSeconds(2) : TimeSpan.FromMinutes(1);
                throw new JobDeferredException(time.GetUtcNow() + poll, "waiting for a person to confirm");
        }
    }

    private async Task FinishVerifiedAsync(PipelineJob job, string how, bool transition, CancellationToken ct)
    {
        var after = await db.WriteAsync<IncidentResponse?>(async (c, tx) =>
        {
            var r = (await PipelineStore.RemediationAsync(c, tx, job.TenantId, job.IncidentId, job.Round))!;
            if (r.StatusValue is not (RemediationStatus.Verifying or RemediationStatus.AwaitingConfirmation)) return null;
            r.StatusValue = RemediationStatus.Succeeded;
            r.Verification = Clip(how, 2000);
            r.FinishedAt = time.GetUtcNow();
            await PipelineStore.UpdateRemediationAsync(c, tx, r);
            if (!transition) return null;
            var (incident, refusal) = await incidents.TransitionAsync(c, tx, job.TenantId, job.IncidentId, IncidentTrigger.VerificationPassed, SystemActor,
                $"remediated by {r.Runbook}, verified: {how}", null, job.Round);
            return refusal is null ? incident : null;
        }, ct);
        if (after is not null) incidents.Publish(job.TenantId, "resolved", after);
    }

    /// <summary>Marks the remediation as waiting for a person and says so on the timeline, once.</summary>
    private async Task AwaitConfirmationAsync(PipelineJob job, string why, CancellationToken ct) =>
        await db.WriteAsync(async (c, tx) =>
        {
            var r = (await PipelineStore.RemediationAsync(c, tx, job.TenantId, job.IncidentId, job.Round))!;
            if (r.StatusValue != RemediationStatus.Verifying) return;
            r.StatusValue = RemediationStatus.AwaitingConfirmation;
            r.Verification = Clip(why, 2000);
            await PipelineStore.UpdateRemediationAsync(c, tx, r);
            await incidents.NoteAsync(c, tx, job.TenantId, job.IncidentId, "awaiting_confirmation", SystemActor,
                $"waiting for confirmation: {why}; confirm with medic incidents resolve {job.IncidentId}", null);
        }, ct);

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

    private static string Name(Risk risk) => risk.ToString().ToLowerInvariant();

    private static string Name(Trust trust) => trust.ToString().ToLowerInvariant();

    private static string Clip(string text, int max) => text.Length <= max ? text : text[..max] + "…";

    [LoggerMessage(Level = LogLevel.Information, Message = "Incident {IncidentId}: {Runbook} proposed; gate {Gate}: {Reason}")]
    private partial void LogProposed(string incidentId, string runbook, string gate, string reason);
}
