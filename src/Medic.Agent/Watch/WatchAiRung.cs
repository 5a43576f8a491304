using System.Diagnostics;
using System.Globalization;
using System.Text;
using Medic.Agent.Monitors;
using Medic.Contracts.Agent;

namespace Medic.Agent.Watch;

/// <summary>What one AI rung ended with, for the report and the <c>diagnosed</c> notification.</summary>
internal sealed record WatchAiRecord(string Title, string Markdown, IReadOnlyDictionary<string, string> Evidence);

/// <summary>
/// The rung after the ladder gives up, in <c>medic watch</c> with an <c>ai:</c> section: in the
/// background (never blocking monitors or the ladder), one bounded diagnosis through
/// <see cref="IWatchDiagnosis"/>, then the proposed fix, run only when <c>ai.allow</c> names it and it
/// is one this machine can run (<see cref="WatchFixes"/>), and only while the incident's budget lasts;
/// after a fix the ladder restarts the process and says whether it is healthy.
/// </summary>
internal sealed class WatchAiRung(
    WatchAiConfig config,
    IWatchDiagnosis diagnosis,
    IReadOnlyList<MonitorDefinition> monitors,
    Func<string, string> redact,
    string host,
    Action<string> log) : IDisposable
{
    public const string DiagnosisKey = "diagnosis";
    public const string ProposedFixKey = "proposed_fix";
    public const string FixKey = "fix";
    public const string UnderWayKey = "ai_diagnosis";
    public const string SectionTitle = "Diagnosis (AI)";

    private readonly CancellationTokenSource _stop = new();
    private readonly Dictionary<string, Task> _running = new(StringComparer.Ordinal);
    private readonly Lock _lock = new();

    /// <summary>Has the ladder restart a monitor once more (<see cref="MonitorRunner.RetryNowAsync"/>): whether it healed.</summary>
    public Func<string, string, Task<bool>>? Retry { get; set; }

    public string UnderWay => $"under way ({config.Model}); a follow-up notification (diagnosed) carries it";

    /// <summary>Starts the rung for an incident whose ladder gave up, unless one already runs for it.</summary>
    public bool Start(MonitorEvent e, string report, Action<WatchAiRecord> finished)
    {
        var monitor = monitors.FirstOrDefault(m => m.Name == e.Monitor);
        if (monitor is null) return false;
        lock (_lock)
        {
            if (_stop.IsCancellationRequested || _running.TryGetValue(e.Fingerprint, out var busy) && !busy.IsCompleted) return false;
            _running[e.Fingerprint] = Task.Run(() => RunAsync(monitor, e, report, finished));
            return true;
        }
    }

    private async Task RunAsync(MonitorDefinition monitor, MonitorEvent e, string report, Action<WatchAiRecord> finished)
    {
        var clock = Stopwatch.StartNew();
        using var budget = CancellationTokenSource.CreateLinkedTokenSource(_stop.Token);
        budget.CancelAfter(config.Budget);
        log($"{e.Monitor}: AI diagnosis started ({config.Model}; at most {config.MaxTurns} turns, {Units.Describe(Math.Min(config.Timeout.TotalSeconds, config.Budget.TotalSeconds))})");
        WatchDiagnosisResult result;
        try
        {
            var timeout = config.Timeout < config.Budget ? config.Timeout : config.Budget;
            result = await diagnosis.DiagnoseAsync(new WatchDiagnosisRequest(host, monitor, e, redact, config.MaxTurns, timeout, config.Allow), budget.Token);
        }
        catch (OperationCanceledException)
        {
            if (_stop.IsCancellationRequested)
            {
                log($"{e.Monitor}: AI diagnosis cancelled: medic watch is stopping");
                return;
            }

            result = new WatchDiagnosisResult(config.Model, "timed_out", $"the budget ({Units.Describe(config.Budget.TotalSeconds)}) ran out", 0, [], "", null);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            result = new WatchDiagnosisResult(config.Model, "failed", redact($"{ex.GetType().Name}: {ex.Message}"), 0, [], "", null);
        }

        log($"{e.Monitor}: AI diagnosis {result.Outcome} after {result.Turns} turn{(result.Turns == 1 ? "" : "s")} and {result.ToolCalls.Count} tool call{(result.ToolCalls.Count == 1 ? "" : "s")}{(result.Proposal is { } p ? "; proposed " + p : "; no fix proposed")}");
        var fix = result.Proposal is { } proposal ? await FixAsync(monitor, proposal, clock, budget.Token) : "none proposed";
        if (_stop.IsCancellationRequested) return;
        log($"{e.Monitor}: AI fix: {fix}");
        finished(Record(e, result, fix, clock.Elapsed));
    }

    private async Task<string> FixAsync(MonitorDefinition monitor, FixProposal proposal, Stopwatch clock, CancellationToken ct)
    {
        if (!WatchFixes.Names.Contains(proposal.Recipe, StringComparer.Ordinal))
        {
            return $"not run: medic watch cannot run '{proposal.Recipe}' on its own (it can run {string.Join(", ", WatchFixes.Names)}); a person decides";
        }

        if (!config.Allow.Contains(proposal.Recipe, StringComparer.Ordinal))
        {
            return $"not run: '{proposal.Recipe}' is not in ai.allow (allowed: {(config.Allow.Count == 0 ? "none" : string.Join(", ", config.Allow))}); a person decides";
        }

        if (WatchFixes.Validate(proposal.Recipe, proposal.Parameters, monitor) is { } problem) return "not run: " + problem;
        if (ct.IsCancellationRequested || clock.Elapsed >= config.Budget)
        {
            return $"not run: the budget ({Units.Describe(config.Budget.TotalSeconds)}) is spent";
        }

        try
        {
            var applied = await WatchFixes.ApplyAsync(proposal, ct);
            if (!applied.Acted) return $"not run: its precondition no longer holds: {applied.Text}";
            log($"{monitor.Name}: AI fix {proposal.Recipe}: {applied.Text}; the ladder restarts it once more");
            if (Retry is not { } retry) return $"ran: {applied.Text}; the ladder could not be asked to restart it";
            var healed = await retry(monitor.Name, $"after the AI fix {proposal.Recipe}").WaitAsync(ct);
            return healed
                ? $"ran: {applied.Text}; {monitor.Name} is healthy again: the fix worked"
                : $"ran: {applied.Text}; {monitor.Name} is still not healthy after one more restart: the fix did not work";
        }
        catch (OperationCanceledException) when (!_stop.IsCancellationRequested)
        {
            return $"stopped: the budget ({Units.Describe(config.Budget.TotalSeconds)}) ran out before the fix was verified";
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return $"failed: {ex.Message}";
        }
    }

    private WatchAiRecord Record(MonitorEvent e, WatchDiagnosisResult r, string fix, TimeSpan took)
    {
        var outcome = r.Outcome == "completed" ? $"completed in {r.Turns} turn{(r.Turns == 1 ? "" : "s")}" : $"{r.Outcome}: {r.Reason}";
        var proposed = r.Proposal is { } p ? $"{p}: {p.Rationale}" : "none";
        var text = r.Text.Trim().Length > 0 ? r.Text.Trim() : "(the model gave no diagnosis: " + (r.Reason ?? r.Outcome) + ")";
        var md = new StringBuilder();
        md.AppendLine($"- model: {r.Model}");
        md.AppendLine($"- outcome: {outcome}");
        md.AppendLine($"- took: {took.TotalSeconds.ToString("0.0", CultureInfo.InvariantCulture)} s (budget {Units.Describe(config.Budget.TotalSeconds)})");
        md.AppendLine($"- tool calls: {r.ToolCalls.Count}");
        foreach (var (call, i) in r.ToolCalls.Select((c, i) => (c, i + 1)))
        {
            md.AppendLine($"  {i}. `{call.Tool}` {call.Arguments}{(call.Error is null ? "" : " -> " + call.Error)}{(call.Reused ? " (answered from the earlier call)" : "")}");
        }

        md.AppendLine($"- proposed fix: {proposed}");
        md.AppendLine($"- fix: {fix}");
        md.AppendLine().AppendLine("What the model found:").AppendLine().AppendLine("```").AppendLine(text.Replace("```", "'''", StringComparison.Ordinal)).AppendLine("```");
        var evidence = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            ["model"] = r.Model,
            ["outcome"] = outcome,
            [DiagnosisKey] = text,
            [ProposedFixKey] = proposed,
            [FixKey] = fix,
            ["tool_calls"] = r.ToolCalls.Count.ToString(CultureInfo.InvariantCulture),
        };
        var title = $"{e.Monitor}: diagnosed by AI ({r.Model}, {outcome}): {(r.Proposal is { } fixProposal ? "proposed " + fixProposal.Recipe + "; " + fix.Split(':')[0] : "no fix proposed")}";
        return new WatchAiRecord(title, md.ToString(), evidence);
    }

    /// <summary>Cancels running diagnoses and waits for them (bounded), at stop.</summary>
    public async Task StopAsync(TimeSpan limit)
    {
        Task[] running;
        lock (_lock)
        {
            _stop.Cancel();
            running = [.. _running.Values];
        }

        await Task.WhenAny(Task.WhenAll(running), Task.Delay(limit));
    }

    public void Dispose()
    {
        _stop.Dispose();
        diagnosis.Dispose();
    }
}
