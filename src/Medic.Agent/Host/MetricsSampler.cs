using System.IO.Enumeration;
using Medic.Contracts.Agent;

namespace Medic.Agent.Host;

/// <summary>
/// Takes one heartbeat's measurements. Holds the previous CPU sample, so CPU busy is measured
/// between heartbeats (the first since boot). Reads each file once per sample into reused buffers;
/// not thread-safe, one sampler per heartbeat loop.
/// </summary>
internal sealed class MetricsSampler(HostPaths paths)
{
    /// <summary>How many of the largest processes by resident memory a heartbeat carries.</summary>
    public const int TopProcesses = 10;

    /// <summary>
    /// How often the largest processes are looked for again; heartbeats in between carry the last
    /// list. The history keeps one heartbeat a minute, and reading every process's stat is most of
    /// a sample's cost on a busy machine.
    /// </summary>
    public static readonly TimeSpan ProcessScanInterval = TimeSpan.FromSeconds(60);

    // USER_HZ, the unit of /proc/PID/stat times, is 100 on every Linux architecture the agent runs on.
    private const double ClockTicksPerSecond = 100;

    private readonly ProcFileReader _reader = new();
    private readonly string _stat = Path.Combine(paths.Proc, "stat");
    private readonly string _loadAvg = Path.Combine(paths.Proc, "loadavg");
    private readonly string _memInfo = Path.Combine(paths.Proc, "meminfo");
    private readonly string _mounts = Path.Combine(paths.Proc, "mounts");
    private readonly string _netDev = Path.Combine(paths.Proc, "net/dev");
    private readonly string _uptime = Path.Combine(paths.Proc, "uptime");
    private readonly string _proc = paths.Proc;
    private CpuTimes _previousCpu;
    private char[] _mountsText = [];
    private IReadOnlyList<MountEntry> _mountEntries = [];
    private IReadOnlyList<ProcessUsage> _processes = [];
    private DateTimeOffset? _processesAt;

    public MetricsSampler()
        : this(HostPaths.Default)
    {
    }

    public Metrics Sample(DateTimeOffset now)
    {
        var statText = _reader.Read(_stat);
        var cpu = ProcParsers.CpuSample(statText);
        long bootSeconds = ProcParsers.BootTime(statText) ?? 0;
        double cpuPercent = cpu.BusyPercentSince(_previousCpu);
        _previousCpu = cpu;

        var load = ProcParsers.LoadAvg(_reader.Read(_loadAvg));
        var memory = ProcParsers.MemInfo(_reader.Read(_memInfo));
        var mounts = MountUsages(MountEntries(_reader.Read(_mounts)));
        var network = ProcParsers.NetDev(_reader.Read(_netDev));
        double uptime = ProcParsers.Uptime(_reader.Read(_uptime));
        int processCount;
        if (_processesAt is not { } last || now - last >= ProcessScanInterval || now < last)
        {
            (processCount, _processes) = Processes(bootSeconds);
            _processesAt = now;
        }
        else
        {
            processCount = CountProcesses(_proc);
        }

        return new Metrics(
            At: now,
            CpuPercent: cpuPercent,
            Load1: load.One,
            Load5: load.Five,
            Load15: load.Fifteen,
            MemoryTotalBytes: memory.TotalBytes,
            MemoryUsedBytes: memory.UsedBytes,
            SwapTotalBytes: memory.SwapTotalBytes,
            SwapUsedBytes: memory.SwapUsedBytes,
            Mounts: mounts,
            NetworkRxBytes: network.RxBytes,
            NetworkTxBytes: network.TxBytes,
            ProcessCount: processCount,
            UptimeSeconds: uptime,
            Processes: _processes);
    }

    /// <summary>The mount table changes rarely: parse it again only when its text differs from the last sample's.</summary>
    private IReadOnlyList<MountEntry> MountEntries(ReadOnlySpan<char> text)
    {
        if (!text.SequenceEqual(_mountsText))
        {
            _mountEntries = ProcParsers.Mounts(text);
            _mountsText = text.ToArray();
        }

        return _mountEntries;
    }

    private static List<MountUsage> MountUsages(IReadOnlyList<MountEntry> mounts)
    {
        var usages = new List<MountUsage>(mounts.Count);
        for (int i = 0; i < mounts.Count; i++)
        {
            var mountPoint = mounts[i].MountPoint;
            if (StatVfs.Query(mountPoint) is { BytesTotal: > 0 } size)
            {
                usages.Add(new MountUsage(mountPoint, size.BytesTotal, size.BytesUsed, size.InodesTotal, size.InodesUsed));
            }
        }

        return usages;
    }

    /// <summary>Processes are the numeric directories of /proc; counted without allocating their names.</summary>
    private static int CountProcesses(string proc)
    {
        try
        {
            var entries = new FileSystemEnumerable<byte>(proc, static (ref FileSystemEntry _) => 0)
            {
                ShouldIncludePredicate = static (ref FileSystemEntry entry) => entry.IsDirectory && IsNumber(entry.FileName),
            };

            int count = 0;
            foreach (var _ in entries)
            {
                count++;
            }

            return count;
        }
        catch (IOException)
        {
            return 0;
        }
        catch (UnauthorizedAccessException)
        {
            return 0;
        }
    }

    /// <summary>
    /// Processes are the numeric directories of /proc. Each one's stat is read (one small file,
    /// no allocation but its path) to keep the <see cref="TopProcesses"/> largest by resident memory;
    /// a name is made into a string only when its process enters that list.
    /// </summary>
    private (int Count, List<ProcessUsage> Top) Processes(long bootSeconds)
    {
        var top = new List<ProcessUsage>(TopProcesses + 1);
        int count = 0;
        try
        {
            var stats = new FileSystemEnumerable<string>(_proc, static (ref FileSystemEntry entry) => Path.Join(entry.Directory, entry.FileName, "stat"))
            {
                ShouldIncludePredicate = static (ref FileSystemEntry entry) => entry.IsDirectory && IsNumber(entry.FileName),
            };

            long pageSize = Environment.SystemPageSize;
            var boot = DateTimeOffset.FromUnixTimeSeconds(bootSeconds);
            foreach (var stat in stats)
            {
                count++;
                if (!ProcParsers.TryProcessStat(_reader.Read(stat), out var name, out ulong startTicks, out long rssPages) || rssPages == 0)
                {
                    continue; // gone since the listing, or a kernel thread (no user memory)
                }

                long rss = rssPages * pageSize;
                if (top.Count == TopProcesses && rss <= top[^1].RssBytes)
                {
                    continue;
                }

                int at = top.FindIndex(p => p.RssBytes < rss);
                var pid = int.Parse(Path.GetFileName(Path.GetDirectoryName(stat.AsSpan())), System.Globalization.CultureInfo.InvariantCulture);
                top.Insert(at < 0 ? top.Count : at, new ProcessUsage(pid, name.ToString(), rss, boot.AddSeconds(startTicks / ClockTicksPerSecond)));
                if (top.Count > TopProcesses)
                {
                    top.RemoveAt(TopProcesses);
                }
            }
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
        }

        return (count, top);
    }

    private static bool IsNumber(ReadOnlySpan<char> name)
    {
        foreach (char c in name)
        {
            if (!char.IsAsciiDigit(c))
            {
                return false;
            }
        }

        return !name.IsEmpty;
    }
}
