using System.Globalization;

namespace Medic.Agent.Host;

/// <summary>
/// Pure parsers of the kernel's text files. Each tolerates missing, partial or unexpected lines
/// (containers, older kernels): what it cannot read comes back as zero or "unknown", never as an
/// exception.
/// </summary>
internal static class ProcParsers
{
    public const string Unknown = "unknown";

    /// <summary>The aggregate <c>cpu</c> line of /proc/stat.</summary>
    public static CpuTimes CpuSample(ReadOnlySpan<char> statText)
    {
        foreach (var line in statText.EnumerateLines())
        {
            if (!line.StartsWith("cpu "))
            {
                continue;
            }

            var rest = line[4..];
            ulong total = 0;
            ulong idle = 0;
            // user nice system idle iowait irq softirq steal; guest and guest_nice that follow are
            // already counted in user and nice. Kernels before 2.6.11 stop earlier.
            for (int i = 0; i < 8; i++)
            {
                var field = NextField(ref rest);
                if (!ulong.TryParse(field, NumberStyles.None, CultureInfo.InvariantCulture, out ulong ticks))
                {
                    break;
                }

                total += ticks;
                if (i is 3 or 4)
                {
                    idle += ticks;
                }
            }

            return new CpuTimes(total, idle);
        }

        return default;
    }

    /// <summary>The <c>btime</c> line of /proc/stat: boot time in seconds since the Unix epoch.</summary>
    public static long? BootTime(ReadOnlySpan<char> statText)
    {
        foreach (var line in statText.EnumerateLines())
        {
            if (line.StartsWith("btime "))
            {
                var rest = line[6..];
                return long.TryParse(NextField(ref rest), NumberStyles.None, CultureInfo.InvariantCulture, out long seconds)
                    ? seconds
                    : null;
            }
        }

        return null;
    }

    public static MemoryInfo MemInfo(ReadOnlySpan<char> text)
    {
        long total = 0, free = 0, buffers = 0, cached = 0, swapTotal = 0, swapFree = 0;
        long? available = null;
        foreach (var line in text.EnumerateLines())
        {
            int colon = line.IndexOf(':');
            if (colon <= 0)
            {
                continue;
            }

            var rest = line[(colon + 1)..];
            if (!long.TryParse(NextField(ref rest), NumberStyles.None, CultureInfo.InvariantCulture, out long value))
            {
                continue;
            }

            if (NextField(ref rest).SequenceEqual("kB"))
            {
                value *= 1024;
            }

            switch (line[..colon])
            {
                case "MemTotal": total = value; break;
                case "MemFree": free = value; break;
                case "MemAvailable": available = value; break;
                case "Buffers": buffers = value; break;
                case "Cached": cached = value; break;
                case "SwapTotal": swapTotal = value; break;
                case "SwapFree": swapFree = value; break;
            }
        }

        return new MemoryInfo(total, available, free, buffers, cached, swapTotal, swapFree);
    }

    public static LoadAverage LoadAvg(ReadOnlySpan<char> text)
    {
        var rest = text;
        return new LoadAverage(Number(NextField(ref rest)), Number(NextField(ref rest)), Number(NextField(ref rest)));

        static double Number(ReadOnlySpan<char> field) =>
            double.TryParse(field, NumberStyles.Float, CultureInfo.InvariantCulture, out double value) ? value : 0;
    }

    /// <summary>Seconds since boot: the first field of /proc/uptime.</summary>
    public static double Uptime(ReadOnlySpan<char> text)
    {
        var rest = text;
        return double.TryParse(NextField(ref rest), NumberStyles.Float, CultureInfo.InvariantCulture, out double seconds)
            ? seconds
            : 0;
    }

    /// <summary>Received and transmitted bytes of /proc/net/dev, summed over every interface but <c>lo</c>.</summary>
    public static NetworkTotals NetDev(ReadOnlySpan<char> text)
    {
        long rx = 0, tx = 0;
        foreach (var line in text.EnumerateLines())
        {
            // Interface names cannot contain ':', so the first one ends the name; the two header
            // lines have none. Old kernels print "eth0:123" with no space after the colon.
            int colon = line.IndexOf(':');
            if (colon < 0 || line[..colon].Trim().SequenceEqual("lo"))
            {
                continue;
            }

            var rest = line[(colon + 1)..];
            if (!long.TryParse(NextField(ref rest), NumberStyles.None, CultureInfo.InvariantCulture, out long received))
            {
                continue;
            }

            for (int i = 0; i < 7; i++)
            {
                NextField(ref rest);
            }

            if (!long.TryParse(NextField(ref rest), NumberStyles.None, CultureInfo.InvariantCulture, out long transmitted))
            {
                continue;
            }

            rx += received;
            tx += transmitted;
        }

        return new NetworkTotals(rx, tx);
    }

