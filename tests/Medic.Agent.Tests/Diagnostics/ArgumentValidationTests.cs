using Medic.Agent.Diagnostics;
using TaskStatus = Medic.Contracts.Agent.TaskStatus;

namespace Medic.Agent.Tests.Diagnostics;

public sealed class ArgumentValidationTests
{
    [Theory]
    [InlineData("nginx; rm -rf /")]
    [InlineData("nginx && id")]
    [InlineData("$(id)")]
    [InlineData("`id`")]
    [InlineData("nginx\n")]
    [InlineData("nginx service")]
    [InlineData("-H")]
    [InlineData("--host=evil")]
    [InlineData("")]
    public void A_unit_name_that_is_not_a_plain_name_is_refused(string unit)
    {
        var error = VerbHarness.Validate("service-status", ("unit", unit));

        error.ShouldNotBeNull();
        error.ShouldContain("is not a unit name");
    }

    [Theory]
    [InlineData("nginx")]
    [InlineData("nginx.service")]
    [InlineData("getty@tty1.service")]
    [InlineData("systemd-journald")]
    [InlineData("sys-devices-virtual-net-eth0.device")]
    public void Ordinary_unit_names_are_accepted(string unit) =>
        VerbHarness.Validate("journal", ("unit", unit)).ShouldBeNull();

    [Fact]
    public async Task Running_a_verb_with_an_injection_attempt_refuses_it_and_runs_nothing()
    {
        var result = await VerbHarness.Run("service-status", ("unit", "nginx; rm -rf /"));

        result.Outcome.Status.ShouldBe(TaskStatus.Refused);
        result.Outcome.Reason.ShouldBe("argument 'unit' of 'service-status': 'nginx; rm -rf /' is not a unit name (letters, digits and @ . _ : - only, not starting with -)");
        result.Chunks.ShouldBeEmpty();
    }

    [Fact]
    public void An_unknown_argument_is_refused_and_the_accepted_ones_are_named() =>
        VerbHarness.Validate("journal", ("unit", "nginx"), ("since", "yesterday"))
            .ShouldBe("'journal' does not take the argument 'since'; it takes: unit, lines");

    [Fact]
    public void An_argument_to_a_verb_that_takes_none_is_refused() =>
        VerbHarness.Validate("disk", ("all", "1")).ShouldBe("'disk' does not take the argument 'all'; it takes no arguments");

    [Fact]
    public void An_unknown_verb_is_refused_with_the_list_of_verbs()
    {
        var error = VerbHarness.Validate("rm");

        error!.ShouldStartWith("unknown diagnostic verb 'rm'; the verbs are: system, disk");
    }

    [Fact]
    public void A_missing_required_argument_is_named() =>
        VerbHarness.Validate("service-status").ShouldBe("'service-status' needs the argument 'unit': a systemd unit name, e.g. nginx.service");

    [Theory]
    [InlineData("0")]
    [InlineData("65536")]
    [InlineData("-1")]
    [InlineData("80; ls")]
    [InlineData("0x50")]
    [InlineData(" 80")]
    public void A_port_outside_1_to_65535_is_refused(string port) =>
        VerbHarness.Validate("tcp-probe", ("host", "127.0.0.1"), ("port", port))!.ShouldContain("is not a port");

    [Theory]
    [InlineData("journal", "lines", "1001")]
    [InlineData("journal", "lines", "0")]
    [InlineData("largest-dirs", "depth", "4")]
    [InlineData("largest-dirs", "top", "51")]
    [InlineData("top-cpu", "count", "ten")]
    [InlineData("tcp-probe", "timeout", "11")]
    [InlineData("tls-expiry", "timeout", "60")]
    public void Numbers_beyond_a_verbs_limits_are_refused(string verb, string name, string value)
    {
        var args = new List<(string, string)> { (name, value) };
        if (verb is "journal")
        {
            args.Add(("unit", "nginx"));
        }
        if (verb is "tcp-probe" or "tls-expiry")
        {
            args.Add(("host", "localhost"));
            args.Add(("port", "443"));
        }

        VerbHarness.Validate(verb, [.. args])!.ShouldContain("is not a whole number from");
    }

    [Theory]
    [InlineData("a b")]
    [InlineData("$(id)")]
    [InlineData("-oProxyCommand=id")]
    [InlineData("host;id")]
    [InlineData("")]
    public void A_host_that_is_neither_a_name_nor_an_address_is_refused(string host) =>
        VerbHarness.Validate("tcp-probe", ("host", host), ("port", "22"))!.ShouldContain("is not a host name or IP address");

    [Theory]
    [InlineData("localhost")]
    [InlineData("db-1.internal.example.com")]
    [InlineData("10.0.0.1")]
    [InlineData("::1")]
    [InlineData("_service.example.com")]
    public void Host_names_and_addresses_are_accepted(string host) =>
        VerbHarness.Validate("tcp-probe", ("host", host), ("port", "22")).ShouldBeNull();

    [Theory]
    [InlineData("file:///etc/passwd", "only http and https")]
    [InlineData("ftp://example.com/", "only http and https")]
    [InlineData("http://user:secret@example.com/", "credentials in the URL")]
    [InlineData("example.com", "is not an absolute URL")]
    public void Only_plain_http_and_https_urls_can_be_probed(string url, string expected) =>
        VerbHarness.Validate("http-probe", ("url", url))!.ShouldContain(expected);

    [Theory]
    [InlineData("/etc/shadow", "outside the directories file-tail may read")]
    [InlineData("/var/log/../../etc/shadow", "must not contain '.' or '..' segments")]
    [InlineData("var/log/syslog", "is not an absolute path")]
    [InlineData("/var/logs-elsewhere/x", "outside the directories file-tail may read")]
    [InlineData("/var/log", "outside the directories file-tail may read")]
    public void File_tail_refuses_paths_outside_its_allowlist_by_their_spelling(string path, string expected) =>
        VerbHarness.Validate("file-tail", ("path", path))!.ShouldContain(expected);

    [Fact]
    public void The_allowlist_comes_from_the_options()
    {
        var options = DiagnosticOptions.Default with { FileTailRoots = ["/srv/app/logs"] };

        DiagnosticVerbs.TryValidate("file-tail", new Dictionary<string, string> { ["path"] = "/srv/app/logs/app.log" }, options, out _).ShouldBeTrue();
        DiagnosticVerbs.TryValidate("file-tail", new Dictionary<string, string> { ["path"] = "/var/log/syslog" }, options, out var error).ShouldBeFalse();
        error!.ShouldContain("(/srv/app/logs)");
    }

    [Fact]
    public void Every_verb_has_a_one_line_description_and_described_parameters()
    {
        DiagnosticVerbs.All.Keys.ShouldBe(
            ["system", "disk", "largest-dirs", "disk-usage", "inode-usage", "deleted-open", "top-cpu", "top-mem", "service-status", "journal", "oom-kills",
             "file-tail", "ports", "port-holder", "stale-lock", "cert-info", "tcp-probe", "http-probe", "dns", "tls-expiry", "updates", "processes"],
            ignoreOrder: true);
        foreach (var verb in DiagnosticVerbs.All.Values)
        {
            verb.Description.ShouldNotBeNullOrWhiteSpace();
            verb.Description.ShouldNotContain('\n');
            verb.Parameters.ShouldAllBe(p => p.Description.Length > 0);
        }
    }

    [Fact]
    public void Defaults_make_optional_arguments_optional() =>
        VerbHarness.Validate("largest-dirs").ShouldBeNull();
}
