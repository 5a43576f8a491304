using Medic.Agent.Host;

namespace Medic.Agent.Tests.Host;

public sealed class ProcParsersTests
{
    private const string StatBefore = """
        cpu  236261 0 51774 311364 451 0 442 239 0 0
        cpu0 114353 0 26085 159343 103 0 169 116 0 0
        cpu1 121908 0 25688 152020 348 0 272 123 0 0
        intr 2500376 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 1 1 14 0 0 0 0 604 174 0 61 1
        ctxt 20442093
        btime 1795258112
        processes 31049
        procs_running 2
        procs_blocked 0
        softirq 1409571 0 304577 2 96312 0 0 4129 501229 0 503322
        """;

    // 1,000 ticks later: user +300 (of which 120 ran a guest), system +100, idle +550, iowait +50.
    private const string StatAfter = """
        cpu  236561 0 51874 311914 501 0 442 239 120 0
        cpu0 114503 0 26135 160618 128 0 169 116 60 0
        cpu1 122058 0 25738 152296 373 0 272 123 60 0
        intr 2510376 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 1 1 14 0 0 0 0 604 174 0 61 1
        ctxt 20452093
        btime 1795258112
        processes 31100
        procs_running 1
        procs_blocked 0
        softirq 1419571 0 304577 2 96312 0 0 4129 501229 0 503322
        """;

    private const string MemInfoText = """
        MemTotal:       24684100 kB
        MemFree:        23263628 kB
        MemAvailable:   23908320 kB
        Buffers:           12804 kB
        Cached:           982720 kB
        SwapCached:            0 kB
        Active:           447600 kB
        Inactive:         812804 kB
        SwapTotal:       2097148 kB
        SwapFree:        1048576 kB
        Dirty:             29476 kB
        HugePages_Total:       0
        HugePages_Free:        0
        Hugepagesize:       2048 kB
        """;

    private const string NetDevText = """
        Inter-|   Receive                                                |  Transmit
         face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs drop fifo colls carrier compressed
            lo: 87345582  247835    0    0    0     0          0         0 87345582  247835    0    0    0     0       0          0
          ifb0:       0       0    0    0    0     0          0         0        0       0    0    0    0     0       0          0
          eth0: 118910323    2831    0    0    0     0          0         0   152688    1834    0    0    0     0       0          0
        docker0:    5000      50    0    0    0     0          0         0     7000      70    0    0    0     0       0          0
        """;

    private const string HostMounts = """
        sysfs /sys sysfs rw,nosuid,nodev,noexec,relatime 0 0
        proc /proc proc rw,nosuid,nodev,noexec,relatime 0 0
        udev /dev devtmpfs rw,nosuid,relatime,size=4015528k,nr_inodes=1003882,mode=755,inode64 0 0
        devpts /dev/pts devpts rw,nosuid,noexec,relatime,gid=5,mode=620,ptmxmode=000 0 0
        tmpfs /run tmpfs rw,nosuid,nodev,noexec,relatime,size=809892k,mode=755,inode64 0 0
        /dev/sda2 / ext4 rw,relatime,errors=remount-ro 0 0
        securityfs /sys/kernel/security securityfs rw,nosuid,nodev,noexec,relatime 0 0
        cgroup2 /sys/fs/cgroup cgroup2 rw,nosuid,nodev,noexec,relatime,nsdelegate,memory_recursiveprot 0 0
        cgroup /sys/fs/cgroup/cpu cgroup rw,relatime,cpu 0 0
        systemd-1 /proc/sys/fs/binfmt_misc autofs rw,relatime,fd=29,pgrp=1,timeout=0,minproto=5,maxproto=5,direct 0 0
        mqueue /dev/mqueue mqueue rw,nosuid,nodev,noexec,relatime 0 0
        /dev/loop0 /snap/core20/2105 squashfs ro,nodev,relatime,errors=continue,threads=single 0 0
        /dev/sda1 /boot/efi vfat rw,relatime,fmask=0077,dmask=0077,codepage=437,iocharset=iso8859-1,shortname=mixed,errors=remount-ro 0 0
        /dev/sdb1 /srv/backup\040disk xfs rw,relatime,attr2,inode64,logbufs=8,logbsize=32k,noquota 0 0
        overlay /var/lib/docker/overlay2/3f1c0e/merged overlay rw,relatime,lowerdir=/var/lib/docker/overlay2/l/AB:/var/lib/docker/overlay2/l/CD,upperdir=/var/lib/docker/overlay2/3f1c0e/diff,workdir=/var/lib/docker/overlay2/3f1c0e/work 0 0
        nsfs /run/docker/netns/4c5d nsfs rw 0 0
        """;

