using Medic.Contracts;
using Medic.Contracts.Agent;
using Medic.Server.Audit;
using Medic.Server.Incidents;
using Medic.Server.Pipeline;
using Medic.Server.Storage;
using Medic.Server.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;

namespace Medic.Server.Tests.Incidents;

/// <summary>An agent's monitor events become incidents of its server: opened, updated with what the ladder did, resolved "healed locally".</summary>
public sealed class AgentSignalsTests
{
    private static readonly DateTimeOffset Noon = new(2026, 11, 21, 12, 0, 0, TimeSpan.Zero);

    private static AgentEvent Event(string kind, DateTimeOffset at, string message, params (string Key, string Value)[] extra)
    {
        var data = new Dictionary<string, string>
        {
            ["fingerprint"] = "monitor:myapp", ["monitor"] = "myapp", ["monitor_kind"] = "process", ["type"] = "service_down", ["severity"] = "critical",
            ["title"] = "myapp is down", ["label.team"] = "shop", ["evidence.exit_status"] = "killed by signal 9",
        };
        foreach (var (key, value) in extra) data[key] = value;
        return new AgentEvent("evt_" + Guid.NewGuid().ToString("N"), at, kind, message, data);
    }

    [Fact]
    public void Only_incident_events_with_a_fingerprint_become_signals()
    {
        AgentSignals.From("ten_1", "nod_1", new AgentEvent("e1", Noon, "events.dropped", "3 dropped", null)).ShouldBeNull();
        AgentSignals.From("ten_1", "nod_1", new AgentEvent("e2", Noon, AgentSignals.Opened, "x", new Dictionary<string, string> { ["title"] = "no fingerprint" })).ShouldBeNull();

        var signal = AgentSignals.From("ten_1", "nod_1", Event(AgentSignals.Opened, Noon, "myapp is down"))!;

        signal.Fingerprint.ShouldBe("agent:nod_1:monitor:myapp");
        signal.ServerId.ShouldBe("nod_1");
        signal.Source.ShouldBe("agent");
        signal.Type.ShouldBe("service_down");
        signal.Severity.ShouldBe("critical");
        signal.Labels.ShouldBe(new Dictionary<string, string> { ["team"] = "shop", ["monitor"] = "myapp", ["monitor_kind"] = "process" }, ignoreOrder: true);
        signal.Evidence!["exit_status"].ShouldBe("killed by signal 9");
        signal.Actor.ShouldBe("agent:nod_1");
        signal.Resolved.ShouldBeFalse();
    }

    [Theory]
    [MemberData(nameof(Dialects.Both), MemberType = typeof(Dialects))]
    public async Task A_local_heal_is_an_incident_opened_and_resolved_healed_locally_with_its_evidence(string dialect)
    {
        using var dir = new TempDirectory();
        await using var db = await TestDatabase.CreateAsync(dialect, dir.Path);
        await new Migrator(db.Database).ApplyAsync();
        await db.ExecuteAsync("INSERT INTO tenants (id, slug, name, created_at) VALUES ('ten_1', 'one', 'One', @at)", new { at = Noon });
        await db.ExecuteAsync("INSERT INTO nodes (id, tenant_id, name, tags, status, enrolled_at) VALUES ('nod_1', 'ten_1', 'web-1', '{}', 'online', @at)", new { at = Noon });
        var store = new IncidentIngest(db.Database, new IncidentWrites(db.Database, new AuditLog(db.Database, TimeProvider.System)), new IncidentFeed(), TimeProvider.System);
        var queries = new IncidentQueries(db.Database);

        var events = new[]
        {
            Event(AgentSignals.Opened, Noon, "myapp is down"),
            Event(AgentSignals.Updated, Noon.AddSeconds(1), "restarted myapp (1 of 3)", ("evidence.restarts", "1")),
            Event(AgentSignals.Resolved, Noon.AddSeconds(2), "myapp is healthy again", ("evidence.resolution", "healed_locally"), ("evidence.restart_history", "12:00:01 restart ok")),
        };
        var outcomes = new List<IngestOutcome>();
        foreach (var ev in events) outcomes.AddRange(await store.IngestAsync([AgentSignals.From("ten_1", "nod_1", ev)!], CancellationToken.None));

        outcomes.Select(o => o.Action.ToText()).ShouldBe(["created", "updated", "resolved"]);
        var detail = (await queries.GetAsync("ten_1", outcomes[0].IncidentId!, CancellationToken.None))!;
        detail.Incident.Status.ToText().ShouldBe("resolved");
        detail.Incident.Resolution.ShouldBe("healed locally (agent)");
        detail.Incident.Server.ShouldBe("web-1");
        detail.Timeline.Select(e => e.Kind).ShouldBe(["opened", "update", "resolved"]);
        detail.Timeline[1].Message.ShouldBe("restarted myapp (1 of 3)");
        detail.Timeline[2].Data!["restart_history"].ShouldBe("12:00:01 restart ok");
    }

