using Medic.Contracts;
using Medic.Server.Audit;
using Medic.Server.Fleet;
using Medic.Server.Incidents;
using Medic.Server.Storage;
using Medic.Server.Tests.Infrastructure;

namespace Medic.Server.Tests.Incidents;

/// <summary>Signals fold into one open incident per fingerprint, with occurrences, reopening and flapping.</summary>
public sealed class IncidentIngestTests
{
    private static readonly DateTimeOffset Noon = new(2026, 11, 21, 12, 0, 0, TimeSpan.Zero);

    private sealed record Fixture(TestDatabase Db, IncidentIngest Ingest, IncidentQueries Queries, IncidentFeed Feed) : IAsyncDisposable
    {
        public ValueTask DisposeAsync() => Db.DisposeAsync();

        public async Task<IncidentDetailResponse> GetAsync(string id, string tenant = "ten_1") => (await Queries.GetAsync(tenant, id, CancellationToken.None))!;

        public async Task<IngestOutcome> IngestAsync(IncidentSignal signal) => (await Ingest.IngestAsync([signal], CancellationToken.None)).Single();
    }

    private static async Task<Fixture> CreateAsync(string dialect, string dir, IncidentPolicy? policy = null)
    {
        var db = await TestDatabase.CreateAsync(dialect, dir);
        await new Migrator(db.Database).ApplyAsync();
        await db.ExecuteAsync("INSERT INTO tenants (id, slug, name, created_at) VALUES ('ten_1', 'one', 'One', @at), ('ten_2', 'two', 'Two', @at)", new { at = Noon });
        await db.ExecuteAsync("INSERT INTO nodes (id, tenant_id, name, tags, status, enrolled_at) VALUES ('nod_1', 'ten_1', 'web-1', '{}', 'online', @at), ('nod_2', 'ten_2', 'web-1', '{}', 'online', @at)", new { at = Noon });
        var feed = new IncidentFeed();
        var writes = new IncidentWrites(db.Database, new AuditLog(db.Database, TimeProvider.System), policy);
        return new Fixture(db, new IncidentIngest(db.Database, writes, feed, TimeProvider.System, policy), new IncidentQueries(db.Database), feed);
    }

    private static IncidentSignal Firing(string fingerprint, DateTimeOffset at, string? occurrence = null, string tenant = "ten_1", string? hint = null, string severity = "critical") =>
        new(tenant, IncidentSources.Alertmanager, fingerprint, "alert", severity, "DiskFull on web-1", "disk / is 97% full", null, hint,
            new Dictionary<string, string> { ["alertname"] = "DiskFull" }, new Dictionary<string, string> { ["value"] = "97" }, false, at, "webhook:alertmanager", occurrence);

    private static IncidentSignal Resolved(string fingerprint, DateTimeOffset at, string? occurrence = null, string tenant = "ten_1") =>
        Firing(fingerprint, at, occurrence, tenant) with { Resolved = true };

    [Theory]
    [MemberData(nameof(Dialects.Both), MemberType = typeof(Dialects))]
    public async Task A_grouped_alert_opens_one_incident_with_one_occurrence_per_alert(string dialect)
    {
        using var dir = new TempDirectory();
        await using var f = await CreateAsync(dialect, dir.Path);

        var outcomes = await f.Ingest.IngestAsync([Firing("grp", Noon, "a1"), Firing("grp", Noon, "a2"), Firing("grp", Noon, "a3")], CancellationToken.None);

        outcomes.Select(o => o.Action.ToText()).ShouldBe(["created", "updated", "updated"]);
        outcomes.Select(o => o.IncidentId).Distinct().Count().ShouldBe(1);
        var detail = await f.GetAsync(outcomes[0].IncidentId!);
        detail.Incident.Occurrences.ShouldBe(3);
        detail.Incident.Firing.ShouldBe(3);
        detail.Incident.Status.ToText().ShouldBe("open");
        detail.Occurrences.Select(o => o.Occurrence).Order().ShouldBe(["a1", "a2", "a3"]);
        detail.Timeline.Select(e => e.Kind).ShouldBe(["opened", "occurrence", "occurrence"]);
        (await f.Db.ScalarAsync<long>("SELECT COUNT(*) FROM audit_log WHERE action = 'incident.open' AND actor = 'webhook:alertmanager'")).ShouldBe(1);
    }

    [Theory]
    [MemberData(nameof(Dialects.Both), MemberType = typeof(Dialects))]
    public async Task A_repeat_bumps_the_count_and_last_seen_without_a_new_incident_and_a_lower_severity_does_not_lower_it(string dialect)
    {
        using var dir = new TempDirectory();
        await using var f = await CreateAsync(dialect, dir.Path);

        var first = await f.IngestAsync(Firing("fp", Noon));
        var repeat = await f.IngestAsync(Firing("fp", Noon.AddMinutes(5), severity: "warning"));

        repeat.ShouldBe(new IngestOutcome(first.IncidentId, IngestAction.Updated));
        var incident = (await f.GetAsync(first.IncidentId!)).Incident;
        incident.SignalCount.ShouldBe(2);
        incident.Occurrences.ShouldBe(1);
        incident.LastSeenAt.ShouldBe(Noon.AddMinutes(5));
        incident.FirstSeenAt.ShouldBe(Noon);
        incident.Severity.ShouldBe("critical");
        (await f.Db.ScalarAsync<long>("SELECT COUNT(*) FROM incidents")).ShouldBe(1);
    }

