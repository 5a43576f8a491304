using Medic.Contracts;

namespace Medic.Server.Web.Pages.Servers;

/// <summary>One point of a chart line: a minute and a value.</summary>
internal sealed record ChartPoint(DateTime At, double Value);

internal sealed record ChartSeries(string Title, IReadOnlyList<ChartPoint> Points);

/// <summary>A chart of the server page; <c>Max</c> null lets the axis fit the values.</summary>
internal sealed record Chart(string Key, string Title, IReadOnlyList<ChartSeries> Series, double? Max)
{
    public int Points => Series.Sum(s => s.Points.Count);
}

/// <summary>The server page's charts drawn from its metrics history: CPU, memory, load and the use of each disk.</summary>
internal static class ServerCharts
{
    /// <summary>Disks beyond this many (the fullest first) are left out, so the chart stays readable.</summary>
    private const int MaxMounts = 6;

    public static IReadOnlyList<Chart> From(IReadOnlyList<MetricsPoint> history)
    {
        if (history.Count == 0) return [];
        static DateTime At(MetricsPoint p) => p.Minute.UtcDateTime;
        static double Percent(long used, long total) => total > 0 ? Math.Round(100.0 * used / total, 1) : 0;

        var cpu = new ChartSeries("CPU %", [.. history.Select(p => new ChartPoint(At(p), Math.Round(p.Metrics.CpuPercent, 1)))]);
        var memory = new ChartSeries("Memory used %", [.. history.Select(p => new ChartPoint(At(p), Percent(p.Metrics.MemoryUsedBytes, p.Metrics.MemoryTotalBytes)))]);
        var load = new[]
        {
            new ChartSeries("1 min", [.. history.Select(p => new ChartPoint(At(p), p.Metrics.Load1))]),
            new ChartSeries("5 min", [.. history.Select(p => new ChartPoint(At(p), p.Metrics.Load5))]),
            new ChartSeries("15 min", [.. history.Select(p => new ChartPoint(At(p), p.Metrics.Load15))]),
        };
        var mounts = history[^1].Metrics.Mounts
            .OrderByDescending(m => m.BytesTotal > 0 ? (double)m.BytesUsed / m.BytesTotal : 0).ThenBy(m => m.Mount, StringComparer.Ordinal)
            .Take(MaxMounts).Select(m => m.Mount).ToList();
        var disks = mounts.Select(mount => new ChartSeries(mount, [.. history
            .SelectMany(p => p.Metrics.Mounts.Where(m => m.Mount == mount).Take(1).Select(m => new ChartPoint(At(p), Percent(m.BytesUsed, m.BytesTotal))))])).ToList();

        return
        [
            new Chart("cpu", "CPU", [cpu], 100),
            new Chart("memory", "Memory", [memory], 100),
            new Chart("load", "Load average", load, null),
            new Chart("disk", "Disk space used %", disks, 100),
        ];
    }
}
