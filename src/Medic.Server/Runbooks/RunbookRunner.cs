using System.Text.Json;
using System.Threading.Channels;
using Medic.Contracts;
using Medic.Server.Common;
using Medic.Server.Fleet;
using Medic.Server.Storage;

namespace Medic.Server.Runbooks;

/// <summary>
/// Runs a runbook version on servers: steps in order on each server, one server after another;
/// when a step fails (and may not be ignored) the rollback steps run on that server and the
/// remaining servers are not touched. Every step's result is stored as it finishes and published
/// to live watchers of <c>/ws/runbook-runs/{id}</c>. The run row is written before anything
/// runs, under an optional idempotency key unique per tenant, so a caller that retries (a resumed
/// pipeline) finds the run it already started instead of starting another.
/// </summary>
internal sealed partial class RunbookRunner : IAsyncDisposable
{
    /// <summary>
    /// Idempotency-key namespaces only the server writes (the pipeline runs a remediation under
    /// <c>pipeline:{incident}:{round}:run</c>). A client's key in one of them could otherwise make the
    /// pipeline find the client's run and take it for the remediation's.
    /// </summary>
    public static readonly IReadOnlyList<string> ReservedKeyNamespaces = ["pipeline:", "medic:", "system:"];

    private readonly RunbookRunStore _store;
    private readonly LiveRuns _live;
    private readonly StepExecutor _steps;
    private readonly TimeProvider _time;
    private readonly ILogger<RunbookRunner> _log;

    // Internal, like its parts: RunbooksApi registers the runner with a factory.
    internal RunbookRunner(RunbookRunStore store, LiveRuns live, StepExecutor steps, TimeProvider time, ILogger<RunbookRunner> log)
    {
        _store = store;
        _live = live;
        _steps = steps;
        _time = time;
        _log = log;
    }

    /// <summary>The reserved namespace <paramref name="key"/> falls in (case and surrounding blanks ignored), or null when a client may use it.</summary>
    public static string? ReservedNamespaceOf(string key) =>
        ReservedKeyNamespaces.FirstOrDefault(ns => key.Trim().StartsWith(ns, StringComparison.OrdinalIgnoreCase));

    /// <summary>
    /// Records and starts a run of <paramref name="runbook"/> on <paramref name="targets"/> (in
    /// order), returning at once. Parameters are checked first (<see cref="RunbookParameterException"/>).
    /// With an <paramref name="idempotencyKey"/> that already has a run in this tenant, returns that run and starts nothing.
    /// </summary>
    public async Task<RunbookRunStart> StartAsync(string tenantId, StoredRunbook runbook, IReadOnlyList<NodeRow> targets, IReadOnlyDictionary<string, string>? parameters,
        string actor, string? idempotencyKey, RunbookRunOptions? options, CancellationToken ct)
    {
        options ??= new RunbookRunOptions();
        var (values, errors) = ParameterValues.Bind(runbook.Runbook, parameters);
        if (errors.Count > 0) throw new RunbookParameterException(errors);
        if (idempotencyKey is not null && await _store.FindIdByKeyAsync(tenantId, idempotencyKey, ct) is { } existing) return new RunbookRunStart(existing, false);

        var row = new RunbookRunRow
        {
            Id = Ids.New("rbr"), TenantId = tenantId, Runbook = runbook.Row.Name, Version = runbook.Row.Version, Source = runbook.Row.Source, ContentHash = runbook.Row.ContentHash,
            Actor = actor, IdempotencyKey = idempotencyKey, CreatedAt = _time.GetUtcNow(),
            Params = JsonSerializer.Serialize(values.ToDictionary(), RunbookJson.Default.DictionaryStringString),
            Targets = JsonSerializer.Serialize(targets.Select(t => t.Name).ToList(), RunbookJson.Default.ListString),
        };
        try
        {
            await _store.InsertAsync(row, options.InTransaction, ct);
        }
        catch (Exception ex) when (idempotencyKey is not null && ErrorStatus.IsDuplicate(ex))
        {
            // Another caller started the run under this key between our look and our insert.
            return new RunbookRunStart(await _store.FindIdByKeyAsync(tenantId, idempotencyKey, ct) ?? throw new InvalidOperationException("idempotency key conflict without a run", ex), false);
        }

        _live.Open(row.Id);
        LogStarted(row.Id, row.Runbook, row.Version, string.Join(",", targets.Select(t => t.Name)), actor);
        // Tracked before it can start, so a run that ends at once is never tracked after it finished (and never leaks).
        var start = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        _live.Track(row.Id, Task.Run(async () =>
        {
            await start.Task;
            await ExecuteAsync(row, runbook.Runbook, targets, values, options.Confirmed);
        }, CancellationToken.None));
        start.SetResult();
        return new RunbookRunStart(row.Id, true);
    }

