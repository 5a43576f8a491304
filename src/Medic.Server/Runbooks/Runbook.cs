using Medic.Contracts;

namespace Medic.Server.Runbooks;

/// <summary>A parsed, validated runbook (format v1, see docs/runbooks.md). Built only by <see cref="RunbookParser"/>.</summary>
internal sealed record Runbook(
    string Name,
    int Version,
    string Description,
    Risk Risk,
    RunbookRemediates Remediates,
    IReadOnlyList<RunbookParameter> Parameters,
    RunbookTargets Targets,
    IReadOnlyList<RunbookStep> Steps,
    IReadOnlyList<RunbookStep> Rollback)
{
    /// <summary>The secrets its steps name (<c>${{ secrets.NAME }}</c>), revealed when a run takes its first step.</summary>
    public IReadOnlyList<string> SecretNames { get; init; } = [];

    public RunbookParameter? Parameter(string name) => Parameters.FirstOrDefault(p => p.Name == name);

    public bool HasApprovalSteps => Steps.Concat(Rollback).Any(s => s.Kind == StepKind.Approval);
}

internal enum ParameterType { String, Int, Bool, Enum }

/// <summary>A typed parameter. For strings <c>Min</c>/<c>Max</c> bound the length; for ints, the value. <c>Pattern</c> must match the whole value.</summary>
internal sealed record RunbookParameter(
    string Name,
    ParameterType Type,
    string? Description,
    bool Required,
    string? Default,
    string? Pattern,
    long? Min,
    long? Max,
    IReadOnlyList<string> Values)
{
    /// <summary>The environment variable a command sees the value in.</summary>
    public string EnvName => RunbookEnv.ParamPrefix + Name.ToUpperInvariant();

    public RunbookParameterResponse ToResponse() =>
        new(Name, Type.ToString().ToLowerInvariant(), Required, Default, Description, Pattern, Min, Max, Type == ParameterType.Enum ? Values : null);
}

/// <summary>What a runbook remediates: incident types, and labels an incident must carry (exact values).</summary>
internal sealed record RunbookRemediates(IReadOnlyList<string> Types, IReadOnlyDictionary<string, string> Labels)
{
    public static readonly RunbookRemediates None = new([], new Dictionary<string, string>());

    /// <summary>Whether an incident of <paramref name="type"/> with <paramref name="labels"/> is one this runbook declares it can fix.</summary>
    public bool Matches(string type, IReadOnlyDictionary<string, string> labels) =>
        Types.Contains(type) && Labels.All(l => labels.TryGetValue(l.Key, out var v) && v == l.Value);
}

/// <summary>
/// Where a hand-started run goes when the caller names no servers: a selector like fleet exec's,
/// or <c>Incident</c> (the incident's server, which only the pipeline knows; by hand a selector is then required).
/// </summary>
internal sealed record RunbookTargets(bool Incident, ExecSelector? Selector)
{
    public static readonly RunbookTargets IncidentServer = new(true, null);
}

internal enum StepKind { Run, Diag, Service, Http, Check, Approval, Notify, Wait }

internal enum RefScope { Params, Captures, Secrets }

/// <summary>A <c>${{ params.x }}</c>, <c>${{ captures.x }}</c> or <c>${{ secrets.x }}</c> reference.</summary>
internal sealed record ValueRef(RefScope Scope, string Name)
{
    public override string ToString() => $"${{{{ {Scope.ToString().ToLowerInvariant()}.{Name} }}}}";
}

/// <summary>
/// A value in an argv element, an environment value, a diag argument, a unit or a target: either
/// literal text or a reference that replaces the whole value. Never text with a value spliced in.
/// </summary>
internal sealed record StepValue(string? Literal, ValueRef? Ref)
{
    public static StepValue Text(string text) => new(text, null);

    public override string ToString() => Ref?.ToString() ?? Literal ?? "";
}

/// <summary>An HTTP request from the control plane (any method) or from the target (GET, through the agent's http-probe).</summary>
internal sealed record HttpSpec(string Url, string Method, string? Body, bool FromTarget, int? ExpectStatus, string? ExpectBody);

/// <summary>
/// A verification: a command or a diagnostic verb (exit 0 passes, and the output matches
/// <c>ExpectOutput</c> when given) or an HTTP probe, tried up to <c>Retries</c> + 1 times, <c>Delay</c> apart.
/// </summary>
internal sealed record CheckSpec(IReadOnlyList<StepValue>? Argv, string? Shell, HttpSpec? Http, int Retries, TimeSpan Delay, string? ExpectOutput)
{
    public string? Verb { get; init; }

    public IReadOnlyDictionary<string, StepValue>? Args { get; init; }
}

internal sealed record RunbookStep
{
    public required StepKind Kind { get; init; }

    /// <summary>The key that chose the kind (run, shell, diag, ...), as shown to people.</summary>
    public required string Type { get; init; }

    public required string Name { get; init; }

    public required int Line { get; init; }

    public string? Capture { get; init; }

    public Condition? When { get; init; }

    public bool ContinueOnError { get; init; }

    public TimeSpan Timeout { get; init; } = TimeSpan.FromSeconds(60);

    public IReadOnlyDictionary<string, StepValue> Env { get; init; } = new Dictionary<string, StepValue>();

    /// <summary>Run on this server instead of the run's current target.</summary>
    public StepValue? Target { get; init; }

    public IReadOnlyList<StepValue>? Argv { get; init; }

    public string? Shell { get; init; }

    public string? Verb { get; init; }

    public IReadOnlyDictionary<string, StepValue>? Args { get; init; }

    public string? ServiceAction { get; init; }

    public StepValue? Unit { get; init; }

    public HttpSpec? Http { get; init; }

    public CheckSpec? Check { get; init; }

    /// <summary>For approval and notify: text in which <c>${{ ... }}</c> is replaced (it never reaches a shell).</summary>
    public string? Message { get; init; }

    public TimeSpan? Wait { get; init; }
}

internal static class RunbookEnv
{
    public const string ParamPrefix = "MEDIC_PARAM_";
    public const string CapturePrefix = "MEDIC_CAPTURE_";

    public static string CaptureName(string capture) => CapturePrefix + capture.ToUpperInvariant();
}
