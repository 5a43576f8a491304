using System.Data.Common;
using System.Text.Json.Serialization;
using Dapper;
using Medic.Contracts;
using Medic.Server.Common;

namespace Medic.Server.Storage;

internal enum JobStatus
{
    [JsonStringEnumMemberName("pending")] Pending,
    [JsonStringEnumMemberName("running")] Running,
    [JsonStringEnumMemberName("done")] Done,

    /// <summary>Out of attempts: kept for a person to look at, never retried on its own.</summary>
    [JsonStringEnumMemberName("dead")] Dead,
}

internal sealed class JobRow
{
    public string Id { get; set; } = "";
    public string? TenantId { get; set; }
    public string Kind { get; set; } = "";
    public string IdempotencyKey { get; set; } = "";
    public string Payload { get; set; } = "";
    /// <summary>The stored text of <see cref="StatusValue"/>, for Dapper: unknown text fails the read.</summary>
    public string Status { get => StatusValue.ToText(); set => StatusValue = StateText.Parse<JobStatus>(value); }

    public JobStatus StatusValue { get; set; }
    public int Attempts { get; set; }
    public int MaxAttempts { get; set; }
    public DateTimeOffset RunAfter { get; set; }
    public string? LeaseOwner { get; set; }
    public DateTimeOffset? LeaseUntil { get; set; }
    public string? LastError { get; set; }
    public DateTimeOffset CreatedAt { get; set; }
    public DateTimeOffset? FinishedAt { get; set; }
}

/// <summary>
/// The jobs table (DESIGN §3): work that must survive a crash. A job is enqueued inside the
/// transaction that makes it necessary, under an idempotency key, so it exists exactly once. A
/// worker leases it for a while; if the worker dies, the lease runs out and another takes it.
/// On PostgreSQL claims use <c>FOR UPDATE SKIP LOCKED</c>; SQLite has one writer already.
/// </summary>
internal sealed class JobQueue(Database db, TimeProvider time)
{
    private const string Columns = "id, tenant_id, kind, idempotency_key, payload, status, attempts, max_attempts, run_after, lease_owner, lease_until, last_error, created_at, finished_at";

    /// <summary>Adds a job unless one with the same key exists; returns whether it was added.</summary>
    public async Task<bool> EnqueueAsync(DbConnection c, DbTransaction tx, string? tenantId, string kind, string idempotencyKey, string payload,
        DateTimeOffset? runAfter = null, int maxAttempts = 8)
    {
        var now = time.GetUtcNow();
        return await c.ExecuteAsync(
            "INSERT INTO jobs (id, tenant_id, kind, idempotency_key, payload, status, max_attempts, run_after, created_at) " +
            "VALUES (@id, @tenantId, @kind, @idempotencyKey, @payload, @pending, @maxAttempts, @runAfter, @now) ON CONFLICT (idempotency_key) DO NOTHING",
            new { id = Ids.New("job"), tenantId, kind, idempotencyKey, payload, pending = JobStatus.Pending.ToText(), maxAttempts, runAfter = runAfter ?? now, now }, tx) == 1;
    }

    /// <summary>Marks claimed jobs as running for <paramref name="owner"/> until <paramref name="until"/>, counting the attempt.</summary>
    private static async Task LeaseAsync(DbConnection c, DbTransaction tx, IEnumerable<JobRow> due, string owner, DateTimeOffset until)
    {
        foreach (var job in due)
        {
            job.StatusValue = JobStatus.Running;
            job.Attempts++;
            job.LeaseOwner = owner;
            job.LeaseUntil = until;
            await c.ExecuteAsync("UPDATE jobs SET status = @Status, attempts = @Attempts, lease_owner = @LeaseOwner, lease_until = @LeaseUntil WHERE id = @Id", job, tx);
        }
    }