    /// <summary>
    /// The filesystems of /proc/mounts that hold data: pseudo and image filesystems left out, a
    /// mount point listed twice taken from its last (visible) line, and a block device mounted in
    /// several places (bind mounts, subvolumes) kept once, at its shortest path.
    /// </summary>
    public static IReadOnlyList<MountEntry> Mounts(ReadOnlySpan<char> text)
    {
        var mounts = new List<MountEntry>();
        foreach (var line in text.EnumerateLines())
        {
            var rest = line;
            var device = NextField(ref rest);
            var mountPoint = NextField(ref rest);
            var fsType = NextField(ref rest);
            if (fsType.IsEmpty || IsPseudo(fsType))
            {
                continue;
            }

            var path = Unescape(mountPoint);
            if (IsContainerPlumbing(path))
            {
                continue;
            }

            mounts.RemoveAll(m => m.MountPoint == path);
            mounts.Add(new MountEntry(Unescape(device), path, fsType.ToString()));
        }

        var onePerDevice = new List<MountEntry>(mounts.Count);
        foreach (var mount in mounts)
        {
            int same = mount.Device.StartsWith('/') ? onePerDevice.FindIndex(m => m.Device == mount.Device) : -1;
            if (same < 0)
            {
                onePerDevice.Add(mount);
            }
            else if (mount.MountPoint.Length < onePerDevice[same].MountPoint.Length)
            {
                onePerDevice[same] = mount;
            }
        }

        return onePerDevice;
    }

    /// <summary>
    /// The command name, start time (clock ticks after boot) and resident set (pages) of one
    /// <c>/proc/PID/stat</c>; false when the text is not one (the process exited between listing
    /// and reading). <paramref name="name"/> points into <paramref name="text"/>, so nothing is
    /// allocated for the many processes a sample reads and does not keep.
    /// </summary>
    public static bool TryProcessStat(ReadOnlySpan<char> text, out ReadOnlySpan<char> name, out ulong startTicks, out long rssPages)
    {
        name = default;
        startTicks = 0;
        rssPages = 0;
        // "PID (comm) state ppid ...": comm may itself hold spaces and ')', so it ends at the last ')'.
        int open = text.IndexOf('(');
        int close = text.LastIndexOf(')');
        if (open < 0 || close < open)
        {
            return false;
        }

        var rest = text[(close + 1)..];
        // Fields after comm are numbered from 3 (state); starttime is field 22 and rss field 24.
        for (int field = 3; field <= 24; field++)
        {
            var value = NextField(ref rest);
            if (value.IsEmpty
                || (field == 22 && !ulong.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out startTicks))
                || (field == 24 && !long.TryParse(value, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out rssPages)))
            {
                return false;
            }
        }