    [Fact]
    public void Cpu_busy_is_the_share_of_non_idle_ticks_between_two_samples()
    {
        var before = ProcParsers.CpuSample(StatBefore);
        var after = ProcParsers.CpuSample(StatAfter);

        // 1,000 ticks elapsed, 600 of them idle or iowait; guest time is already inside user.
        after.BusyPercentSince(before).ShouldBe(40.0);
    }

    [Fact]
    public void Cpu_busy_since_boot_counts_every_tick_from_zero()
    {
        var sinceBoot = ProcParsers.CpuSample(StatBefore).BusyPercentSince(default);

        // busy = user + system + irq + softirq + steal over all eight counted fields.
        double expected = Math.Round((236261 + 51774 + 442 + 239) * 100.0 / (236261 + 51774 + 311364 + 451 + 442 + 239), 2);
        sinceBoot.ShouldBe(expected);
    }

    [Fact]
    public void An_older_kernel_with_only_four_cpu_fields_is_read()
    {
        var times = ProcParsers.CpuSample("cpu  100 0 50 850\ncpu0 100 0 50 850\n");

        times.ShouldBe(new CpuTimes(Total: 1000, Idle: 850));
    }

    [Fact]
    public void Counters_that_did_not_move_or_went_backwards_give_zero_busy_not_a_division_error()
    {
        var sample = ProcParsers.CpuSample(StatAfter);

        sample.BusyPercentSince(sample).ShouldBe(0);
        ProcParsers.CpuSample(StatBefore).BusyPercentSince(sample).ShouldBe(0);
    }

    [Fact]
    public void Boot_time_is_the_btime_line()
    {
        ProcParsers.BootTime(StatBefore).ShouldBe(1795258112);
        ProcParsers.BootTime("cpu  1 2 3 4\n").ShouldBeNull();
    }

    [Fact]
    public void Memory_used_is_total_minus_available_in_bytes()
    {
        var memory = ProcParsers.MemInfo(MemInfoText);

        memory.TotalBytes.ShouldBe(24684100L * 1024);
        memory.UsedBytes.ShouldBe((24684100L - 23908320L) * 1024);
        memory.SwapTotalBytes.ShouldBe(2097148L * 1024);
        memory.SwapUsedBytes.ShouldBe((2097148L - 1048576L) * 1024);
    }

    [Fact]
    public void Without_MemAvailable_used_memory_leaves_out_free_buffers_and_page_cache()
    {
        var oldKernel = string.Join('\n', MemInfoText.Split('\n').Where(line => !line.StartsWith("MemAvailable", StringComparison.Ordinal)));

        var memory = ProcParsers.MemInfo(oldKernel);

        memory.AvailableBytes.ShouldBeNull();
        memory.UsedBytes.ShouldBe((24684100L - 23263628L - 12804L - 982720L) * 1024);
    }

    [Fact]
    public void Odd_meminfo_lines_are_skipped()
    {
        var memory = ProcParsers.MemInfo("garbage\nMemTotal: lots kB\n: 12 kB\nMemFree:\nSwapTotal: 8 kB\n");

        memory.TotalBytes.ShouldBe(0);
        memory.SwapTotalBytes.ShouldBe(8192);
        memory.UsedBytes.ShouldBe(0);
    }

    [Fact]
    public void Load_averages_are_the_first_three_fields()
    {
        ProcParsers.LoadAvg("4.38 2.69 2.30 3/191 31049\n").ShouldBe(new LoadAverage(4.38, 2.69, 2.30));
    }

    [Fact]
    public void Uptime_is_the_first_field()
    {
        ProcParsers.Uptime("3023.91 3113.64\n").ShouldBe(3023.91);
    }

    [Fact]
    public void Network_bytes_are_summed_over_interfaces_other_than_lo()
    {
        var totals = ProcParsers.NetDev(NetDevText);

        totals.ShouldBe(new NetworkTotals(RxBytes: 118910323 + 5000, TxBytes: 152688 + 7000));
    }

    [Fact]
    public void An_old_kernel_with_no_space_after_the_interface_colon_is_read()
    {
        var totals = ProcParsers.NetDev("eth0:4294967296 10 0 0 0 0 0 0 123 4 0 0 0 0 0 0\n  lo:99 1 0 0 0 0 0 0 99 1 0 0 0 0 0 0\n");

        totals.ShouldBe(new NetworkTotals(4294967296, 123));
    }

    [Fact]
    public void Pseudo_image_and_container_runtime_filesystems_are_not_disks()
    {
        var mounts = ProcParsers.Mounts(HostMounts);

        mounts.ShouldBe(
        [
            new MountEntry("/dev/sda2", "/", "ext4"),
            new MountEntry("/dev/sda1", "/boot/efi", "vfat"),
            new MountEntry("/dev/sdb1", "/srv/backup disk", "xfs"),
        ]);
    }

