using Medic.Agent.Policy;

namespace Medic.Agent.Tests.Policy;

public sealed class BlocklistTests
{
    private static readonly AgentPolicy Defaults = new() { Exec = true };

    [Theory]
    [InlineData("rm", "-rf", "/")]
    [InlineData("rm", "-r", "-f", "/*")]
    [InlineData("/bin/rm", "--recursive", "--force", "/")]
    [InlineData("sudo", "rm", "-rf", "/")]
    [InlineData("sh", "-c", "cd /tmp && rm -rf /")]
    [InlineData("bash", "-c", "echo hi; mkfs.ext4 /dev/sdb1")]
    [InlineData("mkfs", "-t", "xfs", "/dev/vdb")]
    [InlineData("dd", "if=/dev/zero", "of=/dev/sda", "bs=1M")]
    [InlineData("sh", "-c", "dd if=/dev/urandom of=/dev/nvme0n1")]
    [InlineData("sh", "-c", ":(){ :|:& };:")]
    [InlineData("shutdown", "-h", "now")]
    [InlineData("reboot")]
    [InlineData("systemctl", "reboot")]
    [InlineData("init", "0")]
    [InlineData("env", "FOO=1", "poweroff")]
    [InlineData("sh", "-c", "sleep 1 && halt")]
    [InlineData("timeout", "-s", "KILL", "5", "mkfs.ext4", "/dev/sdb")]
    [InlineData("sudo", "-u", "root", "reboot")]
    [InlineData("nice", "-n", "10", "dd", "if=/dev/zero", "of=/dev/vda")]
    [InlineData("sh", "-c", "sudo -u root shutdown -h now")]
    public void Destructive_commands_are_refused_and_the_rule_is_named(params string[] argv)
    {
        var rule = Blocklist.Check(argv, Defaults);

        rule.ShouldNotBeNull();
        rule.ShouldStartWith("blocklist");
    }

    [Theory]
    [InlineData("rm", "-rf", "/tmp/build")]
    [InlineData("uptime")]
    [InlineData("sh", "-c", "df -h / && echo reboot-required")]
    [InlineData("dd", "if=/dev/zero", "of=/tmp/file", "bs=1M", "count=1")]
    [InlineData("systemctl", "restart", "nginx")]
    [InlineData("echo", "shutdown")]
    [InlineData("sh", "-c")]
    [InlineData("timeout", "5", "uptime")]
    public void Ordinary_commands_pass(params string[] argv) => Blocklist.Check(argv, Defaults).ShouldBeNull();

    [Fact]
    public void Reboot_passes_only_when_the_policy_grants_it()
    {
        Blocklist.Check(["reboot"], Defaults).ShouldNotBeNull();
        Blocklist.Check(["reboot"], Defaults with { Reboot = true }).ShouldBeNull();
        Blocklist.Check(["rm", "-rf", "/"], Defaults with { Reboot = true }).ShouldNotBeNull();
    }

    [Fact]
    public void The_local_policy_adds_its_own_patterns()
    {
        var policy = Defaults with { Blocklist = ["iptables -F"] };

        Blocklist.Check(["iptables", "-F"], policy).ShouldBe("blocklist (local policy): 'iptables -F'");
        Blocklist.Check(["sh", "-c", "iptables -F INPUT"], policy).ShouldNotBeNull();
        Blocklist.Check(["iptables", "-L"], policy).ShouldBeNull();
    }
}
