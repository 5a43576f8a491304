using System.Diagnostics.Metrics;

namespace Medic.Server.Common;

/// <summary>
/// The one <see cref="Meter"/> every capability records its instruments on (docs/metrics.md). It comes
/// from the host's <see cref="IMeterFactory"/>, so two control planes in one process (tests) keep their
/// measurements apart, and it is exported at <c>/metrics</c> in the Prometheus format.
/// </summary>
internal sealed class MedicMeter(IMeterFactory factory)
{
    public const string Name = "Medic.Server";

    public Meter Meter { get; } = factory.Create(Name);
}

/// <summary>
/// A class that creates instruments on <see cref="MedicMeter"/> in its constructor. Each is registered
/// under this interface and resolved when the server starts, so its series exist from the first scrape
/// even if nothing has used it yet.
/// </summary>
internal interface IMetricInstruments;

/// <summary>
/// A reading of the database that gauges show (incidents by state, the job queue): read again when a
/// scrape finds it older than its maximum age, never once per series or per tenant, so scraping often
/// costs the database at most one query per reading per <see cref="MetricsOptions.RefreshSeconds"/>.
/// </summary>
internal interface IScrapeReading : IMetricInstruments
{
    Task RefreshAsync(CancellationToken ct);
}

/// <summary>The last value read by <c>read</c>, and when; <see cref="RefreshAsync"/> reads again only when it is stale.</summary>
internal sealed class CachedReading<T>(Func<CancellationToken, Task<T>> read, T empty, TimeSpan maxAge, TimeProvider time) : IScrapeReading
{
    private readonly SemaphoreSlim _reading = new(1, 1);
    private DateTimeOffset? _at;

    public T Current { get; private set; } = empty;

    public async Task RefreshAsync(CancellationToken ct)
    {
        if (Fresh()) return;
        await _reading.WaitAsync(ct);
        try
        {
            if (Fresh()) return; // another scrape read it while this one waited
            Current = await read(ct);
            _at = time.GetUtcNow();
        }
        finally
        {
            _reading.Release();
        }
    }

    private bool Fresh() => _at is { } at && time.GetUtcNow() - at < maxAge;
}
