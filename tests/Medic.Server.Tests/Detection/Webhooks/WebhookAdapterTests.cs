using System.Text;
using Medic.Server.Detection.Webhooks;
using Medic.Server.Incidents;

namespace Medic.Server.Tests.Detection.Webhooks;

/// <summary>Each sender's real payloads, normalized into incident signals; and what is refused, with the field named.</summary>
public sealed class WebhookAdapterTests
{
    private static readonly WebhookContext Context = new("ten_test", new DateTimeOffset(2026, 11, 21, 13, 30, 0, TimeSpan.Zero));

    private static IReadOnlyList<IncidentSignal> Parse(string source, string payload)
    {
        var parsed = WebhookAdapters.BySource[source].Parse(Payloads.Bytes(payload), Context);
        parsed.Problem.ShouldBeNull();
        return parsed.Signals;
    }

    private static string Refusal(string source, string body)
    {
        var parsed = WebhookAdapters.BySource[source].Parse(Encoding.UTF8.GetBytes(body), Context);
        parsed.Ok.ShouldBeFalse($"{source} accepted: {body}");
        parsed.Signals.ShouldBeEmpty();
        return parsed.Problem!;
    }

    [Fact]
    public void An_Alertmanager_group_firing_on_two_hosts_is_one_fingerprint_per_alert_each_keeping_the_group_key()
    {
        var signals = Parse("alertmanager", "alertmanager-firing.json");

        signals.Count.ShouldBe(2);
        signals.Select(s => s.Fingerprint).ShouldBe(["alertmanager:5d6e1d0e8b3c2a41", "alertmanager:a1f09c3b7e224d60"]);
        signals.ShouldAllBe(s => s.Occurrence == null && s.GroupKey == "{}:{alertname=\"HighDiskUsage\"}");
        signals.Select(s => s.ServerHint).ShouldBe(["web-1", "db-1"]);
        signals.ShouldAllBe(s => !s.Resolved && s.Severity == "critical" && s.Source == "alertmanager" && s.Actor == "webhook:alertmanager" && s.TenantId == "ten_test");
        signals[0].Title.ShouldBe("HighDiskUsage: Disk almost full");
        signals[0].Summary.ShouldBe("Filesystem / on web-1:9100 is 93.4% full.");
        signals[0].Labels["mountpoint"].ShouldBe("/");
        signals[0].Evidence!["starts_at"].ShouldStartWith("2026-11-21T12:58:13.512");
        signals[0].Evidence!.ContainsKey("ends_at").ShouldBeFalse(); // the zero time 0001-01-01 means "still firing"
        signals[0].Evidence!["generator_url"].ShouldContain("&g0.tab=1");
        signals[0].Evidence!["annotations.runbook_url"].ShouldBe("https://runbooks.example.com/disk-full");
    }

    [Fact]
    public void The_matching_Alertmanager_resolved_payload_resolves_the_same_occurrences()
    {
        var firing = Parse("alertmanager", "alertmanager-firing.json");
        var resolved = Parse("alertmanager", "alertmanager-resolved.json");

        resolved.ShouldAllBe(s => s.Resolved);
        resolved.Select(s => (s.Fingerprint, s.Occurrence)).ShouldBe(firing.Select(s => (s.Fingerprint, s.Occurrence)));
        resolved[1].Evidence!["ends_at"].ShouldStartWith("2026-11-21T13:21:28.007");
    }

    [Fact]
    public void A_truncated_mixed_Alertmanager_group_keeps_each_alerts_own_status_and_records_the_truncation()
    {
        var signals = Parse("alertmanager", "alertmanager-truncated.json");

        signals.Select(s => s.Resolved).ShouldBe([false, true]);
        signals.ShouldAllBe(s => s.Evidence!["group_truncated_alerts"] == "5" && s.Severity == "critical");
        signals.Select(s => s.ServerHint).ShouldBe(["api-3", "api-1"]);
    }

