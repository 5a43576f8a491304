using Medic.Agent.Policy;

namespace Medic.Agent.Tests.Policy;

public sealed class AgentPolicyTests
{
    [Fact]
    public void Without_a_file_diag_and_service_are_granted_and_exec_is_not()
    {
        var policy = AgentPolicy.Load(Path.Combine(Path.GetTempPath(), "medic-no-such-policy.yaml"));

        policy.Diag.ShouldBeTrue();
        policy.Service.ShouldBeTrue();
        policy.Exec.ShouldBeFalse();
        policy.Reboot.ShouldBeFalse();
    }

    [Fact]
    public void A_policy_file_sets_capabilities_limits_and_extra_blocklist_entries()
    {
        var policy = AgentPolicy.Parse("""
            # grants for web-1
            diag: true
            service: no
            exec: yes          # the owner allows arbitrary commands
            reboot: false
            max_timeout_seconds: 120
            max_output_bytes: 65536
            blocklist:
              - "iptables -F"
              - userdel
            """, "agent-policy.yaml");

        policy.Service.ShouldBeFalse();
        policy.Exec.ShouldBeTrue();
        policy.MaxTimeoutSeconds.ShouldBe(120);
        policy.MaxOutputBytes.ShouldBe(65536);
        policy.Blocklist.ShouldBe(["iptables -F", "userdel"]);
    }

    [Fact]
    public void Lists_may_be_written_as_flow_lists_and_an_empty_one_replaces_the_defaults()
    {
        var policy = AgentPolicy.Parse("blocklist: [iptables -F, 'curl ']\nread_paths:\n", "agent-policy.yaml");

        policy.Blocklist.ShouldBe(["iptables -F", "curl "]);
        policy.ReadPaths.ShouldBeEmpty();
    }

    [Theory]
    [InlineData("exec: maybe\n", "line 1", "not true or false")]
    [InlineData("diag: true\nshell: true\n", "line 2", "unknown setting 'shell'")]
    [InlineData("max_timeout_seconds: 0\n", "line 1", "whole number")]
    [InlineData("  - rm\n", "line 1", "outside 'blocklist:'")]
    [InlineData("exec true\n", "line 1", "key: value")]
    [InlineData("exec: true\nexec: false\n", "line 2", "'exec' appears twice")]
    [InlineData("diag: true\nexec:\n", "line 2", "'exec' has no value")]
    [InlineData("blocklist: rm\n", "line 1", "'blocklist' takes a list")]
    [InlineData("read_paths:\n  - /var/log\n  - var/log\n", "line 3", "'var/log' is not an absolute path")]
    [InlineData("exec: !!bool true\n", "line 1", "the tag 'tag:yaml.org,2002:bool' is not supported")]
    [InlineData("blocklist:\n-\n", "line 2", "an empty blocklist item")]
    [InlineData("exec: true\n diag: true\n", "line 2", "unexpected indentation")]
    public void Mistakes_name_the_line(string text, string line, string message)
    {
        var ex = Should.Throw<AgentException>(() => AgentPolicy.Parse(text, "p.yaml"));

        ex.Message.ShouldContain(line);
        ex.Message.ShouldContain(message);
    }
}