    public Task<bool> EnqueueAsync(string? tenantId, string kind, string idempotencyKey, string payload, DateTimeOffset? runAfter = null, int maxAttempts = 8, CancellationToken ct = default) =>
        db.WriteAsync((c, tx) => EnqueueAsync(c, tx, tenantId, kind, idempotencyKey, payload, runAfter, maxAttempts), ct);

    /// <summary>
    /// Leases up to <paramref name="max"/> due jobs of the given kinds to <paramref name="owner"/>:
    /// pending ones whose time has come, and running ones whose lease ran out (their worker died).
    /// </summary>
    public Task<IReadOnlyList<JobRow>> ClaimAsync(IReadOnlyCollection<string> kinds, string owner, TimeSpan lease, int max, CancellationToken ct) =>
        db.WriteAsync<IReadOnlyList<JobRow>>(async (c, tx) =>
        {
            var now = time.GetUtcNow();
            var kindList = string.Join(", ", kinds.Select((_, i) => "@k" + i));
            var p = new DynamicParameters(new { now, max, pending = JobStatus.Pending.ToText(), running = JobStatus.Running.ToText() });
            var i = 0;
            foreach (var k in kinds) p.Add("k" + i++, k);
            var due = (await c.QueryAsync<JobRow>(
                $"SELECT {Columns} FROM jobs WHERE kind IN ({kindList}) AND ((status = @pending AND run_after <= @now) OR (status = @running AND lease_until < @now)) " +
                "ORDER BY run_after LIMIT @max" + (db.Dialect.Kind == SqlDialectKind.Postgres ? " FOR UPDATE SKIP LOCKED" : ""), p, tx)).ToList();
            await LeaseAsync(c, tx, due, owner, now + lease);
            return due;
        }, ct);

    /// <summary>
    /// Leases due jobs kind by kind, at most <c>free[kind]</c> of each (each kind's own capacity, so
    /// one kind's backlog never takes another's turn), each for its kind's lease.
    /// </summary>
    public Task<IReadOnlyList<JobRow>> ClaimAsync(IReadOnlyDictionary<string, (int Free, TimeSpan Lease)> kinds, string owner, CancellationToken ct) =>
        db.WriteAsync<IReadOnlyList<JobRow>>(async (c, tx) =>
        {
            var now = time.GetUtcNow();
            var claimed = new List<JobRow>();
            foreach (var (kind, (free, lease)) in kinds)
            {
                if (free <= 0) continue;
                var due = (await c.QueryAsync<JobRow>(
                    $"SELECT {Columns} FROM jobs WHERE kind = @kind AND ((status = @pending AND run_after <= @now) OR (status = @running AND lease_until < @now)) " +
                    "ORDER BY run_after LIMIT @free" + (db.Dialect.Kind == SqlDialectKind.Postgres ? " FOR UPDATE SKIP LOCKED" : ""),
                    new { kind, now, free, pending = JobStatus.Pending.ToText(), running = JobStatus.Running.ToText() }, tx)).ToList();
                await LeaseAsync(c, tx, due, owner, now + lease);

                claimed.AddRange(due);
            }

            return claimed;
        }, ct);

    /// <summary>Marks the job done, if this owner still holds it; false when the lease was lost (another worker has it).</summary>
    public Task<bool> CompleteAsync(JobRow job, CancellationToken ct) => db.WriteAsync(async (c, tx) => await c.ExecuteAsync(
        "UPDATE jobs SET status = @done, finished_at = @now, lease_owner = NULL, lease_until = NULL WHERE id = @Id AND lease_owner = @LeaseOwner AND status = @running",
        new { job.Id, job.LeaseOwner, done = JobStatus.Done.ToText(), running = JobStatus.Running.ToText(), now = time.GetUtcNow() }, tx) == 1, ct);