    [Fact]
    public void Grafana_alerts_carry_their_values_and_links_and_resolve_by_their_fingerprint()
    {
        var firing = Parse("grafana", "grafana-firing.json");
        var resolved = Parse("grafana", "grafana-resolved.json");

        var alert = firing.ShouldHaveSingleItem();
        alert.Resolved.ShouldBeFalse();
        alert.Fingerprint.ShouldBe("grafana:e3a6c1fd0b7259a4");
        alert.GroupKey.ShouldNotBeNullOrEmpty();
        alert.Severity.ShouldBe("warning");
        alert.ServerHint.ShouldBe("web-1");
        alert.Title.ShouldBe("High CPU: High CPU on web-1");
        alert.Evidence!["values"].ShouldBe("A=93.71, B=1");
        alert.Evidence!["panel_url"].ShouldEndWith("viewPanel=3");
        resolved.ShouldHaveSingleItem().Resolved.ShouldBeTrue();
        (resolved[0].Fingerprint, resolved[0].Occurrence).ShouldBe((alert.Fingerprint, alert.Occurrence));
    }

    [Fact]
    public void Datadogs_default_payload_triggers_and_recovers_one_fingerprint_from_the_title()
    {
        var triggered = Parse("datadog", "datadog-default-triggered.json").ShouldHaveSingleItem();
        var recovered = Parse("datadog", "datadog-default-recovered.json").ShouldHaveSingleItem();

        triggered.Resolved.ShouldBeFalse();
        recovered.Resolved.ShouldBeTrue();
        recovered.Fingerprint.ShouldBe(triggered.Fingerprint);
        triggered.Title.ShouldBe("Disk almost full");
        triggered.ServerHint.ShouldBe("web-1");
        triggered.Severity.ShouldBe("critical");
        triggered.Summary.ShouldStartWith("@webhook-medic Disk usage on web-1");
        triggered.Summary.ShouldNotContain("%%%");
        triggered.Evidence!["date"].ShouldStartWith("2025-11-21T13:00:00");
        triggered.Evidence!["org_name"].ShouldBe("Example Corp");
    }

    [Fact]
    public void Datadogs_suggested_payload_is_one_problem_per_monitor_and_scope_keeps_the_aggregation_key_and_reads_priority_host_and_tags()
    {
        var triggered = Parse("datadog", "datadog-suggested-triggered.json").ShouldHaveSingleItem();
        var recovered = Parse("datadog", "datadog-suggested-recovered.json").ShouldHaveSingleItem();

        triggered.Fingerprint.ShouldBe("datadog:monitor:98765433|host:db-1,env:prod");
        triggered.GroupKey.ShouldBe("2f6e5b3c0d3a4e1f9a8b7c6d5e4f3a2b");
        recovered.Fingerprint.ShouldBe(triggered.Fingerprint);
        recovered.Resolved.ShouldBeTrue();
        triggered.Title.ShouldBe("Replication lag high");
        triggered.ServerHint.ShouldBe("db-1");
        triggered.Labels["priority"].ShouldBe("P2");
        triggered.Labels["role"].ShouldBe("postgres");
        triggered.Labels["monitor_id"].ShouldBe("98765433");
    }

    [Theory]
    [InlineData("[Warn on {host:web-2}] Disk filling", "warning", false)]
    [InlineData("[Re-Triggered on {host:web-2}] Disk filling", "critical", false)]
    [InlineData("[No Data on {host:web-2}] Disk filling", "warning", false)]
    [InlineData("[P4] [Triggered] Disk filling", "info", false)]
    [InlineData("[P1] [Recovered on {host:web-2}] Disk filling", "critical", true)]
    public void Datadog_transitions_in_the_title_decide_status_and_severity(string title, string severity, bool resolved)
    {
        var parsed = WebhookAdapters.BySource["datadog"].Parse(Encoding.UTF8.GetBytes($$"""{"title":"{{title}}","id":"1","date":"1763730000000"}"""), Context);

        parsed.Problem.ShouldBeNull();
        var signal = parsed.Signals.ShouldHaveSingleItem();
        (signal.Severity, signal.Resolved, signal.Title).ShouldBe((severity, resolved, "Disk filling"));
    }

