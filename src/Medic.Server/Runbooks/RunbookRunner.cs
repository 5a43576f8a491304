using System.Collections.Concurrent;
using System.Data.Common;
using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using System.Threading.Channels;
using Dapper;
using Medic.Contracts;
using Medic.Contracts.Agent;
using Medic.Server.Audit;
using Medic.Server.Common;
using Medic.Server.Fleet;
using Medic.Server.Gateway;
using Medic.Server.Storage;

namespace Medic.Server.Runbooks;

public sealed class RunbookRunRow
{
    public string Id { get; set; } = "";
    public string TenantId { get; set; } = "";
    public string Runbook { get; set; } = "";
    public int Version { get; set; }
    public string Source { get; set; } = "";
    public string ContentHash { get; set; } = "";
    public string Actor { get; set; } = "";
    public string? IdempotencyKey { get; set; }
    public string Params { get; set; } = "{}";
    public string Targets { get; set; } = "[]";
    /// <summary>The stored text of <see cref="StatusValue"/>, for Dapper: unknown text fails the read.</summary>
    public string Status { get => StatusValue.ToText(); set => StatusValue = StateText.Parse<RunbookRunStatus>(value); }

    public RunbookRunStatus StatusValue { get; set; }
    public string? Error { get; set; }
    public DateTimeOffset CreatedAt { get; set; }
    public DateTimeOffset? FinishedAt { get; set; }
}

internal sealed class RunbookStepRow
{
    public int Seq { get; set; }
    public string Server { get; set; } = "";
    public int Step { get; set; }
    public string Name { get; set; } = "";
    public string Type { get; set; } = "";
    public string Phase { get; set; } = "";
    /// <summary>The stored text of <see cref="StatusValue"/>, for Dapper: unknown text fails the read.</summary>
    public string Status { get => StatusValue.ToText(); set => StatusValue = StateText.Parse<RunbookStepStatus>(value); }

    public RunbookStepStatus StatusValue { get; set; }
    public int? ExitCode { get; set; }
    public long DurationMs { get; set; }
    public string Stdout { get; set; } = "";
    public string Stderr { get; set; } = "";
    public bool Truncated { get; set; }
    public string? Reason { get; set; }
    public DateTimeOffset StartedAt { get; set; }

    public RunbookStepResponse ToResponse() => new(Seq, Server, Step, Name, Type, Phase, StatusValue, ExitCode, DurationMs, Stdout, Stderr, Truncated, Reason, StartedAt);
}

/// <summary>Parameter values that fail the runbook's schema: nothing ran.</summary>
public sealed class RunbookParameterException(IReadOnlyDictionary<string, string> errors)
    : Exception("invalid parameters: " + string.Join("; ", errors.Select(e => $"{e.Key}: {e.Value}")))
{
    public IReadOnlyDictionary<string, string> Errors { get; } = errors;
}

/// <summary><c>Started</c> is false when the idempotency key already had a run: <c>RunId</c> is that run, and nothing new ran.</summary>
public sealed record RunbookRunStart(string RunId, bool Started);

/// <param name="Confirmed">The person starting the run confirmed its approval steps.</param>
/// <param name="InTransaction">Runs inside the transaction that records the run (an audit entry, the caller's own state).</param>
public sealed record RunbookRunOptions(bool Confirmed = false, Func<DbConnection, DbTransaction, RunbookRunRow, Task>? InTransaction = null);

