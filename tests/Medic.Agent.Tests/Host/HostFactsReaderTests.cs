using Medic.Agent.Host;

namespace Medic.Agent.Tests.Host;

public sealed class HostFactsReaderTests : IDisposable
{
    private readonly HostFixture _host = new();

    public void Dispose() => _host.Dispose();

    [Fact]
    public void Facts_are_read_from_the_files_the_paths_point_at()
    {
        _host.WithProc("sys/kernel/hostname", "web-01.example.net\n")
            .WithProc("sys/kernel/osrelease", "6.1.0-18-amd64\n")
            .WithProc("meminfo", "MemTotal:        8039956 kB\nMemFree:         1234567 kB\n")
            .WithProc("stat", "cpu  10 0 10 80 0 0 0 0 0 0\nbtime 1795258112\nprocesses 31049\n")
            .WithProc("mounts", """
                proc /proc proc rw,nosuid,nodev,noexec,relatime 0 0
                /dev/sda2 / ext4 rw,relatime,errors=remount-ro 0 0
                /dev/sdz9 /medic/test/not/mounted ext4 rw,relatime 0 0
                tmpfs /run tmpfs rw,nosuid,nodev,noexec,relatime,size=809892k,mode=755,inode64 0 0
                """)
            .WithEtc("os-release", "PRETTY_NAME=\"Ubuntu 24.04.1 LTS\"\nID=ubuntu\nVERSION_ID=\"24.04\"\n")
            .WithRunDirectory("systemd/system");

        var facts = HostFactsReader.Read(_host.Paths, "1.2.3");

        facts.Hostname.ShouldBe("web-01.example.net");
        facts.Kernel.ShouldBe("6.1.0-18-amd64");
        facts.Distribution.ShouldBe("Ubuntu 24.04.1 LTS");
        facts.MemoryBytes.ShouldBe(8039956L * 1024);
        facts.BootTime.ShouldBe(DateTimeOffset.FromUnixTimeSeconds(1795258112));
        facts.ServiceManager.ShouldBe("systemd");
        facts.AgentVersion.ShouldBe("1.2.3");
        // statvfs measures the real "/"; a mount point that does not exist is left out, not an error.
        facts.Disks.Select(d => (d.Mount, d.Device, d.FsType)).ShouldBe([("/", "/dev/sda2", "ext4")]);
        facts.Disks[0].SizeBytes.ShouldBeGreaterThan(0);
    }

    [Fact]
    public void A_host_whose_files_are_all_missing_reads_as_zeros_and_unknown()
    {
        var facts = HostFactsReader.Read(_host.Paths, "1.2.3");

        facts.Distribution.ShouldBe("unknown");
        facts.Kernel.ShouldBe("unknown");
        facts.Hostname.ShouldBe(Environment.MachineName);
        facts.MemoryBytes.ShouldBe(0);
        facts.Disks.ShouldBeEmpty();
        facts.ServiceManager.ShouldBe("none");
        facts.BootTime.ShouldBe(DateTimeOffset.UnixEpoch);
    }

    [Fact]
    public void This_machine_reads_as_itself()
    {
        var facts = HostFactsReader.Read(HostPaths.Default, "1.2.3");

        facts.Cpus.ShouldBe(Environment.ProcessorCount);
        facts.MemoryBytes.ShouldBeGreaterThan(0);
        facts.Disks.ShouldContain(d => d.Mount == "/" && d.SizeBytes > 0);
        facts.BootTime.ShouldBeLessThan(DateTimeOffset.UtcNow);
        facts.BootTime.ShouldBeGreaterThan(DateTimeOffset.UnixEpoch);
        facts.Kernel.ShouldBe(File.ReadAllText("/proc/sys/kernel/osrelease").Trim());
        facts.Architecture.ShouldBeOneOf("x64", "arm64");
        facts.Hostname.ShouldNotBeNullOrWhiteSpace();
        facts.Addresses.ShouldNotContain("127.0.0.1");
        facts.Addresses.ShouldNotContain("::1");
    }
}