    [Fact]
    public void PagerDuty_incidents_trigger_and_resolve_by_incident_id_and_other_events_change_nothing()
    {
        var triggered = Parse("pagerduty", "pagerduty-triggered.json").ShouldHaveSingleItem();
        var resolved = Parse("pagerduty", "pagerduty-resolved.json").ShouldHaveSingleItem();

        triggered.Fingerprint.ShouldBe("pagerduty:Q2K3OSN1XRLJ8F");
        triggered.Title.ShouldBe("Checkout latency above 2 s on web-1");
        triggered.Severity.ShouldBe("critical");
        triggered.Labels["service"].ShouldBe("API Service");
        triggered.Evidence!["html_url"].ShouldBe("https://example.pagerduty.com/incidents/Q2K3OSN1XRLJ8F");
        (resolved.Fingerprint, resolved.Resolved).ShouldBe((triggered.Fingerprint, true));
        Parse("pagerduty", "pagerduty-acknowledged.json").ShouldBeEmpty();
        Parse("pagerduty", "pagerduty-ping.json").ShouldBeEmpty();
    }

    [Fact]
    public void The_generic_format_names_its_server_and_keeps_labels_and_evidence()
    {
        var firing = Parse("generic", "generic-firing.json").ShouldHaveSingleItem();
        var resolved = Parse("generic", "generic-resolved.json").ShouldHaveSingleItem();

        firing.Fingerprint.ShouldBe("generic:backup-age-db-1");
        (firing.ServerHint, firing.Severity, firing.Resolved).ShouldBe(("db-1", "warning", false));
        firing.Labels["check"].ShouldBe("backup-age");
        firing.Evidence!["age_hours"].ShouldBe("31");
        (resolved.Fingerprint, resolved.Resolved).ShouldBe((firing.Fingerprint, true));
    }

    [Theory]
    [InlineData("alertmanager", """{"version":"1","alerts":[]}""", "Grafana")]
    [InlineData("alertmanager", """{"alerts":[]}""", "version is missing")]
    [InlineData("alertmanager", """{"version":"4","alerts":[{"status":"pending","labels":{"a":"b"}}]}""", "alerts[0].status 'pending'")]
    [InlineData("alertmanager", """{"version":"4","alerts":[{"status":"firing","labels":{"instance":9100}}]}""", "alerts[0].labels.instance must be a string, not a number")]
    [InlineData("alertmanager", """{"version":"4","alerts":[{"status":"firing"}]}""", "neither a fingerprint nor labels")]
    [InlineData("alertmanager", """{"version":"4","alerts":[{"status":"firing","fingerprint":"x","startsAt":"yesterday"}]}""", "alerts[0].startsAt 'yesterday' is not an RFC 3339 time")]
    [InlineData("alertmanager", """{"version":"4","alerts":{}}""", "alerts must be an array, not a object")]
    [InlineData("grafana", """{"ruleName":"cpu","state":"alerting","evalMatches":[]}""", "legacy Grafana alerting")]
    [InlineData("grafana", """{"state":"pending","alerts":[]}""", "state 'pending'")]
    [InlineData("datadog", """{"title":"Disk almost full"}""", "triggered or recovered")]
    [InlineData("datadog", """{"title":"[Triggered] Disk","date":"yesterday"}""", "date 'yesterday' is not epoch milliseconds")]
    [InlineData("datadog", """{"title":"[Triggered] Disk","alert_transition":"Exploded"}""", "alert_transition 'Exploded'")]
    [InlineData("pagerduty", """{"event":{"event_type":"incident.triggered"}}""", "event.data is missing")]
    [InlineData("pagerduty", """{"event":{"event_type":"incident.triggered","data":{"id":7}}}""", "event.data.id must be a string")]
    [InlineData("pagerduty", """{"messages":[]}""", "event is missing")]
    [InlineData("generic", """{"alerts":[{"fingerprint":"a","status":"firing","title":"t","sevrity":"critical"}]}""", "alerts[0].sevrity is not a field")]
    [InlineData("generic", """{"alerts":[{"fingerprint":"a","status":"firing","title":"t","severity":"urgent"}]}""", "severity 'urgent'")]
    [InlineData("generic", """{"alerts":[{"status":"firing","title":"t"}]}""", "alerts[0].fingerprint is missing")]
    [InlineData("generic", """{"alert":{"fingerprint":"a"}}""", "alert is not a field")]
    public void A_payload_the_sender_would_not_send_is_refused_with_the_field_named(string source, string body, string named)
    {
        Refusal(source, body).ShouldContain(named);
    }

