using System.Globalization;

namespace Medic.Bench.Fanout;

/// <summary>A process's resident memory and CPU time, read from /proc.</summary>
internal readonly record struct ProcStats(long RssBytes, long PeakRssBytes, double CpuSeconds, int Threads, IReadOnlyDictionary<string, long> WaitNsByThread)
{
    // /proc/PID/stat counts in USER_HZ, which the kernel fixes at 100 on x86-64 and arm64.
    private const double TicksPerSecond = 100;

    public static ProcStats Read(int pid)
    {
        var status = File.ReadAllLines($"/proc/{pid}/status");
        long Kb(string key) => status.Where(l => l.StartsWith(key, StringComparison.Ordinal))
            .Select(l => long.Parse(l[key.Length..].Trim().Split(' ')[0], CultureInfo.InvariantCulture) * 1024).FirstOrDefault();
        var threads = (int)(status.Where(l => l.StartsWith("Threads:", StringComparison.Ordinal))
            .Select(l => long.Parse(l["Threads:".Length..].Trim(), CultureInfo.InvariantCulture)).FirstOrDefault());

        // The command name in field 2 may hold spaces; the fields after its closing ')' are fixed: utime is the 14th, stime the 15th.
        var stat = File.ReadAllText($"/proc/{pid}/stat");
        var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
        var ticks = long.Parse(fields[11], CultureInfo.InvariantCulture) + long.Parse(fields[12], CultureInfo.InvariantCulture);
        return new ProcStats(Kb("VmRSS:"), Kb("VmHWM:"), ticks / TicksPerSecond, threads, WaitingForCore(pid));
    }

    /// <summary>
    /// Nanoseconds each live thread has spent runnable but waiting for a core (second field of
    /// /proc/PID/task/TID/schedstat): how much the machine's other load delays the process.
    /// </summary>
    private static Dictionary<string, long> WaitingForCore(int pid)
    {
        var waits = new Dictionary<string, long>(StringComparer.Ordinal);
        foreach (var task in Directory.EnumerateDirectories($"/proc/{pid}/task"))
        {
            try
            {
                waits[Path.GetFileName(task)] = long.Parse(File.ReadAllText(Path.Combine(task, "schedstat")).Split(' ')[1], CultureInfo.InvariantCulture);
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or FormatException or IndexOutOfRangeException)
            {
                // The thread ended while being read.
            }
        }

        return waits;
    }

    /// <summary>
    /// Thread-seconds spent waiting for a core between two readings, summed over threads. Threads
    /// that ended in between are left out, so this errs low, never negative.
    /// </summary>
    public static double WaitedSecondsBetween(ProcStats before, ProcStats after) =>
        after.WaitNsByThread.Sum(t => t.Value - before.WaitNsByThread.GetValueOrDefault(t.Key)) / 1e9;

    public static ProcStats Self() => Read(Environment.ProcessId);

    public override string ToString() =>
        $"RSS {RssBytes / 1048576.0:F0} MiB (peak {PeakRssBytes / 1048576.0:F0} MiB), CPU {CpuSeconds:F2} s, {Threads} threads";

    /// <summary>The machine's load averages and core count, as <c>uptime</c> shows them.</summary>
    public static string MachineLoad()
    {
        var load = $"load average {string.Join(", ", File.ReadAllText("/proc/loadavg").Split(' ').Take(3))} on {Environment.ProcessorCount} cores";
        var pressure = File.Exists("/proc/pressure/cpu") ? File.ReadLines("/proc/pressure/cpu").FirstOrDefault() : null;
        return pressure is null ? load : $"{load}; CPU pressure {pressure}";
    }

    /// <summary>The soft limit on open files (the .NET runtime raises it to the hard limit at start-up).</summary>
    public static long OpenFilesLimit()
    {
        var line = File.ReadAllLines("/proc/self/limits").First(l => l.StartsWith("Max open files", StringComparison.Ordinal));
        var soft = line["Max open files".Length..].Trim().Split(' ', StringSplitOptions.RemoveEmptyEntries)[0];
        return soft == "unlimited" ? long.MaxValue : long.Parse(soft, CultureInfo.InvariantCulture);
    }
}
