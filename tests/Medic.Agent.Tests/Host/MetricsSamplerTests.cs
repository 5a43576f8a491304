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
    public void The_ten_largest_processes_by_resident_memory_are_carried_with_their_start_time()
    {
        long page = Environment.SystemPageSize;
        _host.WithProc("stat", "cpu  10 0 10 80 0 0 0 0 0 0\nbtime 1795258112\n")
            .WithProc("2/stat", Stat(2, "kthreadd", startTicks: 0, rssPages: 0))
            .WithProc("77/stat", "")
            .WithProc("900/stat", Stat(900, "my (odd) app", startTicks: 12_345, rssPages: 5_000));
        for (int pid = 100; pid < 112; pid++)
        {
            _host.WithProc($"{pid}/stat", Stat(pid, "worker", startTicks: 100 * pid, rssPages: pid));
        }

        var metrics = new MetricsSampler(_host.Paths).Sample(Now);

        metrics.ProcessCount.ShouldBe(15);
        var processes = metrics.Processes.ShouldNotBeNull();
        processes.Select(p => p.Pid).ShouldBe([900, 111, 110, 109, 108, 107, 106, 105, 104, 103]);
        processes[0].ShouldBe(new Medic.Contracts.Agent.ProcessUsage(900, "my (odd) app", 5_000 * page,
            DateTimeOffset.FromUnixTimeSeconds(1795258112).AddSeconds(123.45)));
        processes[1].RssBytes.ShouldBe(111 * page);
    }

    [Fact]
    public void The_process_list_is_looked_for_again_once_a_minute_while_the_count_is_fresh_every_sample()
    {
        var sampler = new MetricsSampler(_host.Paths);
        _host.WithProc("stat", "btime 1795258112\n").WithProc("100/stat", Stat(100, "api", 500, 2_000));
        sampler.Sample(Now).Processes!.Select(p => p.Name).ShouldBe(["api"]);

        _host.WithProc("200/stat", Stat(200, "worker", 900, 3_000));
        var between = sampler.Sample(Now.AddSeconds(45));
        var next = sampler.Sample(Now.AddSeconds(60));

        between.ProcessCount.ShouldBe(2);
        between.Processes!.Select(p => p.Name).ShouldBe(["api"]);
        next.Processes!.Select(p => p.Name).ShouldBe(["worker", "api"]);
    }

    [Fact]
    public void This_machines_largest_processes_are_listed_largest_first()
    {
        var processes = new MetricsSampler().Sample(DateTimeOffset.UtcNow).Processes.ShouldNotBeNull();

        processes.Count.ShouldBeInRange(1, MetricsSampler.TopProcesses);
        processes.Select(p => p.RssBytes).ShouldBeInOrder(SortDirection.Descending);
        processes.ShouldAllBe(p => p.RssBytes > 0 && p.Name.Length > 0 && p.StartedAt < DateTimeOffset.UtcNow);
        processes.Select(p => p.Pid).ShouldBeUnique();
    }

    // The layout of /proc/PID/stat up to field 24 (rss), with the fields Medic ignores as zeros.
    private static string Stat(int pid, string comm, long startTicks, long rssPages) =>
        $"{pid} ({comm}) S 1 {pid} {pid} 0 -1 4194560 100 0 0 0 5 3 0 0 20 0 1 0 {startTicks} 104857600 {rssPages} 18446744073709551615 1 1 0 0 0\n";

    [Fact]
    public void A_host_whose_files_are_all_missing_samples_as_zeros()
    {
        var metrics = new MetricsSampler(_host.Paths).Sample(Now);

        metrics.ShouldBe(new Medic.Contracts.Agent.Metrics(Now, 0, 0, 0, 0, 0, 0, 0, 0, metrics.Mounts, 0, 0, 0, 0, metrics.Processes));
        metrics.Processes.ShouldBeEmpty();
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