    [Theory]
    [InlineData("")]
    [InlineData("not json")]
    [InlineData("[1,2]")]
    [InlineData("""{"version":"4","alerts":[{"status":"fir""")]
    [InlineData("\"a string\"")]
    public void Empty_non_JSON_and_truncated_bodies_are_refused_by_every_adapter(string body)
    {
        foreach (var source in WebhookAdapters.Sources)
        {
            Refusal(source, body).ShouldNotBeNullOrWhiteSpace();
        }
    }

    [Fact]
    public void One_bad_alert_refuses_the_whole_delivery_so_nothing_is_half_written()
    {
        var good = """{"status":"firing","labels":{"alertname":"A","instance":"x:1"},"fingerprint":"f1"}""";
        Refusal("alertmanager", $$"""{"version":"4","alerts":[{{good}},{{good}},{"status":"firing","labels":[]}]}""").ShouldContain("alerts[2].labels");
    }

    [Fact]
    public void Text_fields_lose_NUL_and_control_characters_unpaired_surrogates_are_refused_and_lengths_are_capped()
    {
        var title = new string('x', 500);
        var body = """{"alerts":[{"fingerprint":"a\u0000b","status":"firing","title":"ok\u007f\u0001","summary":"line\nnext","labels":{"k":"v\u0000"}}]}""";
        var signal = WebhookAdapters.BySource["generic"].Parse(Encoding.UTF8.GetBytes(body), Context).Signals.ShouldHaveSingleItem();

        signal.Fingerprint.ShouldBe("generic:a\uFFFDb");
        signal.Title.ShouldBe("ok\uFFFD\uFFFD");
        signal.Summary.ShouldBe("line\nnext");
        signal.Labels["k"].ShouldBe("v\uFFFD");
        WebhookText.Clean(title, 300).Length.ShouldBe(300);
        WebhookText.Clean(title, 300).ShouldEndWith("…");
        Refusal("generic", """{"alerts":[{"fingerprint":"a","status":"firing","title":"ok\ud800\u0041"}]}""").ShouldContain("not valid UTF-16");
        Refusal("generic", """{"alerts":[{"fingerprint":"a","status":"firing","title":"ok\udc00"}]}""").ShouldContain("not valid UTF-16");
        WebhookText.Clean("a\ud800b", 10).ShouldBe("a\uFFFDb");
    }

    [Theory]
    [InlineData("web-1:9100", "web-1")]
    [InlineData("web-1", "web-1")]
    [InlineData("10.0.0.5:9100", "10.0.0.5")]
    [InlineData("[2001:db8::1]:9100", "2001:db8::1")]
    [InlineData("2001:db8::1", "2001:db8::1")]
    [InlineData("host:port", "host:port")]
    [InlineData(" web-1.example.com:443 ", "web-1.example.com")]
    public void Server_hints_drop_the_port(string instance, string host)
    {
        WebhookText.StripPort(instance).ShouldBe(host);
    }
}
