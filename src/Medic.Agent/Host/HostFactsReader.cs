using System.Net;
using System.Net.NetworkInformation;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using Medic.Contracts.Agent;

namespace Medic.Agent.Host;

/// <summary>What this server is, read once when the agent connects and sent in <see cref="Hello"/>.</summary>
internal static class HostFactsReader
{
    public static HostFacts Read(HostPaths paths, string agentVersion)
    {
        var reader = new ProcFileReader();

        var hostname = reader.Read(Path.Combine(paths.Proc, "sys/kernel/hostname")).Trim().ToString();
        var kernel = reader.Read(Path.Combine(paths.Proc, "sys/kernel/osrelease")).Trim().ToString();
        var distribution = ProcParsers.OsRelease(reader.Read(Path.Combine(paths.Etc, "os-release")));
        var memory = ProcParsers.MemInfo(reader.Read(Path.Combine(paths.Proc, "meminfo")));
        var bootTime = ProcParsers.BootTime(reader.Read(Path.Combine(paths.Proc, "stat")));
        var uptime = ProcParsers.Uptime(reader.Read(Path.Combine(paths.Proc, "uptime")));

        return new HostFacts(
            Hostname: hostname.Length > 0 ? hostname : Environment.MachineName,
            Distribution: distribution,
            Kernel: kernel.Length > 0 ? kernel : ProcParsers.Unknown,
            Architecture: ArchitectureName(RuntimeInformation.OSArchitecture),
            Cpus: Environment.ProcessorCount,
            MemoryBytes: memory.TotalBytes,
            Disks: Disks(ProcParsers.Mounts(reader.Read(Path.Combine(paths.Proc, "mounts")))),
            Addresses: Addresses(),
            ServiceManager: Directory.Exists(Path.Combine(paths.Run, "systemd", "system")) ? "systemd" : "none",
            AgentVersion: agentVersion,
            BootTime: bootTime is { } seconds
                ? DateTimeOffset.FromUnixTimeSeconds(seconds)
                : uptime > 0 ? DateTimeOffset.UtcNow.AddSeconds(-uptime) : DateTimeOffset.UnixEpoch);
    }

    private static string ArchitectureName(Architecture architecture) => architecture switch
    {
        Architecture.X64 => "x64",
        Architecture.Arm64 => "arm64",
        Architecture.X86 => "x86",
        Architecture.Arm => "arm",
        Architecture.Armv6 => "armv6",
        Architecture.S390x => "s390x",
        Architecture.Ppc64le => "ppc64le",
        Architecture.LoongArch64 => "loongarch64",
        Architecture.RiscV64 => "riscv64",
        _ => ProcParsers.Unknown,
    };

    private static List<DiskFact> Disks(IReadOnlyList<MountEntry> mounts)
    {
        var disks = new List<DiskFact>(mounts.Count);
        foreach (var mount in mounts)
        {
            // Like df, leave out what cannot be measured or has no blocks (some FUSE filesystems).
            if (StatVfs.Query(mount.MountPoint) is { BytesTotal: > 0 } size)
            {
                disks.Add(new DiskFact(mount.MountPoint, mount.Device, mount.FsType, size.BytesTotal));
            }
        }

        return disks;
    }

    /// <summary>Addresses others could reach this server at: loopback and IPv6 link-local left out.</summary>
    private static List<string> Addresses()
    {
        var addresses = new List<string>();
        try
        {
            foreach (var nic in NetworkInterface.GetAllNetworkInterfaces())
            {
                if (nic.NetworkInterfaceType == NetworkInterfaceType.Loopback)
                {
                    continue;
                }

                foreach (var unicast in nic.GetIPProperties().UnicastAddresses)
                {
                    var address = unicast.Address;
                    if (IPAddress.IsLoopback(address)
                        || (address.AddressFamily == AddressFamily.InterNetworkV6 && address.IsIPv6LinkLocal))
                    {
                        continue;
                    }

                    var text = address.ToString();
                    if (!addresses.Contains(text))
                    {
                        addresses.Add(text);
                    }
                }
            }
        }
        catch (NetworkInformationException)
        {
            // A sandbox without netlink or /sys/class/net: report no addresses rather than fail to connect.
        }

        return addresses;
    }
}
