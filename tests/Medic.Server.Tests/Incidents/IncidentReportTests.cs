using System.Net;
using System.Net.Http.Headers;
using System.Text;
using Medic.Contracts;
using Medic.Server.Incidents;
using Medic.Server.Reports;
using Medic.Server.Tests.Infrastructure;

namespace Medic.Server.Tests.Incidents;

/// <summary>An incident's report, as JSON and as Markdown: what was seen, what was done, by whom, and how it ended.</summary>
public sealed class IncidentReportTests
{
    private static async Task<IncidentResponse> CreateAsync(HttpClient client, string json)
    {
        using var response = await client.PostAsync("/api/v1/incidents", Json.Raw(json));
        return await response.ReadAsync(MedicJson.Default.IncidentResponse, HttpStatusCode.Created);
    }

    private static async Task<IncidentReport> ReportAsync(HttpClient client, string id)
    {
        using var response = await client.GetAsync($"/api/v1/incidents/{id}/report");
        return await response.ReadAsync(MedicJson.Default.IncidentReport);
    }

    private static async Task<string> MarkdownAsync(HttpClient client, string id, string query = "?format=markdown")
    {
        using var response = await client.GetAsync($"/api/v1/incidents/{id}/report{query}");
        var body = await response.Content.ReadAsStringAsync();
        response.StatusCode.ShouldBe(HttpStatusCode.OK, body);
        response.Content.Headers.ContentType?.MediaType.ShouldBe("text/markdown");
        return body;
    }

    /// <summary>
    /// The Markdown as CommonMark reads it: the lines outside fenced code blocks, and each block's
    /// text. A fence opens with three or more backticks and closes only with at least as many.
    /// </summary>
    private static (List<string> Outside, List<string> Blocks) Parse(string markdown)
    {
        var outside = new List<string>();
        var blocks = new List<string>();
        int? open = null;
        var block = new StringBuilder();
        foreach (var line in markdown.Split('\n'))
        {
            var text = line.TrimStart(' ');
            var indent = line.Length - text.Length;
            var ticks = text.TakeWhile(c => c == '`').Count();
            if (open is null)
            {
                if (indent <= 3 && ticks >= 3 && !text[ticks..].Contains('`', StringComparison.Ordinal))
                {
                    open = ticks;
                    block.Clear();
                }
                else
                {
                    outside.Add(line);
                }
            }
            else if (indent <= 3 && ticks >= open && text[ticks..].Trim().Length == 0)
            {
                open = null;
                blocks.Add(block.ToString());
            }
            else
            {
                block.Append(line).Append('\n');
            }
        }

        open.ShouldBeNull("a code block is left open to the end of the document");
        return (outside, blocks);
    }

