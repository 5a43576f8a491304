using System.Reflection;
using Medic.Contracts;
using Medic.Server.Fleet;
using Medic.Server.Incidents;
using Medic.Server.Storage;

namespace Medic.Server.Pipeline;

/// <summary>The pipeline's first step for a round: which recipe, if any, the triage rules propose for the incident.</summary>
internal sealed class TriageStep(
    Database db,
    PipelineIncidents incidents,
    PipelineStore store,
    NodeStore nodes,
    Medic.Server.Gateway.TaskDispatcher dispatcher,
    ProposalStep proposals,
    IAiStage ai)
{
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

    /// <summary>
    /// Triage for one round: the first triage rule that matches proposes its recipe, after running the
    /// rule's read-only diagnosis on the incident's server (its output goes on the timeline). No rule:
    /// the incident stays open (a re-entered one goes back to escalated) with a timeline note, for a person.
    /// </summary>
    public async Task TriageAsync(PipelineJob job, CancellationToken ct)
    {
        var incident = await incidents.IncidentAsync(job.TenantId, job.IncidentId, ct);
        if (incident is null) return;
        var status = incident.Status;
        if (status is not (IncidentStatus.Open or IncidentStatus.Triaging or IncidentStatus.Diagnosing)) return;
        if (status == IncidentStatus.Open && AgentSignals.LadderHealing(incident))
        {
            // The agent restarts the process itself first (DESIGN §5, the self-healing ladder); it hands over if it gives up.
            await NoRecipeAsync(job, "triage waits: the agent is restarting it locally; the pipeline takes over if the agent gives up", ct);
            return;
        }

        // An AI agent holding the triage role looks first; when it proposes nothing the rules still run.
        if (await ai.RunAsync(AiStageRole.Triage, job.TenantId, job.IncidentId, job.Round, ct) is { } triaged && (triaged.Proposed || triaged.Escalated)) return;

        var settings = await store.SettingsAsync(job.TenantId, ct);
        IReadOnlyList<TriageRule> rules;
        string? ruleError = null;
        try
        {
            rules = Rules(settings.TriageRules).Select(r => r.Rule).ToList();
        }
        catch (TriageRuleException ex)
        {
            rules = BuiltinRules.Value;
            ruleError = ex.Message;
        }

        // Rules are tried in order; a rule's diagnosis runs before its evidence condition is checked, and
        // what a verb found (its "finding KEY=VALUE" lines) is evidence for this rule and the ones after it.
        var evidence = new Dictionary<string, string>(incident.Evidence ?? new Dictionary<string, string>(), StringComparer.Ordinal);
        var ran = new HashSet<string>(StringComparer.Ordinal);
        TriageProposal? proposal = null;
        foreach (var rule in rules)
        {
            if (!TriageRules.Matches(rule, incident)) continue;
            var diagnosis = TriageRules.Diagnosis(rule, incident, evidence);
            if (diagnosis.Count > 0 && incident.ServerId is not null)
            {
                foreach (var (key, value) in await DiagnoseAsync(job, rule.Name, diagnosis.Where(d => ran.Add(Key(d))).ToList(), ct)) evidence[key] = value;
            }

            if (TriageRules.Complete(rule, incident, evidence, diagnosis) is { } complete)
            {
                proposal = complete;
                break;
            }
        }

        if (proposal is null)
        {
            // No rule fixes it (or the agent's ladder gave up and no rule applies): an AI agent holding the
            // diagnose role is the next rung, before a person.
            var diagnosed = await ai.RunAsync(AiStageRole.Diagnose, job.TenantId, job.IncidentId, job.Round, ct);
            if (diagnosed is { Proposed: true } or { Escalated: true }) return;
            var why = "triage: no rule proposes a recipe for this incident (type " + incident.Type + (ran.Count > 0 ? ", after its diagnosis" : "") + "); a person takes it"
                + (ruleError is null ? "" : "; the tenant's rules do not parse: " + ruleError)
                + (diagnosed is null ? "" : $"; AI diagnosis (run {diagnosed.RunId}): {diagnosed.Summary}");
            // Medic stops here: what a source or a check raised goes to a person as escalated (and the on-call route
            // hears it); an incident a person opened by hand is already with a person and stays open.
            await NoRecipeAsync(job, why, ct, escalate: incident.Source != IncidentSources.Manual);
            return;
        }

        try
        {
            var because = proposal.Because is { Length: > 0 } b ? $"triage rule {proposal.Rule} proposes {proposal.Recipe}: {b}" : $"triage rule {proposal.Rule} proposes {proposal.Recipe}";
            await proposals.ProposeAsync(job.TenantId, job.IncidentId, job.Round, "rule:" + proposal.Rule, proposal.Trust, proposal.Recipe, null, proposal.Parameters,
                because, clientAddress: null, ct);
        }
        catch (ProposalException ex)
        {
            await NoRecipeAsync(job, $"triage rule {proposal.Rule} proposes {proposal.Recipe}, which cannot run: {ex.Message}", ct, escalate: true);
        }
    }

    private static string Key(DiagnosisStep step) =>
        step.Verb + "?" + string.Join("&", step.Args.OrderBy(a => a.Key, StringComparer.Ordinal).Select(a => a.Key + "=" + a.Value));

    /// <summary>
    /// Moves the incident to diagnosing and runs each read-only verb on its server (20 s each), one
    /// evidence event per verb, and returns what the verbs found. Safe to run again when a crashed
    /// triage is taken up: the verbs only read.
    /// </summary>
    private async Task<IReadOnlyDictionary<string, string>> DiagnoseAsync(PipelineJob job, string rule, IReadOnlyList<DiagnosisStep> steps, CancellationToken ct)
    {
        var findings = new Dictionary<string, string>(StringComparer.Ordinal);
        if (steps.Count == 0) return findings;
        var moved = await db.WriteAsync<IncidentResponse?>(async (c, tx) =>
        {
            if (await incidents.LockForPipelineAsync(c, tx, job.TenantId, job.IncidentId) is not { } now || now.Round != job.Round) return null;
            if (now.Incident.Status == IncidentStatus.Diagnosing) return null;
            if (now.Incident.Status == IncidentStatus.Open) await incidents.MoveAsync(c, tx, job.TenantId, job.IncidentId, IncidentTrigger.StartTriage, RemediationPipeline.SystemActor, "triage started", null);
            return await incidents.MoveAsync(c, tx, job.TenantId, job.IncidentId, IncidentTrigger.StartDiagnosis, "rule:" + rule,
                $"collecting evidence: {string.Join(", ", steps.Select(d => d.Verb))}", null);
        }, ct);
        if (moved is not null) incidents.Publish(job.TenantId, "updated", moved);
        var incident = await incidents.IncidentAsync(job.TenantId, job.IncidentId, ct);
        if (incident?.ServerId is null || await nodes.FindAsync(job.TenantId, incident.ServerId, ct) is not { } node) return findings;
        foreach (var step in steps)
        {
            var result = await dispatcher.RunAsync(node, Medic.Contracts.Agent.TaskKind.Diag, [], step.Verb, step.Args, 20, null, ct);
            if (result.Status == TaskRunStatus.Completed)
            {
                foreach (var (key, value) in TriageRules.Findings(result.Stdout)) findings[key] = value;
            }

            var output = Texts.Truncate(string.Join("\n", new[] { result.Stdout.Trim(), result.Stderr.Trim() }.Where(t => t.Length > 0)), 4000);
            var data = new Dictionary<string, string> { ["verb"] = step.Verb, ["status"] = result.Status.ToText(), ["task"] = result.TaskId };
            foreach (var (k, v) in step.Args) data["arg." + k] = v;
            if (output.Length > 0) data["output"] = output;
            if (result.Reason is { Length: > 0 } reason) data["reason"] = reason;
            var found = TriageRules.Findings(result.Stdout);
            foreach (var (k, v) in found) data["finding." + k] = v;
            var summary = found.Count == 0 ? "" : " found " + string.Join(", ", found.Select(f => f.Key + "=" + f.Value));
            await db.WriteAsync((c, tx) => incidents.NoteAsync(c, tx, job.TenantId, job.IncidentId, "evidence", "rule:" + rule,
                Texts.Truncate($"{step.Verb} on {node.Name}: {result.Status.ToText()}{(result.ExitCode is { } code ? $" (exit {code})" : "")}{summary}", 1000), data), ct);
        }

        return findings;
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
                var (after, refusal) = await incidents.TransitionAsync(c, tx, job.TenantId, job.IncidentId, IncidentTrigger.Escalate, RemediationPipeline.SystemActor, why, null, job.Round);
                return refusal is null ? after : null;
            }

            await incidents.NoteAsync(c, tx, job.TenantId, job.IncidentId, "triage", RemediationPipeline.SystemActor, why, null);
            return null;
        }, ct);
        if (moved is not null) incidents.Publish(job.TenantId, "updated", moved);
    }
}