    [Theory]
    [MemberData(nameof(Dialects.Both), MemberType = typeof(Dialects))]
    public async Task The_incident_resolves_only_when_every_occurrence_has_resolved(string dialect)
    {
        using var dir = new TempDirectory();
        await using var f = await CreateAsync(dialect, dir.Path);
        var id = (await f.Ingest.IngestAsync([Firing("grp", Noon, "a1"), Firing("grp", Noon, "a2")], CancellationToken.None))[0].IncidentId!;

        (await f.IngestAsync(Resolved("grp", Noon.AddMinutes(1), "a1"))).Action.ToText().ShouldBe("updated");
        (await f.GetAsync(id)).Incident.Status.ToText().ShouldBe("open");
        (await f.IngestAsync(Resolved("grp", Noon.AddMinutes(2), "a2"))).Action.ToText().ShouldBe("resolved");

        var detail = await f.GetAsync(id);
        detail.Incident.Status.ToText().ShouldBe("resolved");
        detail.Incident.ResolvedAt.ShouldBe(Noon.AddMinutes(2));
        detail.Incident.Resolution.ShouldBe("resolved by alertmanager");
        detail.Incident.Firing.ShouldBe(0);
        detail.Timeline[^1].Kind.ShouldBe("resolved");
        (await f.Db.ScalarAsync<long>("SELECT COUNT(*) FROM audit_log WHERE action = 'incident.resolve'")).ShouldBe(1);
    }

    [Theory]
    [MemberData(nameof(Dialects.Both), MemberType = typeof(Dialects))]
    public async Task Simultaneous_deliveries_of_one_problem_make_one_incident_and_lose_no_count(string dialect)
    {
        using var dir = new TempDirectory();
        await using var f = await CreateAsync(dialect, dir.Path);

        var outcomes = await Task.WhenAll(Enumerable.Range(0, 16).Select(i => Task.Run(() => f.IngestAsync(Firing("same", Noon.AddSeconds(i), occurrence: "a" + (i % 4))))));

        outcomes.Count(o => o.Action == IngestAction.Created).ShouldBe(1);
        outcomes.Select(o => o.IncidentId).Distinct().Count().ShouldBe(1);
        var incident = (await f.GetAsync(outcomes[0].IncidentId!)).Incident;
        incident.SignalCount.ShouldBe(16);
        incident.Occurrences.ShouldBe(4);
    }

    [Theory]
    [MemberData(nameof(Dialects.Both), MemberType = typeof(Dialects))]
    public async Task A_resolve_for_nothing_open_is_ignored(string dialect)
    {
        using var dir = new TempDirectory();
        await using var f = await CreateAsync(dialect, dir.Path);

        (await f.IngestAsync(Resolved("never-fired", Noon))).ShouldBe(new IngestOutcome(null, IngestAction.Ignored));
        (await f.Db.ScalarAsync<long>("SELECT COUNT(*) FROM incidents")).ShouldBe(0);
    }

    [Theory]
    [MemberData(nameof(Dialects.Both), MemberType = typeof(Dialects))]
    public async Task Firing_again_soon_after_resolving_reopens_and_later_opens_a_new_incident(string dialect)
    {
        using var dir = new TempDirectory();
        await using var f = await CreateAsync(dialect, dir.Path);
        var id = (await f.IngestAsync(Firing("fp", Noon))).IncidentId;
        await f.IngestAsync(Resolved("fp", Noon.AddMinutes(1)));

        (await f.IngestAsync(Firing("fp", Noon.AddMinutes(30)))).ShouldBe(new IngestOutcome(id, IngestAction.Reopened));
        var reopened = await f.GetAsync(id!);
        reopened.Incident.Status.ToText().ShouldBe("open");
        reopened.Incident.ResolvedAt.ShouldBeNull();
        reopened.Timeline.Select(e => e.Kind).ShouldBe(["opened", "resolved", "reopened"]);

        await f.IngestAsync(Resolved("fp", Noon.AddMinutes(31)));
        var later = await f.IngestAsync(Firing("fp", Noon.AddHours(3)));
        later.Action.ToText().ShouldBe("created");
        later.IncidentId.ShouldNotBe(id);
    }

    [Theory]
    [MemberData(nameof(Dialects.Both), MemberType = typeof(Dialects))]
    public async Task Many_state_changes_in_a_short_window_mark_the_incident_flapping(string dialect)
    {
        using var dir = new TempDirectory();
        await using var f = await CreateAsync(dialect, dir.Path, new IncidentPolicy(TimeSpan.FromHours(1), 4, TimeSpan.FromMinutes(30)));
        var id = (await f.IngestAsync(Firing("fp", Noon))).IncidentId!;
        await f.IngestAsync(Resolved("fp", Noon.AddMinutes(2)));
        await f.IngestAsync(Firing("fp", Noon.AddMinutes(4)));
        (await f.GetAsync(id)).Incident.Flapping.ShouldBeFalse();

        await f.IngestAsync(Resolved("fp", Noon.AddMinutes(6)));

        var detail = await f.GetAsync(id);
        detail.Incident.Flapping.ShouldBeTrue();
        detail.Timeline.Count(e => e.Kind == "flapping").ShouldBe(1);
    }

