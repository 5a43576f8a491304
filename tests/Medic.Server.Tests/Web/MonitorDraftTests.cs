using Medic.Contracts;
using Medic.Contracts.Agent;
using Medic.Server.Web.Pages.Settings;

namespace Medic.Server.Tests.Web;

/// <summary>What the console's "add a monitor" and "add a routing rule" forms send to the API, and what they answer before sending.</summary>
public sealed class MonitorDraftTests
{
    [Fact]
    public void A_process_monitor_on_one_server_sends_only_the_process_fields_and_the_timing()
    {
        var draft = new MonitorDraft
        {
            Name = " shop ", Kind = MonitorKind.Process, Server = "web-1", Unit = "shop.service", Start = "/usr/bin/shop\n  --port=8080 \n\n",
            Heal = true, HealthHttp = "http://127.0.0.1:8080/health", Url = "https://ignored.example", Interval = "2s", For = "1m", Severity = MonitorSeverity.Warning,
        };

        var (request, errors) = draft.ToRequest();

        errors.ShouldBeEmpty();
        request.ShouldNotBeNull();
        (request.Name, request.Server, request.Tags).ShouldBe(("shop", "web-1", null));
        var d = request.Definition;
        (d.Name, d.Kind, d.Unit, d.IntervalSeconds, d.ForSeconds, d.Severity).ShouldBe(("shop", MonitorKind.Process, "shop.service", 2.0, 60.0, MonitorSeverity.Warning));
        d.Start.ShouldBe(["/usr/bin/shop", "--port=8080"]);
        d.Heal.ShouldNotBeNull();
        d.Health.ShouldNotBeNull().Http.ShouldBe("http://127.0.0.1:8080/health");
        d.Url.ShouldBeNull(); // typed while another kind was picked: not this kind's field
    }

    [Fact]
    public void A_monitor_by_tags_sends_the_tags_and_no_server()
    {
        var (request, errors) = new MonitorDraft { Name = "disk", Kind = MonitorKind.Disk, ByTags = true, Server = "web-1", Tags = "role=web, env=prod", Mount = "/", MaxPercent = "92.5" }.ToRequest();

        errors.ShouldBeEmpty();
        request.ShouldNotBeNull();
        request.Server.ShouldBeNull();
        request.Tags.ShouldBe(new Dictionary<string, string> { ["role"] = "web", ["env"] = "prod" });
        (request.Definition.Mount, request.Definition.MaxPercent, request.Definition.IntervalSeconds, request.Definition.ForSeconds).ShouldBe(("/", 92.5, (double?)null, 0.0));
    }

    [Fact]
    public void What_cannot_be_read_is_answered_per_field_and_nothing_is_sent()
    {
        var (request, errors) = new MonitorDraft
        {
            Name = "api", Kind = MonitorKind.Tcp, ByTags = true, Tags = "role", Host = "db", Port = "54x", Interval = "soon", For = "5m",
        }.ToRequest();

        request.ShouldBeNull();
        errors.Keys.Order(StringComparer.Ordinal).ShouldBe(["definition.interval_seconds", "definition.port", "tags"]);
        errors["definition.port"].ShouldBe(["'54x' is not a whole number"]);
        errors["definition.interval_seconds"].Single().ShouldStartWith("'soon' is not a duration; write a number with a unit");
        errors["tags"].Single().ShouldContain("'role' is not key=value");
    }

    [Fact]
    public void A_command_monitor_takes_one_argument_per_line_so_nothing_needs_quoting()
    {
        var (request, _) = new MonitorDraft { Name = "ntp", Kind = MonitorKind.Command, Server = "web-1", Command = "/usr/lib/nagios/plugins/check_ntp_time\n-H\npool ntp org" }.ToRequest();

        request.ShouldNotBeNull().Definition.Command.ShouldBe(["/usr/lib/nagios/plugins/check_ntp_time", "-H", "pool ntp org"]);
    }

    [Fact]
    public void A_routing_rule_sends_its_events_in_the_apis_order_and_its_labels()
    {
        var draft = new RuleDraft { Name = "pager", MinSeverity = "critical", Labels = "team=payments, env=prod", RenotifyEvery = "off", Server = " web-1 " };
        draft.Channels.Add("ops");
        draft.Events.Clear();
        draft.Events.AddRange(["resolved", "opened"]);

        var (request, errors) = draft.ToRequest();

        errors.ShouldBeEmpty();
        request.ShouldNotBeNull();
        (request.Name, request.MinSeverity, request.Server, request.Source, request.RenotifyEvery, request.RenotifySeverity).ShouldBe(("pager", "critical", "web-1", null, "off", "critical"));
        request.Channels.ShouldBe(["ops"]);
        request.Events.ShouldBe(["opened", "resolved"]);
        request.Labels.ShouldBe(new Dictionary<string, string> { ["team"] = "payments", ["env"] = "prod" });
    }

    [Theory]
    [InlineData("team", "labels", "'team' is not key=value")]
    [InlineData("", "events", "tick at least one event")]
    public void A_rule_that_cannot_be_read_or_would_send_nothing_is_answered_before_sending(string labels, string field, string expected)
    {
        var draft = new RuleDraft { Name = "x", Labels = labels };
        draft.Channels.Add("ops");
        if (field == "events") draft.Events.Clear();

        var (request, errors) = draft.ToRequest();

        request.ShouldBeNull();
        errors[field].Single().ShouldContain(expected);
    }
}