/// <summary>
/// Runs a runbook version on servers: steps in order on each server, one server after another;
/// when a step fails (and may not be ignored) the rollback steps run on that server and the
/// remaining servers are not touched. Every step's result is stored as it finishes and published
/// to live watchers of <c>/ws/runbook-runs/{id}</c>. The run row is written before anything
/// runs, under an optional idempotency key unique per tenant, so a caller that retries (a resumed
/// pipeline) finds the run it already started instead of starting another.
/// </summary>
public sealed partial class RunbookRunner(
    Database db,
    NodeStore nodes,
    TaskDispatcher dispatcher,
    IHttpClientFactory http,
    IRunbookNotifier notifier,
    IRunbookApprovals approvals,
    AuditLog audit,
    TimeProvider time,
    ILogger<RunbookRunner> log)
{
    public const string HttpClientName = "medic-runbooks";
    public const int OutputCap = 64 * 1024;
    public const string ControlPlane = "control-plane";

    /// <summary>
    /// Idempotency-key namespaces only the server writes (the pipeline runs a remediation under
    /// <c>pipeline:{incident}:{round}:run</c>). A client's key in one of them could otherwise make the
    /// pipeline find the client's run and take it for the remediation's.
    /// </summary>
    public static readonly IReadOnlyList<string> ReservedKeyNamespaces = ["pipeline:", "medic:", "system:"];

    /// <summary>The reserved namespace <paramref name="key"/> falls in (case and surrounding blanks ignored), or null when a client may use it.</summary>
    public static string? ReservedNamespaceOf(string key) =>
        ReservedKeyNamespaces.FirstOrDefault(ns => key.Trim().StartsWith(ns, StringComparison.OrdinalIgnoreCase));

    private const string RunColumns = "id, tenant_id, runbook, version, source, content_hash, actor, idempotency_key, params, targets, status, error, created_at, finished_at";

    private readonly ConcurrentDictionary<string, List<Channel<RunbookRunEvent>>> _watchers = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, Task> _running = new(StringComparer.Ordinal);

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
        if (idempotencyKey is not null && await FindByKeyAsync(tenantId, idempotencyKey, ct) is { } existing) return new RunbookRunStart(existing, false);

        var row = new RunbookRunRow
        {
            Id = Ids.New("rbr"), TenantId = tenantId, Runbook = runbook.Row.Name, Version = runbook.Row.Version, Source = runbook.Row.Source, ContentHash = runbook.Row.ContentHash,
            Actor = actor, IdempotencyKey = idempotencyKey, CreatedAt = time.GetUtcNow(),
            Params = JsonSerializer.Serialize(values.ToDictionary(), RunbookJson.Default.DictionaryStringString),
            Targets = JsonSerializer.Serialize(targets.Select(t => t.Name).ToList(), RunbookJson.Default.ListString),
        };
        try
        {
            await db.WriteAsync(async (c, tx) =>
            {
                await c.ExecuteAsync(
                    $"INSERT INTO runbook_runs ({RunColumns}) VALUES (@Id, @TenantId, @Runbook, @Version, @Source, @ContentHash, @Actor, @IdempotencyKey, @Params, @Targets, @Status, @Error, @CreatedAt, @FinishedAt)",
                    row, tx);
                if (options.InTransaction is { } also) await also(c, tx, row);
            }, ct);
        }
        catch (Exception ex) when (idempotencyKey is not null && ErrorStatus.IsDuplicate(ex))
        {
            // Another caller started the run under this key between our look and our insert.
            return new RunbookRunStart(await FindByKeyAsync(tenantId, idempotencyKey, ct) ?? throw new InvalidOperationException("idempotency key conflict without a run", ex), false);
        }

        _watchers[row.Id] = [];
        LogStarted(row.Id, row.Runbook, row.Version, string.Join(",", targets.Select(t => t.Name)), actor);
        _running[row.Id] = Task.Run(() => ExecuteAsync(row, runbook.Runbook, targets, values, options.Confirmed), CancellationToken.None);
        return new RunbookRunStart(row.Id, true);
    }

    private async Task<string?> FindByKeyAsync(string tenantId, string key, CancellationToken ct)
    {
        await using var c = await db.OpenAsync(ct);
        return await c.QuerySingleOrDefaultAsync<string>("SELECT id FROM runbook_runs WHERE tenant_id = @tenantId AND idempotency_key = @key", new { tenantId, key });
    }

    /// <summary>The run a retried caller started before, by its idempotency key.</summary>
    public async Task<RunbookRunResponse?> FindByIdempotencyKeyAsync(string tenantId, string key, CancellationToken ct) =>
        await FindByKeyAsync(tenantId, key, ct) is { } id ? await GetAsync(tenantId, id, ct) : null;

    public async Task<RunbookRunResponse?> GetAsync(string tenantId, string id, CancellationToken ct)
    {
        await using var c = await db.OpenAsync(ct);
        var row = await c.QuerySingleOrDefaultAsync<RunbookRunRow>($"SELECT {RunColumns} FROM runbook_runs WHERE tenant_id = @tenantId AND id = @id", new { tenantId, id });
        if (row is null) return null;
        var steps = (await c.QueryAsync<RunbookStepRow>(
            "SELECT seq, server, step, name, type, phase, status, exit_code, duration_ms, stdout, stderr, truncated, reason, started_at FROM runbook_run_steps " +
            "WHERE tenant_id = @tenantId AND run_id = @id ORDER BY seq", new { tenantId, id })).Select(s => s.ToResponse()).ToList();
        return new RunbookRunResponse(row.Id, row.Runbook, row.Version, row.StatusValue, false, row.Actor,
            JsonSerializer.Deserialize(row.Targets, RunbookJson.Default.ListString) ?? [],
            JsonSerializer.Deserialize(row.Params, RunbookJson.Default.DictionaryStringString) ?? [], steps, null, row.Error, row.CreatedAt, row.FinishedAt);
    }

    /// <summary>
    /// A live feed of the run's events still to come, or null when the run is not going on here.
    /// Subscribe before reading the stored steps, then skip steps already seen (by seq).
    /// </summary>
    public ChannelReader<RunbookRunEvent>? Subscribe(string id)
    {
        if (!_watchers.TryGetValue(id, out var watchers)) return null;
        var channel = Channel.CreateBounded<RunbookRunEvent>(new BoundedChannelOptions(10_000) { FullMode = BoundedChannelFullMode.DropOldest });
        lock (watchers) watchers.Add(channel);
        return channel.Reader;
    }

    /// <summary>At start-up: runs that were going when the process stopped will never finish; they are marked interrupted, never re-run.</summary>
    public Task MarkInterruptedAsync(CancellationToken ct) => db.WriteAsync((c, tx) => c.ExecuteAsync(
        "UPDATE runbook_runs SET status = @interrupted, finished_at = @at, error = 'the control plane stopped during the run; it was not resumed' WHERE status = @running",
        new { interrupted = RunbookRunStatus.Interrupted.ToText(), running = RunbookRunStatus.Running.ToText(), at = time.GetUtcNow() }, tx), ct);

    /// <summary>
    /// Returns when run <paramref name="id"/>, going on in this process, has finished (its status is
    /// stored by then), or after <paramref name="max"/> at the latest: at once for a run that finished
    /// already, and after <paramref name="max"/> for one this process does not run (read its row again then).
    /// </summary>
    public async Task WaitAsync(string id, TimeSpan max, CancellationToken ct)
    {
        if (!_running.TryGetValue(id, out var run))
        {
            await Task.Delay(max, time, ct);
            return;
        }

        try
        {
            await run.WaitAsync(max, time, ct);
        }
        catch (TimeoutException)
        {
            // Still going: the caller reads the run again and waits some more.
        }
    }

    /// <summary>Waits, bounded, for the runs going on in this process (tests; shutdown).</summary>
    public Task DrainAsync(TimeSpan timeout) => Task.WhenAll(_running.Values).WaitAsync(timeout);

    private sealed class RunState(RunbookRunRow row, Runbook runbook, bool confirmed)
    {
        public RunbookRunRow Row { get; } = row;
        public Runbook Runbook { get; } = runbook;
        public bool Confirmed { get; } = confirmed;
        public int Seq { get; set; }
    }

    private sealed record StepOutcome(RunbookStepStatus Status, int? ExitCode, string Stdout, string Stderr, bool Truncated, string? Reason)
    {
        public static StepOutcome Ok(string stdout = "", string? reason = null) => new(RunbookStepStatus.Ok, null, stdout, "", false, reason);

        public static StepOutcome Fail(string reason, string stdout = "", RunbookStepStatus status = RunbookStepStatus.Failed) => new(status, null, stdout, "", false, reason);
    }

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
                    var result = await RunStepAsync(run, targets[t], runbook.Steps[i], i + 1, "main", values);
                    if (result.Status is not (RunbookStepStatus.Ok or RunbookStepStatus.Skipped) && !runbook.Steps[i].ContinueOnError) failed = result;
                }

                if (failed is null) continue;
                status = RunbookRunStatus.Failed;
                int rolledBack = 0, rollbackFailed = 0;
                for (var i = 0; i < runbook.Rollback.Count; i++)
                {
                    var result = await RunStepAsync(run, targets[t], runbook.Rollback[i], i + 1, "rollback", values);
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
            await db.WriteAsync(async (c, tx) =>
            {
                await c.ExecuteAsync("UPDATE runbook_runs SET status = @status, error = @error, finished_at = @at WHERE id = @id",
                    new { id = row.Id, status = status.ToText(), error = Clip(error, 4000), at = time.GetUtcNow() }, tx);
                var details = new Dictionary<string, string> { ["runbook"] = row.Runbook, ["version"] = row.Version.ToString(CultureInfo.InvariantCulture), ["status"] = status.ToText() };
                if (error is not null) details["error"] = Clip(error, 1000)!;
                await audit.AppendAsync(c, tx, new AuditRecord(row.TenantId, row.Actor, "runbook.run.finish", "runbook_run:" + row.Id,
                    status == RunbookRunStatus.Succeeded ? AuditOutcomes.Success : AuditOutcomes.Failed, null, details));
            }, CancellationToken.None);
            LogFinished(row.Id, row.Runbook, status.ToText(), error ?? "");
        }
        catch (Exception ex)
        {
            LogRunCrashed(ex, row.Id);
        }
        finally
        {
            Publish(row.Id, new RunbookRunEvent("finished", Status: status));
            if (_watchers.TryRemove(row.Id, out var watchers))
            {
                lock (watchers)
                {
                    foreach (var w in watchers) w.Writer.TryComplete();
                }
            }

            _running.TryRemove(row.Id, out _);
        }
    }

    private async Task<RunbookStepResponse> RunStepAsync(RunState run, NodeRow current, RunbookStep step, int index, string phase, RunValues values)
    {
        var startedAt = time.GetUtcNow();
        var clock = Stopwatch.StartNew();
        var inControlPlane = step.Kind is StepKind.Notify or StepKind.Wait or StepKind.Approval || step is { Kind: StepKind.Http, Http.FromTarget: false };
        var server = inControlPlane ? ControlPlane : current.Name;
        StepOutcome outcome;
        try
        {
            outcome = await DecideAndRunAsync();
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            outcome = StepOutcome.Fail($"{ex.GetType().Name}: {ex.Message}");
        }

        if (step.Capture is not null && outcome.Status == RunbookStepStatus.Ok) values.Capture(step.Capture, outcome.Stdout);
        var (stdout, cutOut) = Cap(outcome.Stdout);
        var (stderr, cutErr) = Cap(outcome.Stderr);
        var result = new RunbookStepResponse(++run.Seq, server, index, step.Name, step.Type, phase, outcome.Status, outcome.ExitCode, clock.ElapsedMilliseconds,
            stdout, stderr, outcome.Truncated || cutOut || cutErr, Clip(outcome.Reason, 2000), startedAt);
        await db.WriteAsync((c, tx) => c.ExecuteAsync(
            "INSERT INTO runbook_run_steps (run_id, tenant_id, seq, server, step, name, type, phase, status, exit_code, duration_ms, stdout, stderr, truncated, reason, started_at) " +
            "VALUES (@RunId, @TenantId, @Seq, @Server, @Step, @Name, @Type, @Phase, @Status, @ExitCode, @DurationMs, @Stdout, @Stderr, @Truncated, @Reason, @StartedAt)",
            new
            {
                RunId = run.Row.Id, run.Row.TenantId, result.Seq, result.Server, result.Step, result.Name, result.Type, result.Phase, Status = result.Status.ToText(), result.ExitCode,
                result.DurationMs, result.Stdout, result.Stderr, result.Truncated, result.Reason, result.StartedAt,
            }, tx));
        Publish(run.Row.Id, new RunbookRunEvent("step_finished", server, index, step.Name, phase, Result: result));
        return result;

        async Task<StepOutcome> DecideAndRunAsync()
        {
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

            Publish(run.Row.Id, new RunbookRunEvent("step_started", server, index, step.Name, phase));
            ValueTask OnOutput(TaskOutput o)
            {
                Publish(run.Row.Id, new RunbookRunEvent("output", server, index, step.Name, phase, o.Stream, o.Data));
                return ValueTask.CompletedTask;
            }

            return step.Kind switch
            {
                StepKind.Run => await CommandAsync(node, step, step.Argv, step.Shell, values, null, OnOutput),
                StepKind.Diag => FromTask(await dispatcher.RunAsync(node, TaskKind.Diag, [], step.Verb,
                    step.Args!.ToDictionary(a => a.Key, a => values.Resolve(a.Value), StringComparer.Ordinal), Seconds(step.Timeout), OnOutput, CancellationToken.None)),
                StepKind.Service => FromTask(await dispatcher.RunAsync(node, TaskKind.Service, [], null,
                    new Dictionary<string, string> { ["unit"] = values.Resolve(step.Unit!), ["action"] = step.ServiceAction! }, Seconds(step.Timeout), OnOutput, CancellationToken.None)),
                StepKind.Http => await HttpAsync(node, step.Http!, step.Timeout, values, OnOutput),
                StepKind.Check => await CheckAsync(node, step, values, OnOutput),
                StepKind.Approval => await ApprovalAsync(run, current, step, values),
                StepKind.Notify => await NotifyAsync(run, current, step, values),
                _ => await WaitAsync(step.Wait!.Value),
            };
        }
    }

    private async Task<StepOutcome> CommandAsync(NodeRow node, RunbookStep step, IReadOnlyList<StepValue>? argv, string? shell, RunValues values, string? expectOutput,
        Func<TaskOutput, ValueTask> onOutput)
    {
        var argvToRun = RunbookPlan.TaskArgv(RunbookPlan.Command(argv, shell, values), values.Environment(step));
        return Expect(FromTask(await dispatcher.RunAsync(node, TaskKind.Exec, argvToRun, null, null, Seconds(step.Timeout), onOutput, CancellationToken.None)), expectOutput);
    }

    private static StepOutcome Expect(StepOutcome outcome, string? expectOutput) =>
        outcome.Status == RunbookStepStatus.Ok && expectOutput is not null && !Matches(expectOutput, outcome.Stdout)
            ? outcome with { Status = RunbookStepStatus.Failed, Reason = $"the output does not match /{expectOutput}/" }
            : outcome;

    private static StepOutcome FromTask(TaskRunResponse r) => r.Status switch
    {
        "completed" when r.ExitCode == 0 => new(RunbookStepStatus.Ok, 0, r.Stdout, r.Stderr, r.Truncated, null),
        "completed" => new(RunbookStepStatus.Failed, r.ExitCode, r.Stdout, r.Stderr, r.Truncated, $"exit {r.ExitCode}"),
        "timeout" => new(RunbookStepStatus.Timeout, r.ExitCode, r.Stdout, r.Stderr, r.Truncated, r.Reason),
        "refused" => new(RunbookStepStatus.Refused, null, r.Stdout, r.Stderr, r.Truncated, r.Reason),
        "offline" => new(RunbookStepStatus.Offline, null, r.Stdout, r.Stderr, r.Truncated, r.Reason),
        _ => new(RunbookStepStatus.Failed, r.ExitCode, r.Stdout, r.Stderr, r.Truncated, r.Reason),
    };

    private async Task<StepOutcome> HttpAsync(NodeRow node, HttpSpec spec, TimeSpan timeout, RunValues values, Func<TaskOutput, ValueTask> onOutput)
    {
        var url = values.Interpolate(spec.Url, uriEscape: true);
        int status;
        string body;
        if (spec.FromTarget)
        {
            var args = new Dictionary<string, string> { ["url"] = url, ["timeout"] = Math.Clamp(Seconds(timeout), 1, 10).ToString(CultureInfo.InvariantCulture) };
            var probe = await dispatcher.RunAsync(node, TaskKind.Diag, [], "http-probe", args, Seconds(timeout) + 5, onOutput, CancellationToken.None);
            if (probe.Status != "completed") return FromTask(probe);
            var statusLine = probe.Stdout.Split('\n').FirstOrDefault(l => l.StartsWith("HTTP/", StringComparison.Ordinal));
            if (statusLine is null || statusLine.Split(' ') is not [_, var code, ..] || !int.TryParse(code, CultureInfo.InvariantCulture, out status))
            {
                return StepOutcome.Fail("no answer: " + probe.Stdout.Trim(), probe.Stdout);
            }

            var blank = probe.Stdout.IndexOf("\n\n", StringComparison.Ordinal);
            body = blank < 0 ? "" : probe.Stdout[(blank + 2)..];
        }
        else
        {
            using var cts = new CancellationTokenSource(timeout);
            using var client = http.CreateClient(HttpClientName);
            using var request = new HttpRequestMessage(new HttpMethod(spec.Method), url) { Content = spec.Body is null ? null : new StringContent(spec.Body, Encoding.UTF8, "application/json") };
            try
            {
                using var response = await client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cts.Token);
                status = (int)response.StatusCode;
                await using var stream = await response.Content.ReadAsStreamAsync(cts.Token);
                var buffer = new byte[OutputCap];
                var read = 0;
                int n;
                while (read < buffer.Length && (n = await stream.ReadAsync(buffer.AsMemory(read), cts.Token)) > 0) read += n;
                body = Encoding.UTF8.GetString(buffer, 0, read);
            }
            catch (OperationCanceledException)
            {
                return StepOutcome.Fail($"{spec.Method} {url}: no answer within {Durations.Format(timeout)}", status: RunbookStepStatus.Timeout);
            }
            catch (HttpRequestException ex)
            {
                return StepOutcome.Fail($"{spec.Method} {url}: {ex.InnerException?.Message ?? ex.Message}");
            }
        }

        var statusOk = spec.ExpectStatus is { } expected ? status == expected : status is >= 200 and < 300;
        if (!statusOk) return StepOutcome.Fail($"HTTP {status}, expected {spec.ExpectStatus?.ToString(CultureInfo.InvariantCulture) ?? "2xx"}", body);
        if (spec.ExpectBody is not null && !Matches(spec.ExpectBody, body)) return StepOutcome.Fail($"HTTP {status}, but the body does not match /{spec.ExpectBody}/", body);
        return StepOutcome.Ok(body, $"HTTP {status}");
    }

    private async Task<StepOutcome> CheckAsync(NodeRow node, RunbookStep step, RunValues values, Func<TaskOutput, ValueTask> onOutput)
    {
        var check = step.Check!;
        var tries = new StringBuilder();
        StepOutcome last = StepOutcome.Fail("not tried");
        for (var attempt = 1; attempt <= check.Retries + 1; attempt++)
        {
            if (attempt > 1 && check.Delay > TimeSpan.Zero) await Task.Delay(check.Delay, time);
            last = check switch
            {
                { Http: { } h } => await HttpAsync(node, h, step.Timeout, values, onOutput),
                { Verb: { } verb } => Expect(FromTask(await dispatcher.RunAsync(node, TaskKind.Diag, [], verb,
                    check.Args!.ToDictionary(a => a.Key, a => values.Resolve(a.Value), StringComparer.Ordinal), Seconds(step.Timeout), onOutput, CancellationToken.None)), check.ExpectOutput),
                _ => await CommandAsync(node, step, check.Argv, check.Shell, values, check.ExpectOutput, onOutput),
            };
            if (last.Status == RunbookStepStatus.Ok) break;
            tries.Append(CultureInfo.InvariantCulture, $"attempt {attempt}: {last.Status.ToText()}{(last.Reason is null ? "" : ": " + last.Reason)}\n");
            if (last.Status == RunbookStepStatus.Refused) break; // the agent's policy will not change between attempts
        }

        var attempts = check.Retries + 1;
        return last.Status == RunbookStepStatus.Ok
            ? last
            : last with { Reason = $"the check did not pass{(attempts > 1 ? $" in {attempts} attempts" : "")}: {last.Reason ?? last.Status.ToText()}", Stderr = tries + last.Stderr };
    }

    private async Task<StepOutcome> ApprovalAsync(RunState run, NodeRow current, RunbookStep step, RunValues values)
    {
        var message = values.Interpolate(step.Message!, uriEscape: false);
        var decision = await approvals.DecideAsync(new RunbookApprovalRequest(run.Row.TenantId, run.Row.Id, run.Runbook.Name, run.Runbook.Version,
            run.Runbook.Risk.ToString().ToLowerInvariant(), current.Name, step.Name, message, run.Row.Actor, run.Confirmed), CancellationToken.None);
        return decision.Approved ? StepOutcome.Ok(message, decision.Reason) : StepOutcome.Fail(decision.Reason, message, RunbookStepStatus.Refused);
    }

    private async Task<StepOutcome> NotifyAsync(RunState run, NodeRow current, RunbookStep step, RunValues values)
    {
        var message = values.Interpolate(step.Message!, uriEscape: false);
        await notifier.NotifyAsync(new RunbookNotification(run.Row.TenantId, run.Row.Id, run.Runbook.Name, current.Name, run.Row.Actor, message), CancellationToken.None);
        return StepOutcome.Ok(message);
    }

    private async Task<StepOutcome> WaitAsync(TimeSpan wait)
    {
        await Task.Delay(wait, time);
        return StepOutcome.Ok(reason: "waited " + Durations.Format(wait));
    }

    private void Publish(string runId, RunbookRunEvent e)
    {
        if (_watchers.TryGetValue(runId, out var watchers))
        {
            lock (watchers)
            {
                foreach (var w in watchers) w.Writer.TryWrite(e);
            }
        }
    }

    private static bool Matches(string pattern, string text)
    {
        try
        {
            return Regex.IsMatch(text, pattern, RegexOptions.None, TimeSpan.FromSeconds(1));
        }
        catch (RegexMatchTimeoutException)
        {
            return false;
        }
    }

    private static int Seconds(TimeSpan t) => Math.Max(1, (int)Math.Ceiling(t.TotalSeconds));

    private static (string Text, bool Cut) Cap(string text) => text.Length <= OutputCap ? (text, false) : (text[^OutputCap..], true);

    private static string? Clip(string? text, int max) => text is null || text.Length <= max ? text : text[..max] + "…";

    [LoggerMessage(Level = LogLevel.Information, Message = "Runbook run {RunId} started: {Runbook} v{Version} on {Targets} by {Actor}")]
    private partial void LogStarted(string runId, string runbook, int version, string targets, string actor);

    [LoggerMessage(Level = LogLevel.Information, Message = "Runbook run {RunId} ({Runbook}) {Status} {Error}")]
    private partial void LogFinished(string runId, string runbook, string status, string error);

    [LoggerMessage(Level = LogLevel.Error, Message = "Runbook run {RunId} stopped on an internal error")]
    private partial void LogRunCrashed(Exception ex, string runId);
}