    [Theory]
    [MemberData(nameof(Dialects.Both), MemberType = typeof(Dialects))]
    public async Task A_resolved_manual_incident_reports_its_timeline_durations_outcome_and_audit_entries(string dialect)
    {
        await using var server = await MedicServer.StartAsync(dialect);
        var created = await CreateAsync(server.Admin, """{"title":"Checkout is slow","severity":"critical","summary":"p99 at 4 s","labels":{"team":"shop"}}""");
        (await server.Admin.PostAsync($"/api/v1/incidents/{created.Id}/comments", Json.Raw("""{"text":"cache hit rate fell at 10:02"}"""))).StatusCode.ShouldBe(HttpStatusCode.OK);
        (await server.Admin.PostAsync($"/api/v1/incidents/{created.Id}/acknowledge", Json.Raw("""{"comment":"looking"}"""))).StatusCode.ShouldBe(HttpStatusCode.OK);
        (await server.Admin.PostAsync($"/api/v1/incidents/{created.Id}/resolve", Json.Raw("""{"comment":"cache warmed"}"""))).StatusCode.ShouldBe(HttpStatusCode.OK);

        var report = await ReportAsync(server.Admin, created.Id);

        var i = report.Incident;
        i.Status.ToText().ShouldBe("resolved");
        report.Timeline.Where(e => e.Actor != "system:pipeline").Select(e => (e.Kind, e.Actor, e.Message)).ShouldBe(
        [
            ("opened", "user:admin", "p99 at 4 s"), ("comment", "user:admin", "cache hit rate fell at 10:02"), ("acknowledged", "user:admin", "looking"),
            ("resolved", "user:admin", "resolved by user:admin: cache warmed"),
        ]);
        report.Outcome.ShouldBe(new ReportOutcome("resolved", "person", "resolved by user:admin: cache warmed", "user:admin", i.ResolvedAt, true));
        var d = report.Durations;
        d.DetectedAt.ShouldBe(i.FirstSeenAt);
        d.ProblemStartedAt.ShouldBeNull();
        d.TimeToDetectSeconds.ShouldBeNull();
        d.DetectionBasis.ShouldBe("unknown: a person opened it by hand, with no start time");
        d.TimeToAcknowledgeSeconds!.Value.ShouldBe((i.AcknowledgedAt!.Value - i.FirstSeenAt).TotalSeconds, 0.002);
        d.TimeToResolveSeconds!.Value.ShouldBe((i.ResolvedAt!.Value - i.FirstSeenAt).TotalSeconds, 0.002);
        d.TimeToResolveSeconds.Value.ShouldBeGreaterThanOrEqualTo(d.TimeToAcknowledgeSeconds.Value);
        report.Remediations.ShouldBeEmpty();
        report.Evidence.ShouldBeEmpty();

        report.Audit.Select(a => a.Action).ShouldBe(["incident.create", "incident.comment", "incident.acknowledge", "incident.resolve"]);
        report.Audit.ShouldAllBe(a => a.Target == "incident:" + created.Id);
        report.AuditTruncated.ShouldBeFalse();
        using var audit = await server.Admin.GetAsync("/api/v1/audit?limit=500");
        var chain = (await audit.ReadAsync(MedicJson.Default.AuditPage)).Items.Where(e => e.Target == "incident:" + created.Id).Reverse().ToList();
        report.Audit.Select(a => (a.Seq, a.Id, a.Hash)).ShouldBe(chain.Select(e => (e.Seq, e.Id, e.Hash)), "the report's entries are the chain's own");

        var markdown = await MarkdownAsync(server.Admin, created.Id);
        markdown.ShouldStartWith("# Incident report: Checkout is slow\n");
        markdown.ShouldNotContain("Not final");
        markdown.ShouldContain("**Resolved by a person.** resolved by user:admin: cache warmed");
        markdown.ShouldContain("| Time to acknowledge | ");
        markdown.ShouldContain("| Time to detect | unknown: a person opened it by hand, with no start time |");
        markdown.ShouldContain("| comment | user:admin | cache hit rate fell at 10:02 |");
        markdown.ShouldContain("| incident.acknowledge | incident:" + created.Id.Replace("_", "\\_", StringComparison.Ordinal) + " | success |");
        markdown.ShouldContain("None was proposed.");
        markdown.ShouldContain("**Summary:** p99 at 4 s");
        Parse(markdown).Blocks.ShouldBeEmpty();
    }

