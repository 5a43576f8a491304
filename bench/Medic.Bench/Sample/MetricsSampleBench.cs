using System.Diagnostics;
using System.Globalization;
using Medic.Agent.Host;

namespace Medic.Bench.Sample;

/// <summary>
/// <c>sample [calls]</c>: what one heartbeat's metrics sample costs the agent on this machine, with
/// and without the once-a-minute scan of every process for the largest by memory.
/// </summary>
internal static class MetricsSampleBench
{
    public static int Run(string[] args)
    {
        var calls = args.Length > 0 ? int.Parse(args[0], CultureInfo.InvariantCulture) : 1000;
        var processes = Directory.EnumerateDirectories("/proc").Count(d => Path.GetFileName(d).All(char.IsAsciiDigit));
        Console.WriteLine($"{processes} processes on this machine");

        // The same instant every call: no process scan after the first.
        var start = DateTimeOffset.UtcNow;
        var (wall, cpu, bytes) = Measure(calls, _ => start);
        Console.WriteLine($"metrics sample between process scans: {calls} calls, {wall:F0} us wall and {cpu:F0} us CPU per call, {bytes} bytes allocated per call");
        double betweenCpu = cpu;

        // A minute apart every call: every sample scans the processes.
        (wall, cpu, bytes) = Measure(calls, i => start + (MetricsSampler.ProcessScanInterval * (i + 1)));
        Console.WriteLine($"metrics sample with a process scan: {calls} calls, {wall:F0} us wall and {cpu:F0} us CPU per call, {bytes} bytes allocated per call");

        // At the default 15 s heartbeat, one sample in four scans.
        double perMinute = (3 * betweenCpu) + cpu;
        Console.WriteLine($"at one sample per 15 s heartbeat (one scan a minute): {perMinute / 60_000_000 * 100:F4} % of one core");
        return 0;
    }

    private static (double WallUs, double CpuUs, long Bytes) Measure(int calls, Func<int, DateTimeOffset> now)
    {
        var sampler = new MetricsSampler();
        for (var i = 0; i < 100; i++) sampler.Sample(now(i));

        var allocated = GC.GetAllocatedBytesForCurrentThread();
        var cpu = Process.GetCurrentProcess().TotalProcessorTime;
        var clock = Stopwatch.StartNew();
        for (var i = 0; i < calls; i++) sampler.Sample(now(100 + i));
        clock.Stop();
        var cpuUs = (Process.GetCurrentProcess().TotalProcessorTime - cpu).TotalMilliseconds * 1000 / calls;
        return (clock.Elapsed.TotalMilliseconds * 1000 / calls, cpuUs, (GC.GetAllocatedBytesForCurrentThread() - allocated) / calls);
    }
}
