using System.Diagnostics;
using Medic.Contracts;
using Medic.Contracts.Agent;
using Medic.Server.Fleet;
using Medic.Server.Secrets;

namespace Medic.Server.Runbooks;

/// <summary>
/// Takes one step of a run: decides its <c>when</c>, finds its <c>target</c>, runs it by kind,
/// keeps its capture, then stores its result and publishes it to the run's watchers. A step that
/// throws is a failed step, never a crashed run.
/// </summary>
internal sealed class StepExecutor(
    NodeStore nodes,
    TaskSteps tasks,
    HttpStep http,
    CheckStep checks,
    ControlPlaneSteps controlPlane,
    RunbookRunStore store,
    LiveRuns live,
    SecretStore secrets,
    SecretRedactor redactor,
    TimeProvider time)
{
    /// <summary>The server a step is shown on when the control plane takes it itself.</summary>
    public const string ControlPlane = "control-plane";

    /// <summary>The characters of stdout and of stderr a step result keeps (the last ones).</summary>
    public const int OutputCap = 64 * 1024;

    /// <param name="index">The step's number in its phase, from 1.</param>
    /// <param name="phase"><c>main</c> or <c>rollback</c>.</param>
    public async Task<RunbookStepResponse> RunAsync(RunState run, NodeRow current, RunbookStep step, int index, string phase, RunValues values)
    {
        var startedAt = time.GetUtcNow();
        var clock = Stopwatch.StartNew();
        var inControlPlane = step.Kind is StepKind.Notify or StepKind.Wait or StepKind.Approval || step is { Kind: StepKind.Http, Http.FromTarget: false };
        var server = inControlPlane ? ControlPlane : current.Name;
        // Tasks come back redacted from the dispatcher; this covers what the control plane itself produced (http answers, errors).
        var redaction = await redactor.ForTenantAsync(run.Row.TenantId, CancellationToken.None);
        StepOutcome outcome;
        try
        {
            outcome = await DecideAndRunAsync();
        }
        catch (RunbookSecretMissingException ex)
        {
            outcome = StepOutcome.Fail(ex.Message);
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            outcome = StepOutcome.Fail($"{ex.GetType().Name}: {ex.Message}");
        }

        outcome = outcome with { Stdout = redaction.Apply(outcome.Stdout), Stderr = redaction.Apply(outcome.Stderr), Reason = redaction.ApplyOrNull(outcome.Reason) };

        if (step.Capture is not null && outcome.Status == RunbookStepStatus.Ok) values.Capture(step.Capture, outcome.Stdout);
        var (stdout, cutOut) = Cap(outcome.Stdout);
        var (stderr, cutErr) = Cap(outcome.Stderr);
        var result = new RunbookStepResponse(++run.Seq, server, index, step.Name, step.Type, phase, outcome.Status, outcome.ExitCode, clock.ElapsedMilliseconds,
            stdout, stderr, outcome.Truncated || cutOut || cutErr, RunbookRunStore.Clip(outcome.Reason, 2000), startedAt);
        await store.AddStepAsync(run.Row, result);
        live.Publish(run.Row.Id, new RunbookRunEvent("step_finished", server, index, step.Name, phase, Result: result));
        return result;

        async Task<StepOutcome> DecideAndRunAsync()
        {
            if (run.Runbook.SecretNames.Count > 0 && !values.HasSecrets) values.UseSecrets(await RevealAsync(run.Row.TenantId, run.Runbook.SecretNames));
            if (step.When is { } when)
            {
                try
                {
                    if (!when.Evaluate(values.Get)) return new StepOutcome(RunbookStepStatus.Skipped, null, "", "", false, $"when '{when.Text}' is false");
                }
                catch (ConditionEvaluationException ex)
                {
                    return StepOutcome.Fail($"when '{when.Text}' cannot be decided: {ex.Message}");
                }
            }

            var node = current;
            if (step.Target is { } target)
            {
                var name = values.Resolve(target);
                if (await nodes.FindAsync(run.Row.TenantId, name, CancellationToken.None) is not { } named) return StepOutcome.Fail($"no server named '{name}' in this tenant");
                node = named;
                if (!inControlPlane) server = named.Name;
            }

            live.Publish(run.Row.Id, new RunbookRunEvent("step_started", server, index, step.Name, phase));
            ValueTask OnOutput(TaskOutput o)
            {
                live.Publish(run.Row.Id, new RunbookRunEvent("output", server, index, step.Name, phase, o.Stream, redaction.Apply(o.Data)));
                return ValueTask.CompletedTask;
            }

            return step.Kind switch
            {
                StepKind.Run => await tasks.CommandAsync(node, step, step.Argv, step.Shell, values, OnOutput),
                StepKind.Diag => await tasks.DiagAsync(node, step.Verb, step.Args!, step.Timeout, values, OnOutput),
                StepKind.Service => await tasks.ServiceAsync(node, step, values, OnOutput),
                StepKind.Http => await http.RunAsync(node, step.Http!, step.Timeout, values, OnOutput),
                StepKind.Check => await checks.RunAsync(node, step, values, OnOutput),
                StepKind.Approval => await controlPlane.ApprovalAsync(run, current, step, values),
                StepKind.Notify => await controlPlane.NotifyAsync(run, current, step, values),
                _ => await controlPlane.WaitAsync(step.Wait!.Value),
            };
        }
    }

    private async Task<Dictionary<string, string>> RevealAsync(string tenantId, IReadOnlyList<string> names)
    {
        var found = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var name in names)
        {
            if (await secrets.RevealAsync(tenantId, name, CancellationToken.None) is { } value) found[name] = value;
        }

        return found;
    }

    private static (string Text, bool Cut) Cap(string text) => text.Length <= OutputCap ? (text, false) : (text[^OutputCap..], true);
}
