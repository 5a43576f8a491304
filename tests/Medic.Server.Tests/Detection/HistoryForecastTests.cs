using Medic.Contracts;
using Medic.Contracts.Agent;
using Medic.Server.Detection.Forecasting;
using static Medic.Server.Tests.Detection.SyntheticSeries;

namespace Medic.Server.Tests.Detection;

/// <summary>Disk and memory forecasts read from a server's metrics history, one point a minute.</summary>
public sealed class HistoryForecastTests
{
    private const long Memory = 16L << 30;
    private static readonly DateTimeOffset Boot = Now.AddDays(-3);

    private static List<MetricsPoint> History(int minutes, Func<double, IReadOnlyList<MountUsage>> mounts, Func<double, IReadOnlyList<ProcessUsage>?>? processes = null, Func<double, long>? memoryUsed = null) =>
        Enumerable.Range(0, minutes)
            .Select(i => Now.AddMinutes(i - minutes + 1))
            .Select(at =>
            {
                double h = (at - Now).TotalHours;
                return new MetricsPoint(at, new Metrics(at, 5, 0.1, 0.1, 0.1, Memory, memoryUsed?.Invoke(h) ?? (4L << 30), 0, 0, mounts(h), 0, 0, 120, 3600, processes?.Invoke(h)));
            })
            .ToList();

    private static IReadOnlyList<MountUsage> Root(double h) =>
        [new MountUsage("/", 100L << 30, (long)((60 * GiB) + (2 * GiB * h)), 1_000_000, 500_000), new MountUsage("/data", 1L << 40, 10L << 30, 0, 0)];

    [Fact]
    public void Each_mount_is_forecast_for_bytes_and_inodes_and_a_filesystem_without_inodes_only_for_bytes()
    {
        var forecasts = DiskForecast.Predict(History(360, Root), Now, new ForecastOptions());

        forecasts.Select(f => (f.Mount, f.Resource, f.Forecast.Verdict)).ShouldBe(
        [
            ("/", DiskResource.Bytes, ForecastVerdict.FullWithinHorizon),
            ("/", DiskResource.Inodes, ForecastVerdict.NotGrowing),
            ("/data", DiskResource.Bytes, ForecastVerdict.NotGrowing),
        ]);
        forecasts[0].Forecast.FullAt!.Value.ShouldBe(Now.AddHours(20), tolerance: TimeSpan.FromMinutes(10));
        forecasts[0].Used.ShouldBe(60 * GiB, tolerance: GiB / 100);
    }

    [Fact]
    public void Inodes_running_out_are_forecast_apart_from_bytes()
    {
        // Millions of small files: 500 k inodes left, 50 k more an hour.
        var forecasts = DiskForecast.Predict(History(360, h => [new MountUsage("/var", 100L << 30, 20L << 30, 1_000_000, (long)(500_000 + (50_000 * h)))]), Now, new ForecastOptions());

        forecasts.Single(f => f.Resource == DiskResource.Inodes).Forecast.Verdict.ShouldBe(ForecastVerdict.FullWithinHorizon);
        forecasts.Single(f => f.Resource == DiskResource.Bytes).Forecast.Verdict.ShouldBe(ForecastVerdict.NotGrowing);
    }

    [Fact]
    public void A_mount_gone_from_the_latest_point_is_not_forecast()
    {
        var history = History(360, h => h > -0.1 ? [] : Root(h));

        DiskForecast.Predict(history, Now, new ForecastOptions()).ShouldBeEmpty();
    }

    private static ProcessUsage Java(int pid, DateTimeOffset started, double gib) => new(pid, "java", (long)(gib * GiB), started);

    [Fact]
    public void A_process_leaking_steadily_is_forecast_to_take_the_machines_available_memory()
    {
        // The JVM started a day ago and grows 0.5 GiB/h to 8 GiB now; 6 GiB of the 16 are still available: 12 h left.
        var started = Now.AddDays(-1);
        var noise = Gaussian(seed: 9, sigma: 0.05);
        var history = History(720, Root,
            h => [Java(4242, started, 8 + (0.5 * h) + noise()), new ProcessUsage(17, "postgres", 1L << 30, Boot)],
            h => (long)((10 * GiB) + (0.5 * GiB * h)));

        var forecasts = MemoryGrowth.Predict(history, Now, MemoryGrowth.Defaults);

        var java = forecasts.Single(f => f.Name == "java");
        java.Pid.ShouldBe(4242);
        java.Forecast.Verdict.ShouldBe(ForecastVerdict.FullWithinHorizon);
        java.Forecast.Capacity.ShouldBe(java.Rss + (6 * GiB), tolerance: GiB / 10);
        java.Forecast.FullAt!.Value.ShouldBe(Now.AddHours(12), tolerance: TimeSpan.FromHours(1));
        forecasts.Single(f => f.Name == "postgres").Forecast.Verdict.ShouldBe(ForecastVerdict.NotGrowing);
    }

    [Fact]
    public void A_restart_starts_a_new_regime_and_clears_the_warning()
    {
        // Leaking 1 GiB/h until restarted 40 minutes ago: the new instance is too young to forecast.
        var first = Now.AddDays(-1);
        var second = Now.AddMinutes(-40);
        var history = History(720, Root, h => [h < -40.0 / 60 ? Java(4242, first, 6 + h) : Java(5150, second, 0.5)]);
        var options = MemoryGrowth.Defaults;

        var beforeRestart = MemoryGrowth.Predict(history.Take(670).ToList(), Now.AddMinutes(-50), options).Single();
        var afterRestart = MemoryGrowth.Predict(history, Now, options).Single();

        beforeRestart.Forecast.Alarm(Now.AddMinutes(-50), options).ShouldBe(ForecastAlarm.Raise);
        afterRestart.Pid.ShouldBe(5150);
        afterRestart.Forecast.Verdict.ShouldBe(ForecastVerdict.RegimeTooShort);
        afterRestart.Forecast.Alarm(Now, options).ShouldBe(ForecastAlarm.Clear);
    }

    [Fact]
    public void Growth_during_warm_up_after_a_start_is_not_a_leak()
    {
        // Started 3 h ago, filled its cache for 25 minutes, flat since.
        var started = Now.AddHours(-3);
        var history = History(180, Root, h => [Java(4242, started, Math.Min(8, 1 + (h + 3) * 17))]);

        var forecast = MemoryGrowth.Predict(history, Now, MemoryGrowth.Defaults).Single().Forecast;

        forecast.Verdict.ShouldBe(ForecastVerdict.NotGrowing);
        forecast.Trend!.From.ShouldBe(started + MemoryGrowth.WarmUp, tolerance: TimeSpan.FromMinutes(1));
    }

    [Fact]
    public void Of_several_processes_sharing_a_name_the_one_filling_memory_soonest_is_reported()
    {
        var started = Now.AddDays(-1);
        var history = History(720, Root, h => [Java(100, started, 2), Java(200, started, 3 + (1.5 * h))]);

        var java = MemoryGrowth.Predict(history, Now, MemoryGrowth.Defaults).Single();

        java.Pid.ShouldBe(200);
        java.Forecast.Verdict.ShouldBe(ForecastVerdict.FullWithinHorizon);
    }

    [Fact]
    public void A_heartbeat_without_processes_from_an_older_agent_gives_no_memory_forecast() =>
        MemoryGrowth.Predict(History(360, Root), Now, MemoryGrowth.Defaults).ShouldBeEmpty();
}
