using Medic.Server.Storage;
using Medic.Server.Tests.Infrastructure;
using Microsoft.Extensions.Logging.Abstractions;

namespace Medic.Server.Tests.Storage;

/// <summary>Durable jobs: enqueued once per key, leased to one worker, taken over when a worker dies, retried with backoff, dead after their attempts.</summary>
public sealed class JobQueueTests
{
    private static readonly DateTimeOffset Noon = new(2026, 11, 21, 12, 0, 0, TimeSpan.Zero);

    private static async Task<(TestDatabase Db, JobQueue Queue, ManualTime Time)> CreateAsync(string dialect, string dir)
    {
        var db = await TestDatabase.CreateAsync(dialect, dir);
        await new Migrator(db.Database).ApplyAsync();
        var time = new ManualTime(Noon);
        return (db, new JobQueue(db.Database, time), time);
    }

    [Theory]
    [MemberData(nameof(Dialects.Both), MemberType = typeof(Dialects))]
    public async Task The_same_idempotency_key_enqueues_one_job(string dialect)
    {
        using var dir = new TempDirectory();
        var (db, queue, _) = await CreateAsync(dialect, dir.Path);
        await using (db)
        {
            (await queue.EnqueueAsync(null, "notify", "inc_1:notify:1", "{}")).ShouldBeTrue();
            (await queue.EnqueueAsync(null, "notify", "inc_1:notify:1", "{\"again\":true}")).ShouldBeFalse();

            (await db.ScalarAsync<long>("SELECT COUNT(*) FROM jobs")).ShouldBe(1);
            (await queue.GetAsync("inc_1:notify:1", default))!.Payload.ShouldBe("{}");
        }
    }

    [Theory]
    [MemberData(nameof(Dialects.Both), MemberType = typeof(Dialects))]
    public async Task A_leased_job_goes_to_one_worker_until_its_lease_runs_out(string dialect)
    {
        using var dir = new TempDirectory();
        var (db, queue, time) = await CreateAsync(dialect, dir.Path);
        await using (db)
        {
            await queue.EnqueueAsync(null, "step", "k1", "{}");

            var first = (await queue.ClaimAsync(["step"], "worker-a", TimeSpan.FromMinutes(1), 10, default)).ShouldHaveSingleItem();
            first.Attempts.ShouldBe(1);
            (await queue.ClaimAsync(["step"], "worker-b", TimeSpan.FromMinutes(1), 10, default)).ShouldBeEmpty();
            (await queue.ClaimAsync(["other"], "worker-b", TimeSpan.FromMinutes(1), 10, default)).ShouldBeEmpty();

            time.Advance(TimeSpan.FromMinutes(2)); // worker-a died holding it
            var taken = (await queue.ClaimAsync(["step"], "worker-b", TimeSpan.FromMinutes(1), 10, default)).ShouldHaveSingleItem();
            taken.Attempts.ShouldBe(2);

            (await queue.CompleteAsync(first, default)).ShouldBeFalse("worker-a lost its lease");
            (await queue.CompleteAsync(taken, default)).ShouldBeTrue();
            (await queue.GetAsync("k1", default))!.StatusValue.ShouldBe(JobStatus.Done);
            time.Advance(TimeSpan.FromHours(1));
            (await queue.ClaimAsync(["step"], "worker-c", TimeSpan.FromMinutes(1), 10, default)).ShouldBeEmpty();
        }
    }

