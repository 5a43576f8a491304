using System.Diagnostics;
using Medic.Agent.Host;

namespace Medic.Agent.Tests.Host;

public sealed class MetricsSamplerTests : IDisposable
{
    private static readonly DateTimeOffset Now = new(2026, 11, 21, 12, 0, 0, TimeSpan.Zero);
    private readonly HostFixture _host = new();

    public void Dispose() => _host.Dispose();

    [Fact]
    public void Cpu_busy_is_measured_since_boot_then_since_the_previous_sample()
    {
        var sampler = new MetricsSampler(_host.Paths);
        _host.WithProc("stat", "cpu  300 0 100 600 0 0 0 0 0 0\n");
        sampler.Sample(Now).CpuPercent.ShouldBe(40.0);

        _host.WithProc("stat", "cpu  310 0 100 690 0 0 0 0 0 0\n");
        sampler.Sample(Now.AddSeconds(15)).CpuPercent.ShouldBe(10.0);
    }

    [Fact]
    public void A_sample_reads_every_file_the_paths_point_at()
    {
        _host.WithProc("stat", "cpu  10 0 10 80 0 0 0 0 0 0\n")
            .WithProc("loadavg", "0.52 0.58 0.59 1/467 12345\n")
            .WithProc("meminfo", "MemTotal: 1000 kB\nMemFree: 100 kB\nMemAvailable: 250 kB\nSwapTotal: 400 kB\nSwapFree: 300 kB\n")
            .WithProc("mounts", "/dev/vda / ext4 rw 0 0\nsysfs /sys sysfs rw 0 0\n")
            .WithProc("net/dev", "Inter-|\n face |\n    lo: 9 1 0 0 0 0 0 0 9 1 0 0 0 0 0 0\n  eth0: 70 1 0 0 0 0 0 0 30 1 0 0 0 0 0 0\n")
            .WithProc("uptime", "12.50 20.00\n")
            .WithProc("1/stat", "")
            .WithProc("42/stat", "")
            .WithProc("self-not-a-pid/stat", "");

        var metrics = new MetricsSampler(_host.Paths).Sample(Now);

        metrics.At.ShouldBe(Now);
        metrics.CpuPercent.ShouldBe(20.0);
        (metrics.Load1, metrics.Load5, metrics.Load15).ShouldBe((0.52, 0.58, 0.59));
        (metrics.MemoryTotalBytes, metrics.MemoryUsedBytes).ShouldBe((1024_000L, 750L * 1024));
        (metrics.SwapTotalBytes, metrics.SwapUsedBytes).ShouldBe((400L * 1024, 100L * 1024));
        metrics.Mounts.Select(m => m.Mount).ShouldBe(["/"]);
        (metrics.NetworkRxBytes, metrics.NetworkTxBytes).ShouldBe((70L, 30L));
        metrics.ProcessCount.ShouldBe(2);
        metrics.UptimeSeconds.ShouldBe(12.5);
    }

    [Fact]
    public void A_host_whose_files_are_all_missing_samples_as_zeros()
    {
        var metrics = new MetricsSampler(_host.Paths).Sample(Now);

        metrics.ShouldBe(new Medic.Contracts.Agent.Metrics(Now, 0, 0, 0, 0, 0, 0, 0, 0, metrics.Mounts, 0, 0, 0, 0));
        metrics.Mounts.ShouldBeEmpty();
    }

    [Fact]
    public void A_mount_table_change_between_samples_is_seen()
    {
        var sampler = new MetricsSampler(_host.Paths);
        _host.WithProc("mounts", "/dev/vda / ext4 rw 0 0\n");
        sampler.Sample(Now).Mounts.Select(m => m.Mount).ShouldBe(["/"]);

        var here = AppContext.BaseDirectory.TrimEnd('/');
        _host.WithProc("mounts", $"/dev/vda / ext4 rw 0 0\n/dev/vdb /medic/test/gone ext4 rw 0 0\n/dev/vdc {here.Replace(" ", "\\040")} ext4 rw 0 0\n");
        sampler.Sample(Now).Mounts.Select(m => m.Mount).ShouldBe(["/", here]);
    }

    [Fact]
    public async Task Two_samples_of_this_machine_agree_with_df()
    {
        var sampler = new MetricsSampler();
        sampler.Sample(DateTimeOffset.UtcNow);
        await Task.Delay(200);
        var metrics = sampler.Sample(DateTimeOffset.UtcNow);

        metrics.CpuPercent.ShouldBeInRange(0, 100);
        metrics.MemoryTotalBytes.ShouldBeGreaterThan(0);
        metrics.MemoryUsedBytes.ShouldBeInRange(1, metrics.MemoryTotalBytes);
        metrics.ProcessCount.ShouldBeGreaterThan(1);
        metrics.UptimeSeconds.ShouldBeGreaterThan(0);

        var root = metrics.Mounts.Single(m => m.Mount == "/");
        long dfSize = await Df("-B1", "--output=size", "/");
        root.BytesTotal.ShouldBeInRange(dfSize * 99 / 100, dfSize * 101 / 100);
        root.BytesUsed.ShouldBeInRange(1, root.BytesTotal);
        // GNU df refuses -i together with --output; itotal alone is the inode total.
        root.InodesTotal.ShouldBe(await Df("--output=itotal", "/"));
        root.InodesUsed.ShouldBeInRange(1, root.InodesTotal);
    }

    private static async Task<long> Df(params string[] args)
    {
        var start = new ProcessStartInfo("df") { RedirectStandardOutput = true };
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }

        using var df = Process.Start(start)!;
        var text = await df.StandardOutput.ReadToEndAsync();
        await df.WaitForExitAsync();
        df.ExitCode.ShouldBe(0);
        return long.Parse(text.Split('\n', StringSplitOptions.RemoveEmptyEntries)[^1].Trim());
    }
}