    [Theory]
    [MemberData(nameof(Dialects.Both), MemberType = typeof(Dialects))]
    public async Task An_approved_remediation_that_fails_on_an_offline_server_is_reported_with_its_approval_its_failing_step_and_the_escalation(string dialect)
    {
        // No grace period for the agent to connect: the server stays offline, so the run fails at once.
        await using var server = await MedicServer.StartAsync(dialect, o => o.Pipeline.NodeGraceSeconds = 0);
        await using var site = await TinyHttpServer.StartAsync();
        // What the control-plane http step gets back: text that would break a careless Markdown document.
        const string hostile = "```\n# Injected heading\n</code></pre><script>alert(1)</script>\n[click me](http://evil.invalid)\n````` \n\u001b[31mred\u001b[0m\n| a | b |\n";
        site.Body = hostile;
        using (var token = await server.Admin.PostAsync("/api/v1/enrollment-tokens", Json.Raw("""{"tags":{"role":"web"}}""")))
        {
            var secret = (await token.ReadAsync(MedicJson.Default.EnrollmentTokenCreatedResponse, HttpStatusCode.Created)).Secret;
            using var enroll = await server.Client().PostAsync("/agent/v1/enroll", Json.Raw($$"""{"token":"{{secret}}","name":"web-1"}"""));
            enroll.StatusCode.ShouldBe(HttpStatusCode.OK); // its agent never connects: the server stays offline
        }

        using (var applied = await server.Admin.PostAsync("/api/v1/runbooks", Json.Raw($$$"""
            name: clear-cache
            version: 1
            description: Empty the page cache.
            risk: medium
            steps:
              - name: ask the cache for its state
                http: {url: '{{{site.Address}}}state', expect: {status: 200}}
              - run: [sh, -c, 'rm -rf /var/cache/pages/*']
            """, "application/yaml")))
        {
            applied.StatusCode.ShouldBe(HttpStatusCode.Created);
        }

        var olga = await server.ClientForNewUserAsync(server.Admin, "olga", Role.Operator);
        var abe = await server.ClientForNewUserAsync(server.Admin, "abe", Role.Approver);
        var incident = await CreateAsync(server.Admin, """{"title":"Page cache is stale","server":"web-1","severity":"warning"}""");
        using (var proposed = await olga.PostAsync($"/api/v1/incidents/{incident.Id}/remediations", Json.Raw("""{"runbook":"clear-cache"}""")))
        {
            (await proposed.ReadAsync(MedicJson.Default.RemediationResponse, HttpStatusCode.Created)).Status.ToText().ShouldBe("awaiting_approval");
        }

        using var pending = await abe.GetAsync($"/api/v1/approvals?incident={incident.Id}");
        var approvalId = (await pending.ReadAsync(MedicJson.Default.IReadOnlyListApprovalResponse)).ShouldHaveSingleItem().Id;
        using (var approved = await abe.PostAsync($"/api/v1/approvals/{approvalId}/approve", Json.Raw("""{"comment":"go ahead"}""")))
        {
            approved.StatusCode.ShouldBe(HttpStatusCode.OK);
        }

        var deadline = DateTime.UtcNow.AddSeconds(60);
        IncidentReport report;
        while ((report = await ReportAsync(abe, incident.Id)).Incident.Status.ToText() != "escalated")
        {
            DateTime.UtcNow.ShouldBeLessThan(deadline, $"the incident is still {report.Incident.Status}");
            await Task.Delay(100);
        }

        report.Outcome.Status.ShouldBe("escalated");
        report.Outcome.Final.ShouldBeFalse();
        report.Outcome.Actor.ShouldBe("system:pipeline");
        report.Outcome.Summary.ShouldBe("escalated: clear-cache did not fix it; a person takes over");
        var item = report.Remediations.ShouldHaveSingleItem();
        item.Remediation.Runbook.ShouldBe("clear-cache");
        item.Remediation.ProposedBy.ShouldBe("user:olga");
        item.Remediation.Gate.ShouldBe("needs_approval");
        item.Remediation.Status.ToText().ShouldBe("unreachable"); // the agent was never there: not counted by the circuit breaker
        var approval = item.Approvals.ShouldHaveSingleItem();
        (approval.Id, approval.Status, approval.RequestedBy, approval.DecidedBy, approval.Comment).ShouldBe((approvalId, "approved", "user:olga", "user:abe", "go ahead"));
        var run = item.Run.ShouldNotBeNull();
        run.Status.ToText().ShouldBe("failed");
        run.Actor.ShouldBe("user:abe");
        run.Steps.Select(s => (s.Step, s.Status.ToText())).ShouldBe([(1, "ok"), (2, "offline")]);
        run.Steps[0].Stdout.ShouldBe(hostile);
        run.Steps[1].Reason.ShouldBe("the server's agent is not connected");
        var kinds = report.Timeline.Select(e => e.Kind).ToList();
        foreach (var kind in new[] { "opened", "triaging", "recipe_proposed", "awaiting_approval", "executing", "remediation_started", "failed", "escalated" })
        {
            kinds.ShouldContain(kind);
        }

        var runTarget = "runbook_run:" + run.Id;
        report.Audit.Select(a => (a.Action, a.Target)).ShouldBe(
        [
            ("incident.create", "incident:" + incident.Id),
            ("incident.triaging", "incident:" + incident.Id),
            ("incident.recipe_proposed", "incident:" + incident.Id),
            // The approval is recorded (or an earlier one for the same request renewed) before the incident moves to wait for it.
            ("approval.request", "approval:" + approvalId),
            ("incident.awaiting_approval", "incident:" + incident.Id),
            ("approval.approve", "approval:" + approvalId),
            ("incident.executing", "incident:" + incident.Id),
            ("runbook.run", runTarget),
            ("runbook.run.finish", runTarget),
            ("incident.failed", "incident:" + incident.Id),
            ("incident.escalated", "incident:" + incident.Id),
        ]);
        report.Audit.Single(a => a.Action == "approval.approve").Actor.ShouldBe("user:abe");
        report.Audit.Single(a => a.Action == "approval.request").Actor.ShouldBe("user:olga");

        var markdown = await MarkdownAsync(abe, incident.Id);
        markdown.ShouldContain("> **Not final.** The incident is escalated");
        markdown.ShouldContain("**Escalated to a person.** escalated: clear-cache did not fix it; a person takes over (system:pipeline, ");
        markdown.ShouldContain("### Round 1: clear-cache v1, medium risk, on web-1: unreachable");
        markdown.ShouldContain($"| `{approvalId}` | approved | user:olga |");
        markdown.ShouldContain("| go ahead |");
        markdown.ShouldContain($"#### Run `{run.Id}`: failed");
        markdown.ShouldContain("on web-1: **offline**");
        markdown.ShouldContain("the server's agent is not connected");
        markdown.ShouldContain("| approval.approve | approval:");

        // The hostile output stays inside one code block: nothing of it reads as a heading, HTML, a link or a table.
        var (outside, blocks) = Parse(markdown);
        outside.ShouldNotContain(l => l.Contains("Injected heading", StringComparison.Ordinal) || l.Contains("<script>", StringComparison.Ordinal)
            || l.Contains("click me", StringComparison.Ordinal) || l.Contains("| a | b |", StringComparison.Ordinal));
        blocks.ShouldContain("```\n# Injected heading\n</code></pre><script>alert(1)</script>\n[click me](http://evil.invalid)\n````` \n\\x1b[31mred\\x1b[0m\n| a | b |\n");
        markdown.ShouldNotContain('\u001b');
    }