    [Fact]
    public void Inside_a_container_the_overlay_root_is_kept_and_file_bind_mounts_collapse_to_one()
    {
        var mounts = ProcParsers.Mounts("""
            overlay / overlay rw,relatime,lowerdir=/var/lib/docker/overlay2/l/X,upperdir=/var/lib/docker/overlay2/a/diff,workdir=/var/lib/docker/overlay2/a/work 0 0
            proc /proc proc rw,nosuid,nodev,noexec,relatime 0 0
            tmpfs /dev tmpfs rw,nosuid,size=65536k,mode=755,inode64 0 0
            shm /dev/shm tmpfs rw,nosuid,nodev,noexec,relatime,size=65536k,inode64 0 0
            /dev/vda /etc/resolv.conf ext4 rw,relatime,discard 0 0
            /dev/vda /etc/hostname ext4 rw,relatime,discard 0 0
            /dev/vda /etc/hosts ext4 rw,relatime,discard 0 0
            """);

        mounts.ShouldBe(
        [
            new MountEntry("overlay", "/", "overlay"),
            new MountEntry("/dev/vda", "/etc/hosts", "ext4"),
        ]);
    }

    [Fact]
    public void A_mount_point_mounted_over_reports_the_filesystem_on_top()
    {
        var mounts = ProcParsers.Mounts("/dev/sdc1 /data ext4 rw 0 0\n/dev/sdd1 /data xfs rw 0 0\n");

        mounts.ShouldBe([new MountEntry("/dev/sdd1", "/data", "xfs")]);
    }

    [Fact]
    public void Truncated_mount_lines_are_skipped()
    {
        ProcParsers.Mounts("/dev/sda1\n/dev/sda1 /\n\n   \n/dev/sda2 / ext4 rw 0 0").ShouldBe([new MountEntry("/dev/sda2", "/", "ext4")]);
    }

    [Fact]
    public void Distribution_is_the_pretty_name()
    {
        ProcParsers.OsRelease("""
            PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"
            NAME="Debian GNU/Linux"
            VERSION_ID="12"
            VERSION="12 (bookworm)"
            VERSION_CODENAME=bookworm
            ID=debian
            HOME_URL="https://www.debian.org/"
            """).ShouldBe("Debian GNU/Linux 12 (bookworm)");
    }

    [Fact]
    public void Without_a_pretty_name_the_distribution_is_id_and_version()
    {
        ProcParsers.OsRelease("NAME=\"Alpine Linux\"\nID=alpine\nVERSION_ID=3.19.1\n").ShouldBe("alpine 3.19.1");
        ProcParsers.OsRelease("ID='arch'\nBUILD_ID=rolling\n").ShouldBe("arch");
    }

    [Fact]
    public void Quoted_os_release_values_have_their_escapes_resolved()
    {
        ProcParsers.OsRelease("PRETTY_NAME=\"Acme \\\"Edge\\\" Linux\"\n").ShouldBe("Acme \"Edge\" Linux");
    }

    [Fact]
    public void An_empty_or_unreadable_file_gives_zeros_and_unknown()
    {
        ProcParsers.OsRelease("").ShouldBe("unknown");
        ProcParsers.CpuSample("").ShouldBe(default);
        ProcParsers.MemInfo("").ShouldBe(default);
        ProcParsers.LoadAvg("").ShouldBe(default);
        ProcParsers.NetDev("").ShouldBe(default);
        ProcParsers.Uptime("").ShouldBe(0);
        ProcParsers.Mounts("").ShouldBeEmpty();
    }

    [Theory]
    [InlineData("4242 (postgres) S 1 4242 4242 0 -1 4194560 2613 0 0 0 11 9 0 0 20 0 1 0 899185 226619392 6833 18446744073709551615 1 1 0 0 0 0 0 4194304 0 0 0 0 17 1 0 0 0 0 0", "postgres", 899185UL, 6833L)]
    [InlineData("77 (tmux: server) S 1 77 77 0 -1 4194560 0 0 0 0 0 0 0 0 20 0 1 0 12 1000 3 0", "tmux: server", 12UL, 3L)]
    [InlineData("78 (a) b) c) R 1 1 1 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 5 1000 7 0", "a) b) c", 5UL, 7L)]
    public void A_process_stat_gives_its_name_start_and_resident_pages(string text, string name, ulong start, long rss)
    {
        ProcParsers.TryProcessStat(text, out var parsedName, out ulong startTicks, out long rssPages).ShouldBeTrue();

        (parsedName.ToString(), startTicks, rssPages).ShouldBe((name, start, rss));
    }

    [Theory]
    [InlineData("")]
    [InlineData("4242 (postgres")]
    [InlineData("4242 (postgres) S 1 4242")]
    [InlineData("4242 (postgres) S 1 4242 4242 0 -1 4194560 2613 0 0 0 11 9 0 0 20 0 1 0 later 226619392 6833")]
    public void A_truncated_or_garbled_process_stat_is_refused(string text) =>
        ProcParsers.TryProcessStat(text, out _, out _, out _).ShouldBeFalse();
}
