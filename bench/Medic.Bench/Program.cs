using System.Diagnostics;
using Medic.Agent.Host;

// Usage: dotnet run -c Release --project bench/Medic.Bench -- sample [calls]
// Prints what one heartbeat's metrics sample costs the agent on this machine.
var what = args.Length > 0 ? args[0] : "sample";
if (what != "sample")
{
    Console.Error.WriteLine("usage: Medic.Bench sample [calls]");
    return 2;
}

var calls = args.Length > 1 ? int.Parse(args[1], System.Globalization.CultureInfo.InvariantCulture) : 1000;
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
