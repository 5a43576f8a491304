using System.Globalization;
using Medic.Contracts;
using Medic.Server.Common;

namespace Medic.Server.Runbooks;

/// <summary>
/// The values a run has on one server: its parameters and what its steps captured so far. This is
/// where parameters become environment variables and whole argv elements, and nowhere else.
/// </summary>
internal sealed class RunValues(IReadOnlyDictionary<string, string> parameters, bool planning = false)
{
    public const int MaxCapture = 64 * 1024;

    public IReadOnlyDictionary<string, string> Parameters => parameters;

    public Dictionary<string, string> Captures { get; } = new(StringComparer.Ordinal);

    private IReadOnlyDictionary<string, string>? _secrets;

    /// <summary>Whether the values of the runbook's secrets were looked up for this run (see <see cref="UseSecrets"/>).</summary>
    public bool HasSecrets => _secrets is not null;

    /// <summary>The values of the secrets the runbook names that exist; a step that reads a missing one fails naming it.</summary>
    public void UseSecrets(IReadOnlyDictionary<string, string> secrets) => _secrets = secrets;

    public string Get(ValueRef r) => r.Scope switch
    {
        RefScope.Params => parameters.GetValueOrDefault(r.Name, ""),
        // A dry run shows where a secret goes, never its value.
        RefScope.Secrets when planning => $"<secret {r.Name}>",
        RefScope.Secrets => _secrets?.TryGetValue(r.Name, out var s) == true ? s : throw new RunbookSecretMissingException(r.Name),
        _ => Captures.TryGetValue(r.Name, out var v) ? v : planning ? $"<capture {r.Name}>" : "",
    };

    public string Resolve(StepValue value) => value.Ref is { } r ? Get(r) : value.Literal!;

    /// <summary>Replaces <c>${{ name }}</c> in a message or URL; in a URL each value is percent-encoded.</summary>
    public string Interpolate(string text, bool uriEscape) => RunbookParser.EmbeddedReference().Replace(text, m =>
    {
        var name = m.Groups[1].Value;
        var scope = name.StartsWith("captures.", StringComparison.Ordinal) || (!name.StartsWith("params.", StringComparison.Ordinal) && !parameters.ContainsKey(name))
            ? RefScope.Captures : RefScope.Params;
        var bare = name.Contains('.', StringComparison.Ordinal) ? name[(name.IndexOf('.', StringComparison.Ordinal) + 1)..] : name;
        var value = Get(new ValueRef(scope, bare));
        return uriEscape ? Uri.EscapeDataString(value) : value;
    });

    public void Capture(string name, string output)
    {
        var value = output.TrimEnd();
        Captures[name] = value.Length > MaxCapture ? value[..MaxCapture] : value;
    }

    /// <summary>
    /// The environment of a command step: every parameter as MEDIC_PARAM_NAME, every capture so far
    /// as MEDIC_CAPTURE_NAME, then the step's own env.
    /// </summary>
    public SortedDictionary<string, string> Environment(RunbookStep step)
    {
        var env = new SortedDictionary<string, string>(StringComparer.Ordinal);
        foreach (var (name, value) in parameters) env[RunbookEnv.ParamPrefix + name.ToUpperInvariant()] = value;
        foreach (var (name, value) in Captures) env[RunbookEnv.CaptureName(name)] = value;
        foreach (var (name, value) in step.Env) env[name] = Resolve(value);
        return env;
    }
}

/// <summary>What a step turns into on a server, for running it and for showing it in a dry run.</summary>
internal static class RunbookPlan
{
    /// <summary>The command as the step wrote it: the argv, or <c>sh -c SCRIPT</c>.</summary>
    public static IReadOnlyList<string> Command(IReadOnlyList<StepValue>? argv, string? shell, RunValues values) =>
        shell is not null ? ["sh", "-c", shell] : argv!.Select(values.Resolve).ToList();

    /// <summary>
    /// The argv the agent runs: the command behind <c>env NAME=VALUE ...</c>. Each variable is one
    /// argv element, so a value is never read by a shell, whatever characters it holds.
    /// </summary>
    public static IReadOnlyList<string> TaskArgv(IReadOnlyList<string> command, IReadOnlyDictionary<string, string> env) =>
        env.Count == 0 ? command : ["env", .. env.Select(kv => kv.Key + "=" + kv.Value), .. command];