    [Theory]
    [MemberData(nameof(Dialects.Both), MemberType = typeof(Dialects))]
    public async Task A_failed_attempt_is_retried_after_a_backoff_and_the_last_one_leaves_the_job_dead(string dialect)
    {
        using var dir = new TempDirectory();
        var (db, queue, time) = await CreateAsync(dialect, dir.Path);
        await using (db)
        {
            await queue.EnqueueAsync(null, "notify", "k1", "{}", maxAttempts: 2);

            var attempt = (await queue.ClaimAsync(["notify"], "w", TimeSpan.FromMinutes(1), 10, default)).Single();
            (await queue.FailAsync(attempt, "503 from Slack", default)).ShouldBeTrue();
            (await queue.ClaimAsync(["notify"], "w", TimeSpan.FromMinutes(1), 10, default)).ShouldBeEmpty("not before its backoff");
            time.Advance(JobQueue.Backoff(1));
            attempt = (await queue.ClaimAsync(["notify"], "w", TimeSpan.FromMinutes(1), 10, default)).Single();
            await queue.FailAsync(attempt, "503 again", default);

            var dead = (await queue.GetAsync("k1", default))!;
            dead.StatusValue.ShouldBe(JobStatus.Dead);
            dead.LastError.ShouldBe("503 again");
            time.Advance(TimeSpan.FromDays(1));
            (await queue.ClaimAsync(["notify"], "w", TimeSpan.FromMinutes(1), 10, default)).ShouldBeEmpty();
        }
    }

    [Fact]
    public void Backoff_doubles_from_two_seconds_and_stops_at_ten_minutes()
    {
        JobQueue.Backoff(1).ShouldBe(TimeSpan.FromSeconds(2));
        JobQueue.Backoff(2).ShouldBe(TimeSpan.FromSeconds(4));
        JobQueue.Backoff(5).ShouldBe(TimeSpan.FromSeconds(32));
        JobQueue.Backoff(20).ShouldBe(TimeSpan.FromMinutes(10));
    }

    [Theory]
    [MemberData(nameof(Dialects.Both), MemberType = typeof(Dialects))]
    public async Task Workers_claiming_at_once_never_get_the_same_job(string dialect)
    {
        using var dir = new TempDirectory();
        var (db, queue, _) = await CreateAsync(dialect, dir.Path);
        await using (db)
        {
            for (var i = 0; i < 60; i++) await queue.EnqueueAsync(null, "step", "k" + i, "{}");

            var claims = await Task.WhenAll(Enumerable.Range(0, 6).Select(w => Task.Run(async () =>
            {
                var mine = new List<string>();
                for (var round = 0; round < 10; round++) mine.AddRange((await queue.ClaimAsync(["step"], "w" + w, TimeSpan.FromMinutes(5), 3, default)).Select(j => j.Id));
                return mine;
            })));

            var all = claims.SelectMany(c => c).ToList();
            all.Count.ShouldBe(60);
            all.Distinct().Count().ShouldBe(60);
        }
    }

    private sealed class FlakyHandler : IJobHandler
    {
        public int Calls;

        public string Kind => "flaky";

        public TimeSpan Lease => TimeSpan.FromMinutes(1);

        public Task HandleAsync(JobRow job, CancellationToken ct) =>
            Interlocked.Increment(ref Calls) == 1 ? throw new InvalidOperationException("first attempt fails") : Task.CompletedTask;
    }

    [Theory]
    [MemberData(nameof(Dialects.Both), MemberType = typeof(Dialects))]
    public async Task The_worker_runs_a_handler_and_retries_it_after_a_failure(string dialect)
    {
        using var dir = new TempDirectory();
        var (db, queue, time) = await CreateAsync(dialect, dir.Path);
        await using (db)
        {
            var handler = new FlakyHandler();
            var worker = new JobWorker(queue, [handler], time, NullLogger<JobWorker>.Instance);
            await queue.EnqueueAsync(null, "flaky", "k1", "{}");

            (await worker.RunOnceAsync(default)).ShouldBe(1);
            (await queue.GetAsync("k1", default))!.StatusValue.ShouldBe(JobStatus.Pending);
            time.Advance(TimeSpan.FromSeconds(3));
            (await worker.RunOnceAsync(default)).ShouldBe(1);

            handler.Calls.ShouldBe(2);
            (await queue.GetAsync("k1", default))!.StatusValue.ShouldBe(JobStatus.Done);
        }
    }
}
