using Medic.Contracts;
using Medic.Contracts.Agent;

namespace Medic.Server.Detection.Forecasting;

/// <param name="Name">The process name: what a warning is about, across restarts.</param>
/// <param name="Pid">The instance forecast (the one predicted full soonest when several share the name).</param>
internal sealed record ProcessForecast(string Name, int Pid, DateTimeOffset StartedAt, double Rss, Forecast Forecast);

/// <summary>
/// Steady growth of a process's resident memory, from the largest processes each heartbeat
/// carries. A series is one instance of a name (same pid, same start time), so a restart begins a
/// new regime; within an instance, a large drop (memory handed back) is a reset as on disks.
/// </summary>
internal static class MemoryGrowth
{
    /// <summary>Allowed disagreement between two readings of one process's start time (the kernel's boot time is whole seconds and may be stepped).</summary>
    private static readonly TimeSpan SameStart = TimeSpan.FromSeconds(5);

    /// <summary>Defaults for memory: a longer span than disks, because caches and heaps fill for a while after a start and then level off.</summary>
    public static readonly ForecastOptions Defaults = new() { MinSamples = 60, MinSpan = TimeSpan.FromHours(2) };

    /// <summary>Samples this soon after a process started are left out: that growth is warm-up, not a leak.</summary>
    public static readonly TimeSpan WarmUp = TimeSpan.FromMinutes(30);

    /// <summary>
    /// One forecast per process name in the latest point. The capacity of an instance is its own
    /// memory plus what the machine still has available (total minus used) at the latest point:
    /// the process is full when it has taken all of that.
    /// </summary>
    public static IReadOnlyList<ProcessForecast> Predict(IReadOnlyList<MetricsPoint> history, DateTimeOffset now, ForecastOptions options)
    {
        if (history.Count == 0 || history[^1].Metrics.Processes is not { Count: > 0 } live)
        {
            return [];
        }

        var latest = history[^1].Metrics;
        long available = Math.Max(0, latest.MemoryTotalBytes - latest.MemoryUsedBytes);
        var forecasts = new List<ProcessForecast>();
        foreach (var name in live.Select(p => p.Name).Distinct(StringComparer.Ordinal))
        {
            ProcessForecast? chosen = null;
            foreach (var instance in live.Where(p => p.Name == name))
            {
                var samples = new List<TrendSample>(history.Count);
                bool restarted = false;
                foreach (var point in history)
                {
                    foreach (var p in point.Metrics.Processes ?? [])
                    {
                        if (p.Name != name)
                        {
                            continue;
                        }

                        if (IsSame(p, instance))
                        {
                            if (point.Minute >= instance.StartedAt + WarmUp)
                            {
                                samples.Add(new TrendSample(point.Minute, p.RssBytes));
                            }
                        }
                        else if (p.StartedAt < instance.StartedAt - SameStart && point.Minute >= now - options.Window)
                        {
                            restarted = true; // an earlier instance of the name ran within the window
                        }
                    }
                }

                double capacity = instance.RssBytes + available;
                var forecast = TimeToFull.Predict(samples, capacity, options.ResetDropFraction * latest.MemoryTotalBytes, now, options, restarted);
                var candidate = new ProcessForecast(name, instance.Pid, instance.StartedAt, instance.RssBytes, forecast);
                if (chosen is null || Sooner(candidate, chosen, now, options))
                {
                    chosen = candidate;
                }
            }

            forecasts.Add(chosen!);
        }

        return forecasts;
    }

    private static bool IsSame(ProcessUsage a, ProcessUsage b) =>
        a.Pid == b.Pid && (a.StartedAt - b.StartedAt).Duration() <= SameStart;

    /// <summary>Of several instances of one name, the one to report: a raise before a hold before a clear, then the soonest full.</summary>
    private static bool Sooner(ProcessForecast a, ProcessForecast b, DateTimeOffset now, ForecastOptions options)
    {
        int rankA = Rank(a.Forecast.Alarm(now, options)), rankB = Rank(b.Forecast.Alarm(now, options));
        return rankA != rankB ? rankA < rankB : (a.Forecast.FullAt ?? DateTimeOffset.MaxValue) < (b.Forecast.FullAt ?? DateTimeOffset.MaxValue);

        static int Rank(ForecastAlarm alarm) => alarm switch
        {
            ForecastAlarm.Raise => 0,
            ForecastAlarm.Hold => 1,
            _ => 2,
        };
    }
}