    [Theory]
    [MemberData(nameof(Dialects.Both), MemberType = typeof(Dialects))]
    public async Task When_the_agents_ladder_gives_up_the_open_incident_enters_the_pipeline_in_a_new_round(string dialect)
    {
        using var dir = new TempDirectory();
        await using var db = await TestDatabase.CreateAsync(dialect, dir.Path);
        await new Migrator(db.Database).ApplyAsync();
        await db.ExecuteAsync("INSERT INTO tenants (id, slug, name, created_at) VALUES ('ten_1', 'one', 'One', @at)", new { at = Noon });
        await db.ExecuteAsync("INSERT INTO nodes (id, tenant_id, name, tags, status, enrolled_at) VALUES ('nod_1', 'ten_1', 'web-1', '{}', 'online', @at)", new { at = Noon });
        var entry = new PipelineEntry(new JobQueue(db.Database, TimeProvider.System), new JobSignal());
        var store = new IncidentIngest(db.Database, new IncidentWrites(db.Database, new AuditLog(db.Database, TimeProvider.System), pipeline: entry), new IncidentFeed(), TimeProvider.System, pipeline: entry);
        var queries = new IncidentQueries(db.Database);

        var opened = (await store.IngestAsync([AgentSignals.From("ten_1", "nod_1", Event(AgentSignals.Opened, Noon, "myapp is down", ("evidence.ladder", "healing")))!], CancellationToken.None)).Single();
        AgentSignals.LadderHealing((await queries.GetAsync("ten_1", opened.IncidentId!, CancellationToken.None))!.Incident).ShouldBeTrue();
        await store.IngestAsync([AgentSignals.From("ten_1", "nod_1", Event(AgentSignals.Updated, Noon.AddSeconds(1), "restarted myapp (1 of 3)", ("evidence.restarts", "1")))!], CancellationToken.None);
        await store.IngestAsync([AgentSignals.From("ten_1", "nod_1", Event(AgentSignals.Updated, Noon.AddSeconds(5), "myapp: gave up restarting it", ("evidence.ladder", "gave_up")))!], CancellationToken.None);

        var keys = await db.QueryAsync<string>("SELECT idempotency_key FROM jobs WHERE kind = 'pipeline.triage' ORDER BY idempotency_key");
        keys.ShouldBe([$"pipeline:{opened.IncidentId}:1:triage", $"pipeline:{opened.IncidentId}:2:triage"], "opened: round 1 (whose triage waits for the ladder); gave up: round 2");
        var incident = (await queries.GetAsync("ten_1", opened.IncidentId!, CancellationToken.None))!.Incident;
        AgentSignals.LadderHealing(incident).ShouldBeFalse();
        incident.Status.ToText().ShouldBe("open");
    }

    [Theory]
    [MemberData(nameof(Dialects.Both), MemberType = typeof(Dialects))]
    public async Task An_incident_escalated_after_the_ladder_gave_up_resolves_when_a_later_retry_heals_it(string dialect)
    {
        using var dir = new TempDirectory();
        await using var db = await TestDatabase.CreateAsync(dialect, dir.Path);
        await new Migrator(db.Database).ApplyAsync();
        await db.ExecuteAsync("INSERT INTO tenants (id, slug, name, created_at) VALUES ('ten_1', 'one', 'One', @at)", new { at = Noon });
        await db.ExecuteAsync("INSERT INTO nodes (id, tenant_id, name, tags, status, enrolled_at) VALUES ('nod_1', 'ten_1', 'web-1', '{}', 'online', @at)", new { at = Noon });
        var writes = new IncidentWrites(db.Database, new AuditLog(db.Database, TimeProvider.System));
        var store = new IncidentIngest(db.Database, writes, new IncidentFeed(), TimeProvider.System);
        var queries = new IncidentQueries(db.Database);

        var opened = (await store.IngestAsync([AgentSignals.From("ten_1", "nod_1", Event(AgentSignals.Opened, Noon, "myapp is down", ("evidence.ladder", "healing")))!], CancellationToken.None)).Single();
        await store.IngestAsync([AgentSignals.From("ten_1", "nod_1", Event(AgentSignals.Updated, Noon.AddSeconds(20), "myapp: gave up restarting it", ("evidence.ladder", "gave_up")))!], CancellationToken.None);
        await using (var c = await db.Database.OpenAsync())
        {
            await using var tx = await c.BeginTransactionAsync();
            var row = (await writes.LockAsync(c, tx, "ten_1", opened.IncidentId!))!;
            (await writes.MoveAsync(c, tx, row, IncidentTrigger.Escalate, "system", "no recipe applies", null, Noon.AddSeconds(30))).ShouldBeNull();
            await tx.CommitAsync();
        }

        (await queries.GetAsync("ten_1", opened.IncidentId!, CancellationToken.None))!.Incident.Status.ToText().ShouldBe("escalated");

        var healed = await store.IngestAsync([AgentSignals.From("ten_1", "nod_1", Event(AgentSignals.Resolved, Noon.AddMinutes(7), "myapp healed locally on a retry after giving up (/etc/myapp.conf changed)",
            ("evidence.resolution", "healed_locally"), ("evidence.retry", "/etc/myapp.conf changed"), ("evidence.changed_files", "/etc/myapp.conf")))!], CancellationToken.None);

        healed.Single().Action.ToText().ShouldBe("resolved");
        var detail = (await queries.GetAsync("ten_1", opened.IncidentId!, CancellationToken.None))!;
        detail.Incident.Status.ToText().ShouldBe("resolved");
        detail.Incident.Resolution.ShouldBe("healed locally (agent)");
        detail.Timeline[^1].Data!["changed_files"].ShouldBe("/etc/myapp.conf");
    }
}
