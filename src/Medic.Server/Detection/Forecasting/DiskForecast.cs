using Medic.Contracts;

namespace Medic.Server.Detection.Forecasting;

internal enum DiskResource
{
    Bytes,
    Inodes,
}

internal sealed record MountForecast(string Mount, DiskResource Resource, double Used, Forecast Forecast);

/// <summary>Time-to-full of every mount's bytes and inodes, from a server's metrics history.</summary>
internal static class DiskForecast
{
    /// <summary>
    /// One forecast per resource of each mount in the latest point (a mount no longer reported is
    /// not forecast). The capacity is the latest total; a filesystem reporting no inodes (btrfs)
    /// gets no inode forecast.
    /// </summary>
    public static IReadOnlyList<MountForecast> Predict(IReadOnlyList<MetricsPoint> history, DateTimeOffset now, ForecastOptions options)
    {
        if (history.Count == 0)
        {
            return [];
        }

        var forecasts = new List<MountForecast>();
        foreach (var latest in history[^1].Metrics.Mounts)
        {
            foreach (var resource in (ReadOnlySpan<DiskResource>)[DiskResource.Bytes, DiskResource.Inodes])
            {
                double capacity = resource == DiskResource.Bytes ? latest.BytesTotal : latest.InodesTotal;
                if (capacity <= 0)
                {
                    continue;
                }

                var samples = new List<TrendSample>(history.Count);
                foreach (var point in history)
                {
                    foreach (var mount in point.Metrics.Mounts)
                    {
                        if (mount.Mount == latest.Mount)
                        {
                            samples.Add(new TrendSample(point.Minute, resource == DiskResource.Bytes ? mount.BytesUsed : mount.InodesUsed));
                            break;
                        }
                    }
                }

                var forecast = TimeToFull.Predict(samples, capacity, options.ResetDropFraction * capacity, now, options);
                forecasts.Add(new MountForecast(latest.Mount, resource, samples[^1].Value, forecast));
            }
        }

        return forecasts;
    }
}