    /// <summary>
    /// Records a failed attempt: retried after an exponential backoff (2 s doubling, capped at 10 min)
    /// or, once out of attempts, marked dead with its last error.
    /// </summary>
    public Task<bool> FailAsync(JobRow job, string error, CancellationToken ct) => db.WriteAsync(async (c, tx) =>
    {
        var now = time.GetUtcNow();
        var dead = job.Attempts >= job.MaxAttempts;
        return await c.ExecuteAsync(
            "UPDATE jobs SET status = @status, run_after = @retryAt, last_error = @error, lease_owner = NULL, lease_until = NULL, finished_at = @finished " +
            "WHERE id = @Id AND lease_owner = @LeaseOwner AND status = @running",
            new
            {
                job.Id, job.LeaseOwner, running = JobStatus.Running.ToText(), status = (dead ? JobStatus.Dead : JobStatus.Pending).ToText(),
                retryAt = now + Backoff(job.Attempts), error = error.Length > 4000 ? error[..4000] : error, finished = dead ? now : (DateTimeOffset?)null,
            }, tx) == 1;
    }, ct);

    /// <summary>
    /// Puts a job this owner holds back to pending until <paramref name="runAfter"/> without counting
    /// the attempt: the job is waiting for something (a run to end, an agent to come back), not failing.
    /// </summary>
    public Task<bool> DeferAsync(JobRow job, DateTimeOffset runAfter, CancellationToken ct) => db.WriteAsync(async (c, tx) => await c.ExecuteAsync(
        "UPDATE jobs SET status = @pending, run_after = @runAfter, attempts = @attempts, lease_owner = NULL, lease_until = NULL WHERE id = @Id AND lease_owner = @LeaseOwner AND status = @running",
        new { job.Id, job.LeaseOwner, pending = JobStatus.Pending.ToText(), running = JobStatus.Running.ToText(), runAfter, attempts = Math.Max(0, job.Attempts - 1) }, tx) == 1, ct);

    /// <summary>Makes the pending job with this key due now, inside the caller's transaction; no such pending job: nothing.</summary>
    public Task MakeDueAsync(DbConnection c, DbTransaction tx, string idempotencyKey) => c.ExecuteAsync(
        "UPDATE jobs SET run_after = @now WHERE idempotency_key = @idempotencyKey AND status = @pending AND run_after > @now",
        new { idempotencyKey, now = time.GetUtcNow(), pending = JobStatus.Pending.ToText() }, tx);

    /// <summary>Makes a deferred job due now (what it waited for happened in this process).</summary>
    public Task<bool> MakeDueAsync(string jobId, CancellationToken ct) => db.WriteAsync(async (c, tx) => await c.ExecuteAsync(
        "UPDATE jobs SET run_after = @now WHERE id = @jobId AND status = @pending", new { jobId, now = time.GetUtcNow(), pending = JobStatus.Pending.ToText() }, tx) == 1, ct);

    public static TimeSpan Backoff(int attempts) => TimeSpan.FromSeconds(Math.Min(600, 2 * Math.Pow(2, Math.Max(0, attempts - 1))));

    /// <summary>Keeps a long job's lease alive.</summary>
    public Task<bool> ExtendAsync(JobRow job, TimeSpan lease, CancellationToken ct) => db.WriteAsync(async (c, tx) =>
    {
        var until = time.GetUtcNow() + lease;
        var ok = await c.ExecuteAsync("UPDATE jobs SET lease_until = @until WHERE id = @Id AND lease_owner = @LeaseOwner AND status = @running",
            new { job.Id, job.LeaseOwner, until, running = JobStatus.Running.ToText() }, tx) == 1;
        if (ok) job.LeaseUntil = until;
        return ok;
    }, ct);