    /// <summary>The run a retried caller started before, by its idempotency key.</summary>
    public Task<RunbookRunResponse?> FindByIdempotencyKeyAsync(string tenantId, string key, CancellationToken ct) => _store.FindByIdempotencyKeyAsync(tenantId, key, ct);

    public Task<RunbookRunResponse?> GetAsync(string tenantId, string id, CancellationToken ct) => _store.GetAsync(tenantId, id, ct);

    /// <summary>
    /// A live feed of the run's events still to come (first the start and output so far of each step
    /// still running), or null when the run is not going on here.
    /// Subscribe before reading the stored steps, then skip steps already seen (by seq).
    /// </summary>
    public ChannelReader<RunbookRunEvent>? Subscribe(string id) => _live.Subscribe(id);

    /// <summary>At start-up: runs that were going when the process stopped will never finish; they are marked interrupted, never re-run.</summary>
    public Task MarkInterruptedAsync(CancellationToken ct) => _store.MarkInterruptedAsync(ct);

    /// <summary>
    /// Returns when run <paramref name="id"/>, going on in this process, has finished (its status is
    /// stored by then), or after <paramref name="max"/> at the latest: at once for a run that finished
    /// already, and after <paramref name="max"/> for one this process does not run (read its row again then).
    /// </summary>
    public Task WaitAsync(string id, TimeSpan max, CancellationToken ct) => _live.WaitAsync(id, max, ct);

    /// <summary>Waits, bounded, for the runs going on in this process (tests; shutdown).</summary>
    public Task DrainAsync(TimeSpan timeout) => _live.DrainAsync(timeout);

    private async Task ExecuteAsync(RunbookRunRow row, Runbook runbook, IReadOnlyList<NodeRow> targets, IReadOnlyDictionary<string, string> parameters, bool confirmed)
    {
        var run = new RunState(row, runbook, confirmed);
        var status = RunbookRunStatus.Succeeded;
        string? error = null;
        try
        {
            for (var t = 0; t < targets.Count; t++)
            {
                var values = new RunValues(parameters);
                RunbookStepResponse? failed = null;
                for (var i = 0; i < runbook.Steps.Count && failed is null; i++)
                {
                    var result = await _steps.RunAsync(run, targets[t], runbook.Steps[i], i + 1, "main", values);
                    if (result.Status is not (RunbookStepStatus.Ok or RunbookStepStatus.Skipped) && !runbook.Steps[i].ContinueOnError) failed = result;
                }

                if (failed is null) continue;
                status = RunbookRunStatus.Failed;
                int rolledBack = 0, rollbackFailed = 0;
                for (var i = 0; i < runbook.Rollback.Count; i++)
                {
                    var result = await _steps.RunAsync(run, targets[t], runbook.Rollback[i], i + 1, "rollback", values);
                    if (result.Status == RunbookStepStatus.Ok) rolledBack++;
                    else if (result.Status != RunbookStepStatus.Skipped) rollbackFailed++;
                }

                var why = failed.Reason is null ? failed.Status.ToText() : $"{failed.Status.ToText()}: {failed.Reason}";
                error = $"step {failed.Step} '{failed.Name}' on {failed.Server} {why}"
                    + (runbook.Rollback.Count == 0 ? "; the runbook has no rollback steps" : $"; rollback ran: {rolledBack} ok, {rollbackFailed} failed")
                    + (t + 1 < targets.Count ? $"; not run on {string.Join(", ", targets.Skip(t + 1).Select(n => n.Name))}" : "");
                break;
            }
        }
        catch (ObjectDisposedException)
        {
            status = RunbookRunStatus.Failed;
            error = "the server stopped during the run";
            LogStoppedWithProcess(row.Id);
        }
        catch (Exception ex)
        {
            status = RunbookRunStatus.Failed;
            error = "the run stopped on an internal error: " + ex.Message;
            LogRunCrashed(ex, row.Id);
        }
        finally
        {
            await FinishAsync(row, status, error);
        }
    }

    private async Task FinishAsync(RunbookRunRow row, RunbookRunStatus status, string? error)
    {
        try
        {
            await _store.FinishAsync(row, status, error);
            LogFinished(row.Id, row.Runbook, status.ToText(), error ?? "");
        }
        catch (ObjectDisposedException)
        {
            // The process is stopping and its database is closed: the next start marks the run interrupted.
            LogStoppedWithProcess(row.Id);
        }
        catch (Exception ex)
        {
            LogRunCrashed(ex, row.Id);
        }
        finally
        {
            _live.Finish(row.Id, status);
        }
    }

    /// <summary>On shutdown (before the database is disposed: it was created first), runs still going get a moment to store how they ended.</summary>
    public async ValueTask DisposeAsync()
    {
        try
        {
            await _live.DrainAsync(TimeSpan.FromSeconds(10));
        }
        catch (TimeoutException)
        {
            // A run still waiting on a long step: it is marked interrupted at the next start.
        }
    }
}