        name = text[(open + 1)..close];
        rssPages = Math.Max(0, rssPages);
        return true;
    }

    /// <summary>
    /// The distribution's name from os-release: <c>PRETTY_NAME</c>, else <c>ID VERSION_ID</c>,
    /// else "unknown".
    /// </summary>
    public static string OsRelease(ReadOnlySpan<char> text)
    {
        string? pretty = null, id = null, version = null;
        foreach (var line in text.EnumerateLines())
        {
            int equals = line.IndexOf('=');
            if (equals <= 0)
            {
                continue;
            }

            switch (line[..equals].Trim())
            {
                case "PRETTY_NAME": pretty = Unquote(line[(equals + 1)..]); break;
                case "ID": id = Unquote(line[(equals + 1)..]); break;
                case "VERSION_ID": version = Unquote(line[(equals + 1)..]); break;
            }
        }

        if (!string.IsNullOrWhiteSpace(pretty))
        {
            return pretty;
        }

        var fallback = $"{id} {version}".Trim();
        return fallback.Length > 0 ? fallback : Unknown;
    }

    /// <summary>The next whitespace-separated field of <paramref name="rest"/>, which moves past it.</summary>
    private static ReadOnlySpan<char> NextField(ref ReadOnlySpan<char> rest)
    {
        rest = rest.TrimStart();
        int end = rest.IndexOfAny(' ', '\t');
        if (end < 0)
        {
            var last = rest;
            rest = default;
            return last;
        }

        var field = rest[..end];
        rest = rest[end..];
        return field;
    }

    private static bool IsPseudo(ReadOnlySpan<char> fsType) =>
        fsType.StartsWith("cgroup") || fsType is
            "proc" or "sysfs" or "devtmpfs" or "devpts" or "tmpfs" or "ramfs" or "rootfs" or "cpuset"
            or "securityfs" or "pstore" or "bpf" or "debugfs" or "tracefs" or "configfs" or "fusectl"
            or "hugetlbfs" or "mqueue" or "autofs" or "binfmt_misc" or "rpc_pipefs" or "nfsd" or "nsfs"
            or "efivarfs" or "selinuxfs" or "smackfs" or "sockfs" or "pipefs" or "anon_inodefs"
            or "binder" or "functionfs" or "fuse.lxcfs" or "fuse.gvfsd-fuse" or "fuse.portal"
            // Read-only images (snaps, composefs) are full by design and would only raise alarms.
            or "squashfs" or "erofs" or "fuse.snapfuse";

    // Each container's root is an overlay mounted under its runtime's state directory; the disk
    // beneath is already reported where the host mounts it.
    private static bool IsContainerPlumbing(string mountPoint) =>
        mountPoint.StartsWith("/var/lib/docker/", StringComparison.Ordinal)
        || mountPoint.StartsWith("/var/lib/containers/", StringComparison.Ordinal)
        || mountPoint.StartsWith("/var/lib/containerd/", StringComparison.Ordinal)
        || mountPoint.StartsWith("/run/containerd/", StringComparison.Ordinal)
        || mountPoint.StartsWith("/run/docker/", StringComparison.Ordinal)
        || mountPoint.StartsWith("/var/lib/kubelet/pods/", StringComparison.Ordinal);

    /// <summary>Decodes the octal escapes (<c>\040</c> for a space) the kernel writes in /proc/mounts.</summary>
    private static string Unescape(ReadOnlySpan<char> field)
    {
        if (!field.Contains('\\'))
        {
            return field.ToString();
        }

        Span<char> decoded = field.Length <= 256 ? stackalloc char[field.Length] : new char[field.Length];
        int length = 0;
        for (int i = 0; i < field.Length; i++)
        {
            if (field[i] == '\\' && i + 3 < field.Length && IsOctal(field[i + 1]) && IsOctal(field[i + 2]) && IsOctal(field[i + 3]))
            {
                decoded[length++] = (char)(((field[i + 1] - '0') << 6) | ((field[i + 2] - '0') << 3) | (field[i + 3] - '0'));
                i += 3;
            }
            else
            {
                decoded[length++] = field[i];
            }
        }

        return decoded[..length].ToString();

        static bool IsOctal(char c) => c is >= '0' and <= '7';
    }

    /// <summary>An os-release value: shell-style quotes removed and backslash escapes resolved.</summary>
    private static string Unquote(ReadOnlySpan<char> value)
    {
        value = value.Trim();
        if (value.Length >= 2 && (value[0] is '"' or '\'') && value[^1] == value[0])
        {
            value = value[1..^1];
        }

        if (!value.Contains('\\'))
        {
            return value.ToString();
        }

        Span<char> unescaped = value.Length <= 256 ? stackalloc char[value.Length] : new char[value.Length];
        int length = 0;
        for (int i = 0; i < value.Length; i++)
        {
            if (value[i] == '\\' && i + 1 < value.Length)
            {
                i++;
            }

            unescaped[length++] = value[i];
        }

        return unescaped[..length].ToString();
    }
}

/// <summary>Cumulative CPU time in clock ticks, all CPUs together, from the <c>cpu</c> line of /proc/stat.</summary>
internal readonly record struct CpuTimes(ulong Total, ulong Idle)
{
    /// <summary>Percent of the time since <paramref name="previous"/> that the CPUs were not idle (iowait counts as idle).</summary>
    public double BusyPercentSince(CpuTimes previous)
    {
        if (Total <= previous.Total)
        {
            return 0;
        }

        ulong elapsed = Total - previous.Total;
        // iowait can go backwards on some kernels; never let idle exceed the elapsed time.
        ulong idle = Idle > previous.Idle ? Math.Min(Idle - previous.Idle, elapsed) : 0;
        return Math.Round((elapsed - idle) * 100.0 / elapsed, 2);
    }
}

/// <summary>The lines of /proc/meminfo Medic reports, in bytes. <c>AvailableBytes</c> is null before Linux 3.14.</summary>
internal readonly record struct MemoryInfo(
    long TotalBytes,
    long? AvailableBytes,
    long FreeBytes,
    long BuffersBytes,
    long CachedBytes,
    long SwapTotalBytes,
    long SwapFreeBytes)
{
    /// <summary>Total minus available; without MemAvailable, total minus free, buffers and page cache (what free(1) did then).</summary>
    public long UsedBytes => Math.Clamp(TotalBytes - (AvailableBytes ?? FreeBytes + BuffersBytes + CachedBytes), 0, TotalBytes);

    public long SwapUsedBytes => Math.Clamp(SwapTotalBytes - SwapFreeBytes, 0, SwapTotalBytes);
}

internal readonly record struct LoadAverage(double One, double Five, double Fifteen);

internal readonly record struct NetworkTotals(long RxBytes, long TxBytes);

internal sealed record MountEntry(string Device, string MountPoint, string FsType);
