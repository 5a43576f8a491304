using System.Globalization;
using System.Net;
using System.Text;
using Medic.Agent.Execution;

namespace Medic.Agent.Diagnostics;

/// <summary>Which sockets listen here and who owns them: ss when installed, else the kernel's own tables in /proc.</summary>
internal static class ListeningPorts
{
    private const string ListenState = "0A";

    public static DiagnosticVerb Verb { get; } = new()
    {
        Name = "ports",
        Description = "Listening TCP and UDP sockets and their processes (ss -ltnup; /proc/net/tcp when ss is missing).",
        Run = async run =>
        {
            if (Executables.IsInstalled("ss"))
            {
                return await run.ExecAsync(["ss", "-ltnup"], TimeSpan.FromSeconds(30));
            }
            await run.WriteAsync(Describe(FromProc(), "ss is not installed (it comes with iproute2); listening TCP sockets from /proc/net/tcp and /proc/net/tcp6, UDP not shown:"));
            return run.Completed();
        },
    };

    internal sealed record Listener(string Protocol, IPAddress Address, int Port, long Inode, string? Process);

    internal static string Describe(IReadOnlyList<Listener> listeners, string heading)
    {
        var text = new StringBuilder();
        text.AppendLine(heading);
        text.AppendLine($"{"proto",-6} {"local address",-46} process");
        foreach (var listener in listeners.OrderBy(l => l.Port).ThenBy(l => l.Protocol, StringComparer.Ordinal))
        {
            text.AppendLine($"{listener.Protocol,-6} {new IPEndPoint(listener.Address, listener.Port),-46} {listener.Process ?? "-"}");
        }
        if (listeners.Count == 0)
        {
            text.AppendLine("(nothing is listening)");
        }
        return text.ToString();
    }

    /// <summary>Listening TCP sockets from /proc/net/tcp and tcp6, with their owning process where /proc/PID/fd is readable.</summary>
    internal static IReadOnlyList<Listener> FromProc()
    {
        var sockets = Sockets();
        var owners = SocketOwners(sockets.Select(s => s.Inode).ToHashSet());
        return sockets.Select(s => s with { Process = owners.GetValueOrDefault(s.Inode) }).ToList();
    }

    private static List<Listener> Sockets()
    {
        var sockets = new List<Listener>();
        foreach (var (file, protocol) in new[] { ("/proc/net/tcp", "tcp"), ("/proc/net/tcp6", "tcp6") })
        {
            string[] lines;
            try
            {
                lines = File.ReadAllLines(file);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                continue; // no IPv6 in this kernel, or /proc/net hidden
            }
            sockets.AddRange(lines.Skip(1).Select(line => ParseLine(line, protocol)).OfType<Listener>());
        }
        return sockets;
    }

    /// <summary>One row of /proc/net/tcp{,6} if it is a listening socket.</summary>
    internal static Listener? ParseLine(string line, string protocol)
    {
        var fields = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        if (fields.Length < 10 || fields[3] != ListenState)
        {
            return null;
        }
        var colon = fields[1].IndexOf(':', StringComparison.Ordinal);
        if (colon < 0
            || !int.TryParse(fields[1].AsSpan(colon + 1), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out var port)
            || !long.TryParse(fields[9], NumberStyles.None, CultureInfo.InvariantCulture, out var inode))
        {
            return null;
        }
        var address = ParseAddress(fields[1][..colon]);
        return address is null ? null : new Listener(protocol, address, port, inode, null);
    }

    /// <summary>
    /// The kernel prints each 32-bit word of the address as a hex number in host byte order, so on a
    /// little-endian machine every word's bytes come out reversed.
    /// </summary>
    internal static IPAddress? ParseAddress(string hex)
    {
        if (hex.Length is not (8 or 32))
        {
            return null;
        }
        byte[] bytes;
        try
        {
            bytes = Convert.FromHexString(hex);
        }
        catch (FormatException)
        {
            return null;
        }
        if (BitConverter.IsLittleEndian)
        {
            for (var word = 0; word < bytes.Length; word += 4)
            {
                Array.Reverse(bytes, word, 4);
            }
        }
        return new IPAddress(bytes);
    }

    /// <summary>Listening TCP sockets with every process holding each (a master and its workers share one).</summary>
    internal static IReadOnlyList<(Listener Listener, IReadOnlyList<int> Pids)> FromProcWithPids()
    {
        var sockets = Sockets();
        var holders = SocketHolders(sockets.Select(s => s.Inode).ToHashSet());
        return sockets.Select(s => (s, (IReadOnlyList<int>)(holders.GetValueOrDefault(s.Inode)?.Select(p => p.Pid).ToList() ?? []))).ToList();
    }

    private static Dictionary<long, string> SocketOwners(HashSet<long> inodes) =>
        SocketHolders(inodes).ToDictionary(h => h.Key, h => $"{h.Value[0].Command} (pid {h.Value[0].Pid})");

    private static Dictionary<long, List<ProcessTree.ProcStat>> SocketHolders(HashSet<long> inodes)
    {
        var owners = new Dictionary<long, List<ProcessTree.ProcStat>>();
        if (inodes.Count == 0)
        {
            return owners;
        }
        foreach (var process in ProcessTree.Snapshot())
        {
            IEnumerable<string> descriptors;
            try
            {
                descriptors = Directory.EnumerateFileSystemEntries($"/proc/{process.Pid}/fd").ToList();
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                continue; // another user's process: ss would need root for it too
            }
            foreach (var descriptor in descriptors)
            {
                string? target;
                try
                {
                    target = new FileInfo(descriptor).LinkTarget;
                }
                catch (Exception e) when (e is IOException or UnauthorizedAccessException)
                {
                    continue;
                }
                if (target is not null
                    && target.StartsWith("socket:[", StringComparison.Ordinal)
                    && long.TryParse(target.AsSpan(8, target.Length - 9), NumberStyles.None, CultureInfo.InvariantCulture, out var inode)
                    && inodes.Contains(inode))
                {
                    if (!owners.TryGetValue(inode, out var list))
                    {
                        owners[inode] = list = [];
                    }
                    if (!list.Contains(process))
                    {
                        list.Add(process);
                    }
                }
            }
        }
        return owners;
    }
}