    /// <summary>Ends the leases held by dead processes of this machine (see <see cref="JobOwners"/>); returns how many.</summary>
    public Task<int> ReleaseOrphansAsync(CancellationToken ct) => db.WriteAsync(async (c, tx) =>
    {
        var now = time.GetUtcNow();
        var owners = (await c.QueryAsync<string>("SELECT DISTINCT lease_owner FROM jobs WHERE status = @running AND lease_until >= @now AND lease_owner IS NOT NULL",
            new { running = JobStatus.Running.ToText(), now }, tx)).Where(JobOwners.IsDeadLocalProcess).ToList();
        var freed = 0;
        foreach (var owner in owners)
        {
            freed += await c.ExecuteAsync("UPDATE jobs SET lease_until = @expired WHERE status = @running AND lease_owner = @owner",
                new { running = JobStatus.Running.ToText(), owner, expired = now.AddSeconds(-1) }, tx);
        }

        return freed;
    }, ct);

    public async Task<JobRow?> GetAsync(string idempotencyKey, CancellationToken ct)
    {
        await using var c = await db.OpenAsync(ct);
        return await c.QuerySingleOrDefaultAsync<JobRow>($"SELECT {Columns} FROM jobs WHERE idempotency_key = @idempotencyKey", new { idempotencyKey });
    }
}

/// <summary>
/// Thrown by a job handler that is waiting for something rather than failing: the job goes back to
/// pending until <see cref="RunAfter"/> (no attempt counted, no worker slot held meanwhile), or
/// sooner when <see cref="WakeWhen"/> completes in this process.
/// </summary>
internal sealed class JobDeferredException(DateTimeOffset runAfter, string why, Task? wakeWhen = null) : Exception(why)
{
    public DateTimeOffset RunAfter { get; } = runAfter;

    public Task? WakeWhen { get; } = wakeWhen;
}

/// <summary>Does one kind of job. Must be safe to run again for the same job (a lease can run out mid-way): use the job's idempotency key for side effects.</summary>
internal interface IJobHandler
{
    string Kind { get; }

    /// <summary>How long one attempt may take before another worker may take the job over.</summary>
    TimeSpan Lease { get; }

    Task HandleAsync(JobRow job, CancellationToken ct);
}

/// <summary>
/// Runs the registered <see cref="IJobHandler"/>s' jobs: claims due ones every second (sooner when
/// woken), each kind with its own capacity (<see cref="PerKind"/> at once), so a backlog of one kind
/// (deliveries to a slow channel, say) never holds up another (triage of a new incident). A job that
/// waits for something (a remediation's run) defers itself (<see cref="JobDeferredException"/>) instead
/// of holding a slot. At start it frees the leases of jobs whose worker was a process of this
/// machine that no longer exists, so a restarted <c>medic up</c> carries on at once instead of
/// waiting for the dead process's leases to run out.
/// </summary>
internal sealed partial class JobWorker(JobQueue queue, IEnumerable<IJobHandler> handlers, TimeProvider time, ILogger<JobWorker> log, JobSignal? signal = null) : BackgroundService
{
    public const int MaxConcurrent = 8;

    /// <summary>Jobs of one kind running at once in this process.</summary>
    public const int PerKind = MaxConcurrent;

    private readonly Dictionary<string, IJobHandler> _handlers = handlers.ToDictionary(h => h.Kind, StringComparer.Ordinal);
    private readonly JobSignal _signal = signal ?? new JobSignal();
    private readonly Dictionary<string, SemaphoreSlim> _slots = handlers.DistinctBy(h => h.Kind).ToDictionary(h => h.Kind, _ => new SemaphoreSlim(PerKind, PerKind), StringComparer.Ordinal);
    private readonly string _owner = JobOwners.ThisProcess();

    public void Wake() => _signal.Wake();

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (_handlers.Count == 0) return;
        try
        {
            var freed = await queue.ReleaseOrphansAsync(stoppingToken);
            if (freed > 0) LogOrphansFreed(freed);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            LogWorkerFailed(ex);
        }