    [Theory]
    [MemberData(nameof(Dialects.Both), MemberType = typeof(Dialects))]
    public async Task A_source_resolving_while_a_remediation_runs_is_recorded_not_applied(string dialect)
    {
        using var dir = new TempDirectory();
        await using var f = await CreateAsync(dialect, dir.Path);
        var id = (await f.IngestAsync(Firing("fp", Noon))).IncidentId!;
        await f.Db.ExecuteAsync("UPDATE incidents SET status = 'executing' WHERE id = @id", new { id });

        (await f.IngestAsync(Resolved("fp", Noon.AddMinutes(1)))).Action.ToText().ShouldBe("noted");

        var detail = await f.GetAsync(id);
        detail.Incident.Status.ToText().ShouldBe("executing");
        detail.Incident.ResolvedAt.ShouldBeNull();
        detail.Timeline[^1].Kind.ShouldBe("source_resolved");
    }

    [Theory]
    [MemberData(nameof(Dialects.Both), MemberType = typeof(Dialects))]
    public async Task A_host_label_matches_the_tenants_own_server_by_name(string dialect)
    {
        using var dir = new TempDirectory();
        await using var f = await CreateAsync(dialect, dir.Path);

        var mine = await f.IngestAsync(Firing("a", Noon, hint: "web-1:9100"));
        var theirs = await f.IngestAsync(Firing("a", Noon, tenant: "ten_2", hint: "WEB-1.example.com"));
        var nobody = await f.IngestAsync(Firing("b", Noon, hint: "db-9"));

        (await f.GetAsync(mine.IncidentId!)).Incident.ServerId.ShouldBe("nod_1");
        (await f.GetAsync(mine.IncidentId!)).Incident.Server.ShouldBe("web-1");
        (await f.GetAsync(theirs.IncidentId!, "ten_2")).Incident.ServerId.ShouldBe("nod_2");
        (await f.GetAsync(nobody.IncidentId!)).Incident.ServerId.ShouldBeNull();
        theirs.IncidentId.ShouldNotBe(mine.IncidentId);
        (await f.Queries.GetAsync("ten_2", mine.IncidentId!, CancellationToken.None)).ShouldBeNull();
    }

    [Theory]
    [MemberData(nameof(Dialects.Both), MemberType = typeof(Dialects))]
    public async Task A_batch_that_fails_half_way_leaves_nothing_behind(string dialect)
    {
        using var dir = new TempDirectory();
        await using var f = await CreateAsync(dialect, dir.Path);
        var before = await f.Db.DumpAllAsync();

        // An unknown tenant breaks the foreign key on the second signal: the first must not stay.
        await Should.ThrowAsync<Exception>(() => f.Ingest.IngestAsync([Firing("ok", Noon), Firing("bad", Noon, tenant: "ten_missing")], CancellationToken.None));

        (await f.Db.DumpAllAsync()).ShouldBe(before);
    }

    [Theory]
    [MemberData(nameof(Dialects.Both), MemberType = typeof(Dialects))]
    public async Task Changes_reach_only_the_feed_of_their_own_tenant(string dialect)
    {
        using var dir = new TempDirectory();
        await using var f = await CreateAsync(dialect, dir.Path);
        using var one = f.Feed.Subscribe("ten_1");
        using var two = f.Feed.Subscribe("ten_2");

        await f.IngestAsync(Firing("fp", Noon));
        await f.IngestAsync(Resolved("fp", Noon.AddMinutes(1)));

        one.Reader.TryRead(out var opened).ShouldBeTrue();
        opened!.Action.ShouldBe("created");
        one.Reader.TryRead(out var resolved).ShouldBeTrue();
        resolved!.Action.ShouldBe("resolved");
        resolved.Incident.Status.ToText().ShouldBe("resolved");
        two.Reader.TryRead(out _).ShouldBeFalse();
    }

    [Theory]
    [InlineData("web-1", new[] { "web-1" })]
    [InlineData("web-1:9100", new[] { "web-1:9100", "web-1" })]
    [InlineData("Web-1.Example.com:443", new[] { "web-1.example.com:443", "web-1.example.com", "web-1" })]
    [InlineData("10.0.0.5:9100", new[] { "10.0.0.5:9100", "10.0.0.5" })]
    [InlineData("[::1]:9100", new[] { "[::1]:9100", "::1" })]
    [InlineData("https://api.example.com/health", new[] { "api.example.com", "api" })]
    [InlineData("  ", new string[0])]
    public void Server_hints_are_tried_as_given_without_a_port_and_by_short_name(string hint, string[] expected) =>
        HostHints.Candidates(hint).ShouldBe(expected);
}
