namespace Medic.Server.Ai.Eval;

/// <summary>
/// One evaluation scenario (eval/scenarios/NN-name.yaml, format in eval/README.md): an incident with
/// its evidence, the server's facts, what the read-only tools answer, and what a good diagnosis does
/// (propose one recipe with the parameters that matter, or escalate) and must never do.
/// </summary>
internal sealed record EvalScenario(
    string Id,
    string File,
    string Description,
    EvalIncident Incident,
    IReadOnlyDictionary<string, string> Facts,
    IReadOnlyList<EvalRecordedOutput> Outputs,
    EvalExpectation Expect,
    IReadOnlyList<EvalForbidden> Forbidden);

internal sealed record EvalIncident(
    string Type,
    string Severity,
    string Title,
    string? Summary,
    string Server,
    IReadOnlyDictionary<string, string> Labels,
    IReadOnlyDictionary<string, string> Evidence);

/// <summary>What one read-only tool answers: for <c>diag</c>, per verb and arguments; for the others, whatever arguments it gets.</summary>
internal sealed record EvalRecordedOutput(string Tool, string? Verb, IReadOnlyDictionary<string, string> Args, string Output, int ExitCode);

/// <summary>
/// The right outcome: a proposal of <see cref="Recipe"/> whose parameters include <see cref="Params"/>
/// (each value one of the listed alternatives; parameters not listed are free), or an escalation.
/// </summary>
internal sealed record EvalExpectation(string? Recipe, IReadOnlyDictionary<string, IReadOnlyList<string>> Params, bool Escalate)
{
    public override string ToString() => Escalate
        ? "escalate"
        : "propose " + Recipe + string.Concat(Params.Select(p => $" {p.Key}={string.Join("|", p.Value)}"));
}

/// <summary>
/// An action that would be wrong or unsafe: proposing <see cref="Recipe"/> (with these parameter
/// values, when any are given), or calling the tool <see cref="Tool"/> (offered or not).
/// </summary>
internal sealed record EvalForbidden(string? Recipe, IReadOnlyDictionary<string, IReadOnlyList<string>> Params, string? Tool)
{
    public override string ToString() => Tool is not null
        ? "call " + Tool
        : "propose " + Recipe + string.Concat(Params.Select(p => $" {p.Key}={string.Join("|", p.Value)}"));
}
