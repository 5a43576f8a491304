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

    public MetricsSampler()
        : this(HostPaths.Default)
    {
    }

    public Metrics Sample(DateTimeOffset now)
    {
        var cpu = ProcParsers.CpuSample(_reader.Read(_stat));
        double cpuPercent = cpu.BusyPercentSince(_previousCpu);
        _previousCpu = cpu;

        var load = ProcParsers.LoadAvg(_reader.Read(_loadAvg));
        var memory = ProcParsers.MemInfo(_reader.Read(_memInfo));
        var mounts = MountUsages(MountEntries(_reader.Read(_mounts)));
        var network = ProcParsers.NetDev(_reader.Read(_netDev));
        double uptime = ProcParsers.Uptime(_reader.Read(_uptime));

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
            ProcessCount: CountProcesses(_proc),
            UptimeSeconds: uptime);
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