    [Theory]
    [MemberData(nameof(Dialects.Both), MemberType = typeof(Dialects))]
    public async Task An_open_incidents_report_says_it_is_not_final_and_bad_requests_are_refused(string dialect)
    {
        await using var server = await MedicServer.StartAsync(dialect);
        var incident = await CreateAsync(server.Admin, """{"title":"Disk full on web-1 <img src=x> | `rm` # [x](y)\nsecond line"}""");

        var report = await ReportAsync(server.Admin, incident.Id);
        report.Outcome.Status.ShouldBe("open");
        report.Outcome.Final.ShouldBeFalse();
        report.Durations.TimeToResolveSeconds.ShouldBeNull();
        report.Durations.TimeToAcknowledgeSeconds.ShouldBeNull();

        using var byHeader = new HttpRequestMessage(HttpMethod.Get, $"/api/v1/incidents/{incident.Id}/report");
        byHeader.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("text/markdown"));
        using var markdownResponse = await server.Admin.SendAsync(byHeader);
        markdownResponse.Content.Headers.ContentType?.MediaType.ShouldBe("text/markdown");
        var markdown = await markdownResponse.Content.ReadAsStringAsync();
        markdown.ShouldStartWith("# Incident report: Disk full on web-1 \\<img src=x\\> \\| \\`rm\\` \\# \\[x\\](y) second line\n");
        markdown.ShouldContain("> **Not final.**");
        markdown.ShouldContain("**Still open.**");
        markdown.ShouldContain("| Time to resolve | not resolved |");
        (await MarkdownAsync(server.Admin, incident.Id, "?format=md")).ShouldStartWith("# Incident report: ");
        using (var json = await server.Admin.GetAsync($"/api/v1/incidents/{incident.Id}/report?format=json"))
        {
            (await json.ReadAsync(MedicJson.Default.IncidentReport)).Incident.Id.ShouldBe(incident.Id);
        }

        using var pdf = await server.Admin.GetAsync($"/api/v1/incidents/{incident.Id}/report?format=pdf");
        var problem = await pdf.ShouldBeProblemAsync(HttpStatusCode.BadRequest);
        problem.Detail().ShouldContain("'pdf'");
        ((string?)problem["remedy"] ?? "").ShouldContain("format=markdown");
        using var missing = await server.Admin.GetAsync("/api/v1/incidents/inc_nope/report?format=markdown");
        await missing.ShouldBeProblemAsync(HttpStatusCode.NotFound);

        using (var tenant = await server.Admin.PostAsync("/api/v1/tenants", Json.Raw("""{"slug":"globex","admin_username":"globex-admin","admin_password":"globex-admin-password"}""")))
        {
            tenant.StatusCode.ShouldBe(HttpStatusCode.Created);
        }