    public static string Describe(RunbookStep step, RunValues values) => step.Kind switch
    {
        StepKind.Diag => $"diag {step.Verb}" + string.Concat(step.Args!.Select(a => $" {a.Key}={values.Resolve(a.Value)}")),
        StepKind.Service => $"service {step.ServiceAction} {values.Resolve(step.Unit!)}",
        StepKind.Http => DescribeHttp(step.Http!, values),
        StepKind.Check when step.Check!.Http is { } http => $"check: {DescribeHttp(http, values)}; {Attempts(step.Check)}",
        StepKind.Check when step.Check!.Verb is { } verb => $"check: diag {verb}" + string.Concat(step.Check.Args!.Select(a => $" {a.Key}={values.Resolve(a.Value)}"))
            + $" exits 0{(step.Check.ExpectOutput is null ? "" : $" with output matching /{step.Check.ExpectOutput}/")}; {Attempts(step.Check)}",
        StepKind.Check => $"check: exit 0{(step.Check.ExpectOutput is null ? "" : $" and output matching /{step.Check.ExpectOutput}/")}; {Attempts(step.Check)}",
        StepKind.Approval => "approval: " + values.Interpolate(step.Message!, uriEscape: false),
        StepKind.Notify => "notify: " + values.Interpolate(step.Message!, uriEscape: false),
        StepKind.Wait => "wait " + Durations.Format(step.Wait!.Value),
        _ => step.Shell is null ? "run" : "shell",
    };

    private static string Attempts(CheckSpec c) =>
        c.Retries == 0 ? "one attempt" : $"up to {c.Retries + 1} attempts, {Durations.Format(c.Delay == TimeSpan.Zero ? TimeSpan.FromSeconds(1) : c.Delay)} apart";

    private static string DescribeHttp(HttpSpec h, RunValues values) =>
        $"{h.Method} {values.Interpolate(h.Url, uriEscape: true)} from {(h.FromTarget ? "the target" : "the control plane")}, expecting " +
        (h.ExpectStatus is { } s ? s.ToString(CultureInfo.InvariantCulture) : "2xx") + (h.ExpectBody is null ? "" : $" and a body matching /{h.ExpectBody}/");

    /// <summary>
    /// A dry run: every step (then the rollback steps) on every server, with the exact argv and
    /// environment a command would get. Captures are not known before the run, so they show as
    /// <c>&lt;capture NAME&gt;</c>; a <c>when</c> that reads only parameters is decided here.
    /// </summary>
    public static IReadOnlyList<RunbookPlannedStep> DryRun(Runbook runbook, IReadOnlyList<string> servers, IReadOnlyDictionary<string, string> parameters)
    {
        var plan = new List<RunbookPlannedStep>();
        foreach (var server in servers)
        {
            var values = new RunValues(parameters, planning: true);
            foreach (var (phase, steps) in new[] { ("main", runbook.Steps), ("rollback", runbook.Rollback) })
            {
                for (var i = 0; i < steps.Count; i++)
                {
                    var step = steps[i];
                    var on = step.Target is { } t ? values.Resolve(t) : server;
                    IReadOnlyList<string>? argv = null;
                    IReadOnlyDictionary<string, string>? env = null;
                    if (step.Kind == StepKind.Run || step is { Kind: StepKind.Check, Check: { Http: null, Verb: null } })
                    {
                        argv = step.Kind == StepKind.Run ? Command(step.Argv, step.Shell, values) : Command(step.Check!.Argv, step.Check.Shell, values);
                        env = values.Environment(step);
                    }

                    plan.Add(new RunbookPlannedStep(step.Kind is StepKind.Notify or StepKind.Wait or StepKind.Approval ? "control-plane" : on, i + 1, step.Name, step.Type, phase,
                        argv, env, Describe(step, values), When(step.When, values)));
                    if (step.Capture is not null) values.Captures.TryAdd(step.Capture, $"<capture {step.Capture}>");
                }
            }
        }

        return plan;
    }

    private static string? When(Condition? when, RunValues values)
    {
        if (when is null) return null;
        if (when.References.Any(r => r.Scope == RefScope.Captures)) return $"{when.Text} (decided when the step is reached)";
        try
        {
            return when.Evaluate(values.Get) ? $"{when.Text} (true: runs)" : $"{when.Text} (false: skipped)";
        }
        catch (ConditionEvaluationException ex)
        {
            return $"{when.Text} (cannot be decided: {ex.Message})";
        }
    }
}
