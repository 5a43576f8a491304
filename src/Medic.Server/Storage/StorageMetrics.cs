using System.Diagnostics.Metrics;
using Dapper;
using Medic.Contracts;
using Medic.Server.Common;
using Microsoft.Extensions.Options;

namespace Medic.Server.Storage;

/// <summary>
/// The job queue and the database as <c>/metrics</c> shows them (docs/metrics.md): jobs by kind and
/// status with the age of the oldest due one, and one round-trip to the database, read together at
/// most once per <see cref="MetricsOptions.RefreshSeconds"/>. Every registered job kind is shown,
/// with zeros when it has no jobs, so a queue that empties reads 0 rather than vanishing.
/// </summary>
internal sealed class StorageMetrics : IScrapeReading
{
    private readonly Database _db;
    private readonly TimeProvider _time;
    private readonly IReadOnlyList<string> _kinds;
    private readonly CachedReading<QueueReading> _reading;

    public StorageMetrics(MedicMeter meter, Database db, IEnumerable<IJobHandler> handlers, IOptions<MedicOptions> options, TimeProvider time)
    {
        _db = db;
        _time = time;
        _kinds = handlers.Select(h => h.Kind).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToList();
        _reading = new CachedReading<QueueReading>(ReadAsync, new QueueReading([], null), TimeSpan.FromSeconds(options.Value.Metrics.RefreshSeconds), time);
        meter.Meter.CreateObservableGauge("medic.jobs", Jobs, description: "Jobs in the queue by kind and status: pending (waiting or deferred), running (leased), dead (out of attempts).");
        meter.Meter.CreateObservableGauge("medic.jobs.oldest_due.age", OldestDue, unit: "s", description: "How long the oldest due pending job of each kind has waited for a worker; 0 when none is due.");
        meter.Meter.CreateObservableGauge("medic.db.ping.duration", Ping, unit: "s", description: "The round-trip of one trivial query to the database, measured at the last refresh.");
    }

    private static readonly string[] Statuses = [JobStatus.Pending.ToText(), JobStatus.Running.ToText(), JobStatus.Dead.ToText()];

    public Task RefreshAsync(CancellationToken ct) => _reading.RefreshAsync(ct);

    private IEnumerable<Measurement<long>> Jobs()
    {
        var counts = _reading.Current.Counts.ToDictionary(c => (c.Kind, c.Status), c => c.Count);
        foreach (var kind in _kinds.Union(counts.Keys.Select(k => k.Kind), StringComparer.Ordinal))
        {
            foreach (var status in Statuses)
            {
                yield return new Measurement<long>(counts.GetValueOrDefault((kind, status)), new("kind", kind), new("status", status));
            }
        }
    }

    private IEnumerable<Measurement<double>> OldestDue()
    {
        var oldest = _reading.Current.Counts.Where(c => c.OldestDue is not null).ToDictionary(c => c.Kind, c => c.OldestDue!.Value);
        var at = _reading.Current.At;
        foreach (var kind in _kinds.Union(oldest.Keys, StringComparer.Ordinal))
        {
            var age = at is { } now && oldest.TryGetValue(kind, out var due) ? Math.Max(0, (now - due).TotalSeconds) : 0;
            yield return new Measurement<double>(age, new KeyValuePair<string, object?>("kind", kind));
        }
    }

    private IEnumerable<Measurement<double>> Ping()
    {
        if (_reading.Current.Ping is { } ping) yield return new Measurement<double>(ping.TotalSeconds);
    }

    private async Task<QueueReading> ReadAsync(CancellationToken ct)
    {
        await using var c = await _db.OpenAsync(ct);
        var started = _time.GetTimestamp();
        await c.ExecuteScalarAsync<int>(new CommandDefinition("SELECT 1", cancellationToken: ct));
        var ping = _time.GetElapsedTime(started);
        var now = _time.GetUtcNow();
        // One statement over the jobs_due index (status, run_after); done jobs, the bulk of the table, are not read.
        var rows = await c.QueryAsync<JobCountRow>(new CommandDefinition(
            "SELECT kind, status, COUNT(*) AS count, MIN(CASE WHEN status = @pending AND run_after <= @now THEN run_after END) AS oldest_due " +
            "FROM jobs WHERE status IN (@pending, @running, @dead) GROUP BY kind, status",
            new { pending = JobStatus.Pending.ToText(), running = JobStatus.Running.ToText(), dead = JobStatus.Dead.ToText(), now }, cancellationToken: ct));
        return new QueueReading(rows.ToList(), ping, now);
    }

    private sealed record QueueReading(IReadOnlyList<JobCountRow> Counts, TimeSpan? Ping, DateTimeOffset? At = null);

    private sealed class JobCountRow
    {
        public string Kind { get; set; } = "";
        public string Status { get; set; } = "";
        public long Count { get; set; }
        public DateTimeOffset? OldestDue { get; set; }
    }

    /// <summary>Times every transaction of <paramref name="db"/> (<see cref="Database.WriteAsync{T}"/>, <see cref="Database.ReadSnapshotAsync{T}"/>) on the meter.</summary>
    public static Database Measured(Database db, MedicMeter meter)
    {
        db.TransactionDuration = meter.Meter.CreateHistogram<double>("medic.db.transaction.duration", unit: "s",
            description: "How long a database transaction took, from asking for it (the SQLite writer's turn included) to its commit or rollback.",
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10] });
        return db;
    }
}