        var globex = server.Client(await server.LogInAsync("globex-admin", "globex-admin-password", "globex"));
        foreach (var query in new[] { "", "?format=markdown" })
        {
            using var other = await globex.GetAsync($"/api/v1/incidents/{incident.Id}/report{query}");
            (await other.ShouldBeProblemAsync(HttpStatusCode.NotFound)).Detail().ShouldNotContain("Disk full");
        }
    }

    [Fact]
    public void Time_to_detect_counts_from_the_start_an_alert_gives_and_is_unknown_without_one_or_with_a_clock_ahead()
    {
        var opened = new DateTimeOffset(2026, 11, 21, 10, 0, 0, TimeSpan.Zero);
        static IncidentResponse Alert(string source, DateTimeOffset firstSeen, IReadOnlyDictionary<string, string>? evidence) => new(
            "inc_1", IncidentStatus.Open, "critical", source, "alert", "Disk almost full", null, null, null, source + ":x", new Dictionary<string, string>(), evidence,
            1, 1, 1, false, firstSeen, firstSeen, null, null, null, null);
        static IncidentEventResponse[] Opened(DateTimeOffset at, IReadOnlyDictionary<string, string>? data) => [new(1, at, "opened", "webhook:x", "Disk almost full", data)];

        var ninetySecondsEarlier = new Dictionary<string, string> { ["starts_at"] = "2026-11-21T09:58:30Z" };
        var alertmanager = IncidentReports.Measure(Alert("alertmanager", opened, ninetySecondsEarlier), Opened(opened, ninetySecondsEarlier));
        alertmanager.TimeToDetectSeconds.ShouldBe(90);
        alertmanager.ProblemStartedAt.ShouldBe(opened.AddSeconds(-90));
        alertmanager.DetectionBasis.ShouldBe("from the source's starts_at to when Medic opened the incident");

        var pagerDuty = new Dictionary<string, string> { ["occurred_at"] = "2026-11-21T09:59:58.5Z" };
        IncidentReports.Measure(Alert("pagerduty", opened, pagerDuty), Opened(opened, pagerDuty)).TimeToDetectSeconds.ShouldBe(1.5);

        // The evidence the incident opened with counts, not what later repeats sent.
        var later = new Dictionary<string, string> { ["starts_at"] = "2026-11-21T10:30:00Z" };
        IncidentReports.Measure(Alert("grafana", opened, later), Opened(opened, ninetySecondsEarlier)).TimeToDetectSeconds.ShouldBe(90);

        var ahead = IncidentReports.Measure(Alert("alertmanager", opened, later), Opened(opened, later));
        ahead.TimeToDetectSeconds.ShouldBeNull();
        ahead.DetectionBasis.ShouldContain("clocks disagree");

        var zero = new Dictionary<string, string> { ["starts_at"] = "0001-01-01T00:00:00Z" };
        IncidentReports.Measure(Alert("alertmanager", opened, zero), Opened(opened, zero)).TimeToDetectSeconds.ShouldBeNull();
        var agent = IncidentReports.Measure(Alert("agent", opened, ninetySecondsEarlier), Opened(opened, ninetySecondsEarlier));
        agent.TimeToDetectSeconds.ShouldBeNull("an agent's evidence names no start, whatever its keys");
        agent.DetectionBasis.ShouldStartWith("unknown: the agent's monitor");
    }

    [Theory]
    [InlineData("text/markdown", true)]
    [InlineData("text/markdown, application/json;q=0.9", true)]
    [InlineData("application/json, text/markdown;q=0.5", false)]
    [InlineData("text/html, text/markdown;q=0.8, */*;q=0.1", true)]
    [InlineData("*/*", false)]
    [InlineData("text/markdown;q=0", false)]
    [InlineData("not a media type;;;", false)]
    public void The_accept_header_picks_markdown_only_when_the_client_ranks_it_first(string accept, bool markdown) =>
        IncidentReportsApi.PrefersMarkdown([accept]).ShouldBe(markdown);

    [Fact]
    public void Outputs_are_cut_and_no_run_of_backticks_closes_their_block()
    {
        var md = new StringBuilder();
        IncidentReportMarkdown.CodeBlock(md, new string('`', 12) + "\n" + new string('x', IncidentReportMarkdown.OutputCap + 10), "see the JSON");
        var text = md.ToString();
        text.ShouldStartWith(new string('`', 13) + "text\n" + new string('`', 12) + "\n");
        text.ShouldContain("… 23 more characters cut here; see the JSON.");
        var (outside, blocks) = Parse(text);
        blocks.ShouldHaveSingleItem().Length.ShouldBe(IncidentReportMarkdown.OutputCap + 1);
        outside.ShouldNotContain(l => l.Contains('x', StringComparison.Ordinal) && !l.Contains("cut here", StringComparison.Ordinal));
        IncidentReportMarkdown.Inline("a\u202eb\u0007c\r\nd").ShouldBe("a\\u202eb\\x07c  d");
        IncidentReportMarkdown.Human(0.25).ShouldBe("250 ms");
        IncidentReportMarkdown.Human(192).ShouldBe("3 min 12 s");
        IncidentReportMarkdown.Human(7500).ShouldBe("2 h 5 min");
    }
}