        var running = new List<Task>();
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                running.RemoveAll(t => t.IsCompleted);
                var free = _handlers.Values.ToDictionary(h => h.Kind, h => (_slots[h.Kind].CurrentCount, h.Lease), StringComparer.Ordinal);
                var jobs = free.Values.All(f => f.CurrentCount == 0) ? [] : await queue.ClaimAsync(free, _owner, stoppingToken);
                foreach (var job in jobs)
                {
                    var slots = _slots[job.Kind];
                    await slots.WaitAsync(stoppingToken);
                    running.Add(Task.Run(async () =>
                    {
                        try
                        {
                            await RunAsync(job, stoppingToken);
                        }
                        finally
                        {
                            slots.Release();
                            Wake();
                        }
                    }, CancellationToken.None));
                }

                if (jobs.Count == 0) await _signal.WaitAsync(TimeSpan.FromSeconds(1), stoppingToken);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                break;
            }
            catch (Exception ex)
            {
                LogWorkerFailed(ex);
                await Task.Delay(TimeSpan.FromSeconds(2), time, stoppingToken).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            }
        }

        await Task.WhenAll(running).WaitAsync(TimeSpan.FromSeconds(5), CancellationToken.None).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
    }

    private TimeSpan Lease => _handlers.Values.Max(h => h.Lease);

    /// <summary>Claims and runs one batch of due jobs, waiting for all of them; returns how many ran (tests).</summary>
    public async Task<int> RunOnceAsync(CancellationToken ct)
    {
        var jobs = await queue.ClaimAsync(_handlers.Keys, _owner, Lease, MaxConcurrent, ct);
        await Task.WhenAll(jobs.Select(job => RunAsync(job, ct)));
        return jobs.Count;
    }

    private async Task RunAsync(JobRow job, CancellationToken ct)
    {
        try
        {
            await _handlers[job.Kind].HandleAsync(job, ct);
            await queue.CompleteAsync(job, ct);
        }
        catch (JobDeferredException deferred)
        {
            await queue.DeferAsync(job, deferred.RunAfter, CancellationToken.None);
            if (deferred.WakeWhen is { } wake)
            {
                // Registered after the deferral is written, so a wait that already ended makes the job due at once.
                _ = wake.ContinueWith(async _ =>
                {
                    try
                    {
                        if (await queue.MakeDueAsync(job.Id, CancellationToken.None)) Wake();
                    }
                    catch (ObjectDisposedException)
                    {
                        // The wait ended because the server is stopping and its database is gone: the job
                        // is still due at its deferred time, which the next start honours.
                    }
                    catch (Exception ex) when (ex is not OperationCanceledException)
                    {
                        LogWorkerFailed(ex); // the job still runs at its deferred time
                    }
                }, CancellationToken.None, TaskContinuationOptions.None, TaskScheduler.Default).Unwrap();
            }
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !ct.IsCancellationRequested)
        {
            LogJobFailed(job.Id, job.Kind, job.Attempts, ex.Message);
            await queue.FailAsync(job, ex.Message, CancellationToken.None);
        }
        catch (OperationCanceledException)
        {
            // Shutting down: the lease runs out (or is freed at the next start) and the job is taken up again.
        }
    }
}

/// <summary>Lease owners are <c>machine:pid:nonce</c>, so a process can tell which leases belong to dead processes of its own machine.</summary>
internal static class JobOwners
{
    public static string ThisProcess() => Environment.MachineName + ":" + Environment.ProcessId + ":" + Guid.NewGuid().ToString("N")[..8];

    /// <summary>True when <paramref name="owner"/> names a process of this machine that no longer runs.</summary>
    public static bool IsDeadLocalProcess(string owner)
    {
        var parts = owner.Split(':');
        if (parts.Length != 3 || parts[0] != Environment.MachineName || !int.TryParse(parts[1], System.Globalization.CultureInfo.InvariantCulture, out var pid)) return false;
        if (pid == Environment.ProcessId) return false;
        try
        {
            using var process = System.Diagnostics.Process.GetProcessById(pid);
            return process.HasExited;
        }
        catch (ArgumentException)
        {
            return true;
        }
        catch (InvalidOperationException)
        {
            return true;
        }
    }
}
