using System.Diagnostics;
using System.Globalization;
using Medic.Agent.Host;

namespace Medic.Bench.Sample;

/// <summary><c>sample [calls]</c>: what one heartbeat's metrics sample costs the agent on this machine.</summary>
internal static class MetricsSampleBench
{
    public static int Run(string[] args)
    {
        var calls = args.Length > 0 ? int.Parse(args[0], CultureInfo.InvariantCulture) : 1000;
        var sampler = new MetricsSampler();
        for (var i = 0; i < 100; i++) sampler.Sample(DateTimeOffset.UtcNow);

        var allocated = GC.GetAllocatedBytesForCurrentThread();
        var cpu = Process.GetCurrentProcess().TotalProcessorTime;
        var clock = Stopwatch.StartNew();
        for (var i = 0; i < calls; i++) sampler.Sample(DateTimeOffset.UtcNow);
        clock.Stop();
        var cpuUs = (Process.GetCurrentProcess().TotalProcessorTime - cpu).TotalMilliseconds * 1000 / calls;
        var wallUs = clock.Elapsed.TotalMilliseconds * 1000 / calls;
        var bytes = (GC.GetAllocatedBytesForCurrentThread() - allocated) / calls;
        Console.WriteLine($"metrics sample: {calls} calls, {wallUs:F0} us wall and {cpuUs:F0} us CPU per call, {bytes} bytes allocated per call");
        Console.WriteLine($"at one sample per 15 s heartbeat: {cpuUs / 15_000_000 * 100:F4} % of one core");
        return 0;
    }
}
