using System.Data.Common;
using System.Text.Json;
using Dapper;
using Medic.Contracts;
using Medic.Server.Audit;
using Medic.Server.Common;
using Medic.Server.Fleet;
using Medic.Server.Silences;
using Medic.Server.Storage;

namespace Medic.Server.Incidents;

/// <summary>How repeats and flapping are judged.</summary>
/// <param name="ReopenWindow">A problem that fires again this soon after its incident resolved reopens that incident instead of opening a new one.</param>
/// <param name="FlapChanges">This many open/resolve changes within <paramref name="FlapWindow"/> mark the incident flapping (notifications are damped).</param>
public sealed record IncidentPolicy(TimeSpan ReopenWindow, int FlapChanges, TimeSpan FlapWindow)
{
    public static readonly IncidentPolicy Default = new(TimeSpan.FromHours(1), 4, TimeSpan.FromMinutes(30));
}

internal sealed class IncidentRow
{
    public string Id { get; set; } = "";
    public string TenantId { get; set; } = "";
    public string? ServerId { get; set; }
    public string? ServerName { get; set; }
    public string Source { get; set; } = "";
    public string Type { get; set; } = "";
    public string Severity { get; set; } = "";
    /// <summary>The stored text of <see cref="StatusValue"/>, for Dapper: unknown text fails the read.</summary>
    public string Status { get => StatusValue.ToText(); set => StatusValue = StateText.Parse<IncidentStatus>(value); }

    public IncidentStatus StatusValue { get; set; }
    public string Fingerprint { get; set; } = "";
    public string Title { get; set; } = "";
    public string? Summary { get; set; }
    public string Labels { get; set; } = "{}";
    public string? Evidence { get; set; }
    public int SignalCount { get; set; }
    public int Occurrences { get; set; }
    public int Firing { get; set; }
    public bool Flapping { get; set; }
    public DateTimeOffset FlapWindowStart { get; set; }
    public int FlapChanges { get; set; }
    public DateTimeOffset FirstSeenAt { get; set; }
    public DateTimeOffset LastSeenAt { get; set; }
    public string? AcknowledgedBy { get; set; }
    public DateTimeOffset? AcknowledgedAt { get; set; }
    public DateTimeOffset? ResolvedAt { get; set; }
    public string? Resolution { get; set; }
    public DateTimeOffset UpdatedAt { get; set; }
    public int PipelineRound { get; set; }
    public string? GroupKey { get; set; }


    public IncidentResponse ToResponse() => new(
        Id, StatusValue, Severity, Source, Type, Title, Summary, ServerId, ServerName, Fingerprint,
        IncidentJson.Map(Labels) ?? new Dictionary<string, string>(), IncidentJson.Map(Evidence),
        Occurrences, Firing, SignalCount, Flapping, FirstSeenAt, LastSeenAt, AcknowledgedBy, AcknowledgedAt, ResolvedAt, Resolution, GroupKey);
}

internal sealed class OccurrenceRow
{
    public string Occurrence { get; set; } = "";
    public bool Firing { get; set; }
    public int SignalCount { get; set; }
    public DateTimeOffset FirstSeenAt { get; set; }
    public DateTimeOffset LastSeenAt { get; set; }
}

internal sealed class NodeRef
{
    public string Id { get; set; } = "";
    public string Name { get; set; } = "";
}

internal sealed class EventRow
{
    public long Seq { get; set; }
    public DateTimeOffset At { get; set; }
    public string Kind { get; set; } = "";
    public string Actor { get; set; } = "";
    public string Message { get; set; } = "";
    public string? Data { get; set; }
}

public sealed record IncidentQuery(
    string? Status = null,
    string? Severity = null,
    string? Server = null,
    string? Source = null,
    DateTimeOffset? Since = null,
    string? Before = null,
    int Limit = 50);

/// <summary>
/// The incident record: folds detection signals into one open incident per fingerprint, keeps
/// each incident's occurrences and timeline, and writes an audit entry for every change of state
/// (opened, reopened, resolved, acknowledged) in the same transaction as the change.
/// </summary>
public sealed class IncidentStore(
    Database db, AuditLog audit, IncidentFeed feed, TimeProvider time, IncidentPolicy? policy = null, IPipelineEntry? pipeline = null, IIncidentChanges? changes = null,
    IServerDirectory? servers = null, ISilences? silences = null) : IIncidentIngest
{
    private readonly IncidentPolicy _policy = policy ?? IncidentPolicy.Default;
    private readonly IServerDirectory _servers = servers ?? new Fleet.NodeServerDirectory();

    /// <summary>How long a delivery id is remembered: far longer than any sender retries a delivery.</summary>
    internal static readonly TimeSpan DeliveryMemory = TimeSpan.FromDays(7);

    private const string Columns =
        "i.id, i.tenant_id, i.server_id, n.name AS server_name, i.source, i.type, i.severity, i.status, i.fingerprint, i.title, i.summary, i.labels, i.evidence, " +
        "i.signal_count, i.flapping, i.flap_window_start, i.flap_changes, i.first_seen_at, i.last_seen_at, i.acknowledged_by, i.acknowledged_at, i.resolved_at, i.resolution, i.updated_at, i.pipeline_round, i.group_key, " +
        "(SELECT COUNT(*) FROM incident_occurrences o WHERE o.incident_id = i.id) AS occurrences, " +
        "(SELECT COUNT(*) FROM incident_occurrences o WHERE o.incident_id = i.id AND o.firing = @firing) AS firing";

    private const string From = " FROM incidents i LEFT JOIN nodes n ON n.id = i.server_id AND n.tenant_id = i.tenant_id";

    public async Task<IReadOnlyList<IngestOutcome>> IngestAsync(IReadOnlyList<IncidentSignal> signals, CancellationToken ct)
    {
        if (signals.Count == 0) return [];
        var changed = new List<(string Action, IncidentRow Row)>();
        var outcomes = await db.WriteAsync(async (c, tx) =>
        {
            changed.Clear();
            var servers = new Dictionary<string, ServerMatch?>(StringComparer.Ordinal);
            var list = new List<IngestOutcome>(signals.Count);
            foreach (var signal in signals)
            {
                var (outcome, row) = await FoldAsync(c, tx, signal, servers);
                list.Add(outcome);
                if (row is not null)
                {
                    // A silenced signal is recorded but notifies nobody; a released one is told as what it was held at.
                    changed.Add((outcome.NotifyAs ?? outcome.Action.ToText(), row));
                    if (outcome.SilencedBy is null) await ChangedAsync(c, tx, outcome.NotifyAs ?? outcome.Action.ToText(), row);
                }
            }

            return list;
        }, ct);
        foreach (var (action, row) in changed) feed.Publish(row.TenantId, new IncidentFeedMessage(action, row.ToResponse()));
        if (changed.Any(ch => ch.Action is "created" or "reopened") || signals.Any(AgentSignals.LadderGaveUp)) pipeline?.Committed();
        return outcomes;
    }

    private async Task<(IngestOutcome, IncidentRow?)> FoldAsync(DbConnection c, DbTransaction tx, IncidentSignal s, Dictionary<string, ServerMatch?> servers)
    {
        if (s.DeliveryId is not null && !await FirstDeliveryAsync(c, tx, s))
        {
            return (new IngestOutcome(null, IngestAction.Duplicate), null);
        }

        var occurrence = string.IsNullOrEmpty(s.Occurrence) ? s.Fingerprint : s.Occurrence;
        if (db.Dialect.Kind == SqlDialectKind.Postgres)
        {
            // Signals for one fingerprint fold one at a time, across connections and replicas: without
            // this two first deliveries would both insert (one failing on the unique index) and two
            // repeats would both write back a count read before the other's. SQLite has one writer.
            await c.ExecuteAsync("SELECT pg_advisory_xact_lock(hashtextextended(@key, 7243002))", new { key = s.TenantId + "\n" + s.Fingerprint }, tx);
        }

        var open = await c.QuerySingleOrDefaultAsync<IncidentRow>(
            "SELECT " + Columns + From + " WHERE i.tenant_id = @TenantId AND i.fingerprint = @Fingerprint AND i.resolved_at IS NULL" + RowLock,
            new { s.TenantId, s.Fingerprint, firing = true }, tx);
        var silence = silences is null ? null : await silences.MatchAsync(c, tx, s.TenantId, s.Labels, time.GetUtcNow());

        if (s.Resolved)
        {
            if (open is null) return (new IngestOutcome(null, IngestAction.Ignored), null);
            var affected = await c.ExecuteAsync(
                "UPDATE incident_occurrences SET firing = @no, signal_count = signal_count + 1, last_seen_at = @At WHERE incident_id = @Id AND occurrence = @occurrence AND firing = @yes",
                new { no = false, yes = true, s.At, open.Id, occurrence }, tx);
            open.SignalCount++;
            open.LastSeenAt = Max(open.LastSeenAt, s.At);
            if (affected > 0) open.Firing--;
            if (open.Firing > 0)
            {
                await SaveCountersAsync(c, tx, open);
                await AddEventAsync(c, tx, open, s.At, "occurrence_resolved", s.Actor, $"{occurrence} resolved; {open.Firing} of {open.Occurrences} still firing", null);
                return (new IngestOutcome(open.Id, IngestAction.Updated), open);
            }

            if (IncidentStatuses.RemediationRunning(open.StatusValue))
            {
                await SaveCountersAsync(c, tx, open);
                await AddEventAsync(c, tx, open, s.At, "source_resolved", s.Actor, $"{s.Source} reports the problem resolved while a remediation runs; the remediation's verification decides", null);
                return (new IngestOutcome(open.Id, IngestAction.Noted), open);
            }

            await ResolveAsync(c, tx, open, s.At, s.Actor, ResolutionOf(s), s.Evidence);
            // People never told of a held incident are not told it ended either.
            var held = silences is null ? null : await silences.ReleaseAsync(c, tx, open.Id);
            if (silence is not null) await SilencedAsync(c, tx, open, s, silence, false);
            return (new IngestOutcome(open.Id, IngestAction.Resolved, silence?.Id ?? held?.SilenceId), open);
        }

        if (open is not null)
        {
            var fresh = await MarkFiringAsync(c, tx, open.Id, occurrence, s.At);
            open.SignalCount++;
            open.LastSeenAt = Max(open.LastSeenAt, s.At);
            var severity = Severities.WhileOpen(open.Severity, s.Severity);
            var severityChanged = open.Severity != severity;
            open.Severity = severity;
            open.Title = s.Title;
            open.Summary = s.Summary ?? open.Summary;
            if (s.Evidence is not null) open.Evidence = IncidentJson.Write(s.Evidence);
            if (fresh)
            {
                open.Occurrences = await CountAsync(c, tx, open.Id, null);
                open.Firing = await CountAsync(c, tx, open.Id, true);
            }

            await c.ExecuteAsync(
                "UPDATE incidents SET signal_count = @SignalCount, last_seen_at = @LastSeenAt, severity = @Severity, title = @Title, summary = @Summary, evidence = @Evidence, updated_at = @LastSeenAt WHERE id = @Id",
                open, tx);
            if (fresh) await AddEventAsync(c, tx, open, s.At, "occurrence", s.Actor, $"{occurrence} firing ({open.Firing} of {open.Occurrences})", null);
            if (s.Note is not null) await AddEventAsync(c, tx, open, s.At, "update", s.Actor, s.Note, s.Evidence);
            if (severityChanged) await AddEventAsync(c, tx, open, s.At, "severity", s.Actor, "severity rose to " + severity, null);

            if (silence is not null)
            {
                await SilencedAsync(c, tx, open, s, silence, !fresh);
                return (new IngestOutcome(open.Id, IngestAction.Updated, silence.Id), open);
            }

            if (silences is not null && await silences.ReleaseAsync(c, tx, open.Id) is { } released)
            {
                // Opened under a silence that no longer matches: the pipeline and the people hear of it now.
                await AddEventAsync(c, tx, open, s.At, "unsilenced", "system", $"no silence matches it any more (it was held by {released.SilenceId})", null);
                await EnterPipelineAsync(c, tx, open, "its silence ended");
                return (new IngestOutcome(open.Id, IngestAction.Updated, NotifyAs: released.Action), open);
            }

            // The agent stopped restarting it locally: a new round hands it to the pipeline (whose triage waited for this).
            if (AgentSignals.LadderGaveUp(s) && open.StatusValue == IncidentStatus.Open) await EnterPipelineAsync(c, tx, open, "the agent gave up restarting it");
            return (new IngestOutcome(open.Id, IngestAction.Updated), open);
        }

        var recent = await c.QueryFirstOrDefaultAsync<IncidentRow>(
            "SELECT " + Columns + From + " WHERE i.tenant_id = @TenantId AND i.fingerprint = @Fingerprint AND i.resolved_at >= @after ORDER BY i.resolved_at DESC",
            new { s.TenantId, s.Fingerprint, after = s.At - _policy.ReopenWindow, firing = true }, tx);
        if (recent is not null)
        {
            await MarkFiringAsync(c, tx, recent.Id, occurrence, s.At);
            recent.StatusValue = IncidentStatus.Open;
            recent.ResolvedAt = null;
            recent.Resolution = null;
            recent.SignalCount++;
            recent.LastSeenAt = Max(recent.LastSeenAt, s.At);
            recent.Severity = s.Severity;
            recent.Title = s.Title;
            recent.Summary = s.Summary ?? recent.Summary;
            if (s.Evidence is not null) recent.Evidence = IncidentJson.Write(s.Evidence);
            var flappingBefore = recent.Flapping;
            CountStateChange(recent, s.At);
            recent.Occurrences = await CountAsync(c, tx, recent.Id, null);
            recent.Firing = await CountAsync(c, tx, recent.Id, true);
            await c.ExecuteAsync(
                "UPDATE incidents SET status = @Status, resolved_at = NULL, resolution = NULL, signal_count = @SignalCount, last_seen_at = @LastSeenAt, severity = @Severity, " +
                "title = @Title, summary = @Summary, evidence = @Evidence, flapping = @Flapping, flap_window_start = @FlapWindowStart, flap_changes = @FlapChanges, updated_at = @LastSeenAt WHERE id = @Id",
                recent, tx);
            await AddEventAsync(c, tx, recent, s.At, "reopened", s.Actor, $"fired again within {Durations.Format(_policy.ReopenWindow)} of being resolved", s.Evidence);
            if (recent.Flapping && !flappingBefore) await AddEventAsync(c, tx, recent, s.At, "flapping", "system", FlappingMessage, null);
            await AuditAsync(c, tx, recent, s.Actor, "incident.reopen", null);
            if (silence is not null)
            {
                await silences!.HoldAsync(c, tx, recent.TenantId, recent.Id, silence.Id, "reopened");
                await SilencedAsync(c, tx, recent, s, silence, false);
                return (new IngestOutcome(recent.Id, IngestAction.Reopened, silence.Id), recent);
            }

            if (silences is not null) await silences.ReleaseAsync(c, tx, recent.Id);
            await EnterPipelineAsync(c, tx, recent, "reopened");
            return (new IngestOutcome(recent.Id, IngestAction.Reopened), recent);
        }

        var server = await ServerAsync(c, tx, s, servers);
        var row = new IncidentRow
        {
            Id = Ids.New("inc"), TenantId = s.TenantId, ServerId = server?.Id, ServerName = server?.Name, GroupKey = s.GroupKey, Source = s.Source, Type = s.Type, Severity = s.Severity,
            StatusValue = IncidentStatus.Open, Fingerprint = s.Fingerprint, Title = s.Title, Summary = s.Summary, Labels = IncidentJson.Write(s.Labels) ?? "{}",
            Evidence = IncidentJson.Write(s.Evidence), SignalCount = 1, Occurrences = 1, Firing = 1, FlapWindowStart = s.At, FlapChanges = 1,
            FirstSeenAt = s.At, LastSeenAt = s.At, UpdatedAt = s.At,
        };
        await c.ExecuteAsync(
            "INSERT INTO incidents (id, tenant_id, server_id, source, type, severity, status, fingerprint, title, summary, labels, evidence, signal_count, flapping, flap_window_start, flap_changes, first_seen_at, last_seen_at, updated_at, group_key) " +
            "VALUES (@Id, @TenantId, @ServerId, @Source, @Type, @Severity, @Status, @Fingerprint, @Title, @Summary, @Labels, @Evidence, @SignalCount, @Flapping, @FlapWindowStart, @FlapChanges, @FirstSeenAt, @LastSeenAt, @UpdatedAt, @GroupKey)",
            row, tx);
        await MarkFiringAsync(c, tx, row.Id, occurrence, s.At);
        await AddEventAsync(c, tx, row, s.At, "opened", s.Actor, s.Summary ?? s.Title, s.Evidence);
        await AuditAsync(c, tx, row, s.Actor, "incident.open", null);
        if (silence is not null)
        {
            await silences!.HoldAsync(c, tx, row.TenantId, row.Id, silence.Id, "created");
            await SilencedAsync(c, tx, row, s, silence, false);
            return (new IngestOutcome(row.Id, IngestAction.Created, silence.Id), row);
        }

        await EnterPipelineAsync(c, tx, row, "opened");
        return (new IngestOutcome(row.Id, IngestAction.Created), row);
    }

    /// <summary>The timeline says which silence held the signal back; a repeat under the same silence is said once.</summary>
    private static async Task SilencedAsync(DbConnection c, DbTransaction tx, IncidentRow row, IncidentSignal s, SilenceMatch silence, bool repeat)
    {
        var message = $"silenced by {silence.Id} until {AuditChain.FormatTime(silence.EndsAt)} ({silence.CreatedBy}: {silence.Comment}): no pipeline, no notification";
        if (repeat && await c.ExecuteScalarAsync<long>(
                "SELECT COUNT(*) FROM incident_events WHERE incident_id = @Id AND kind = 'silenced' AND message = @message", new { row.Id, message = Truncate(message, 4000) }, tx) > 0)
        {
            return;
        }

        await AddEventAsync(c, tx, row, s.At, "silenced", s.Actor, message, new Dictionary<string, string> { ["silence"] = silence.Id });
    }

    /// <summary>What the source says ended it ("healed locally" from the agent's ladder), else who said so.</summary>
    private static string ResolutionOf(IncidentSignal s) =>
        s.Evidence?.GetValueOrDefault("resolution") is { Length: > 0 } how ? $"{how.Replace('_', ' ')} ({s.Source})" : $"resolved by {s.Source}";

    private const string FlappingMessage = "flapping: notifications are damped until it settles";

    /// <summary>Counts an open/resolve change toward flapping, within a sliding window started by the first change.</summary>
    internal void CountStateChange(IncidentRow row, DateTimeOffset at)
    {
        if (at - row.FlapWindowStart > _policy.FlapWindow)
        {
            row.FlapWindowStart = at;
            row.FlapChanges = 1;
        }
        else
        {
            row.FlapChanges++;
        }

        row.Flapping = row.FlapChanges >= _policy.FlapChanges;
    }

    private static DateTimeOffset Max(DateTimeOffset a, DateTimeOffset b) => a > b ? a : b;

    /// <summary>Marks the occurrence firing; true when it was new or had resolved.</summary>
    private static async Task<bool> MarkFiringAsync(DbConnection c, DbTransaction tx, string incidentId, string occurrence, DateTimeOffset at)
    {
        var existing = await c.QuerySingleOrDefaultAsync<OccurrenceRow>(
            "SELECT occurrence, firing, signal_count, first_seen_at, last_seen_at FROM incident_occurrences WHERE incident_id = @incidentId AND occurrence = @occurrence",
            new { incidentId, occurrence }, tx);
        if (existing is null)
        {
            await c.ExecuteAsync(
                "INSERT INTO incident_occurrences (incident_id, occurrence, firing, signal_count, first_seen_at, last_seen_at) VALUES (@incidentId, @occurrence, @yes, 1, @at, @at)",
                new { incidentId, occurrence, yes = true, at }, tx);
            return true;
        }

        await c.ExecuteAsync(
            "UPDATE incident_occurrences SET firing = @yes, signal_count = signal_count + 1, last_seen_at = @at WHERE incident_id = @incidentId AND occurrence = @occurrence",
            new { incidentId, occurrence, yes = true, at }, tx);
        return !existing.Firing;
    }

    private static Task<int> CountAsync(DbConnection c, DbTransaction tx, string incidentId, bool? firing) => firing is null
        ? c.ExecuteScalarAsync<int>("SELECT COUNT(*) FROM incident_occurrences WHERE incident_id = @incidentId", new { incidentId }, tx)
        : c.ExecuteScalarAsync<int>("SELECT COUNT(*) FROM incident_occurrences WHERE incident_id = @incidentId AND firing = @firing", new { incidentId, firing }, tx);

    private static Task SaveCountersAsync(DbConnection c, DbTransaction tx, IncidentRow row) =>
        c.ExecuteAsync("UPDATE incidents SET signal_count = @SignalCount, last_seen_at = @LastSeenAt, updated_at = @LastSeenAt WHERE id = @Id", row, tx);

    private async Task ResolveAsync(DbConnection c, DbTransaction tx, IncidentRow row, DateTimeOffset at, string actor, string resolution, IReadOnlyDictionary<string, string>? evidence)
    {
        var flappingBefore = row.Flapping;
        row.StatusValue = IncidentStatus.Resolved;
        row.ResolvedAt = at;
        row.Resolution = resolution;
        CountStateChange(row, at);
        await c.ExecuteAsync(
            "UPDATE incident_occurrences SET firing = @no WHERE incident_id = @Id", new { no = false, row.Id }, tx);
        row.Firing = 0;
        await c.ExecuteAsync(
            "UPDATE incidents SET status = @Status, resolved_at = @ResolvedAt, resolution = @Resolution, signal_count = @SignalCount, last_seen_at = @LastSeenAt, " +
            "flapping = @Flapping, flap_window_start = @FlapWindowStart, flap_changes = @FlapChanges, updated_at = @ResolvedAt WHERE id = @Id",
            row, tx);
        await AddEventAsync(c, tx, row, at, "resolved", actor, resolution, evidence);
        if (row.Flapping && !flappingBefore) await AddEventAsync(c, tx, row, at, "flapping", "system", FlappingMessage, null);
        await AuditAsync(c, tx, row, actor, "incident.resolve", new Dictionary<string, string> { ["resolution"] = resolution });
    }

    /// <summary>
    /// The server the signal is about: the agent's own node, else the first node whose name, host name
    /// or address (from its facts) matches a name the signal gives (<see cref="ServerNames.Of"/>).
    /// </summary>
    private async Task<ServerMatch?> ServerAsync(DbConnection c, DbTransaction tx, IncidentSignal s, Dictionary<string, ServerMatch?> cache)
    {
        var names = s.ServerId is null ? ServerNames.Of(s) : [];
        var key = s.ServerId is not null ? "id:" + s.ServerId : "names:" + string.Join('\n', names);
        if (cache.TryGetValue(key, out var known)) return known;
        ServerMatch? found = null;
        if (s.ServerId is not null)
        {
            var name = await c.QuerySingleOrDefaultAsync<string>(
                "SELECT name FROM nodes WHERE tenant_id = @TenantId AND id = @ServerId AND removed_at IS NULL", new { s.TenantId, s.ServerId }, tx);
            found = name is null ? null : new ServerMatch(s.ServerId, name);
        }
        else if (names.Count > 0)
        {
            found = await _servers.FindAsync(c, tx, s.TenantId, names);
        }

        cache[key] = found;
        return found;
    }

    /// <summary>Records the signal's delivery id; false when it was recorded before (a redelivery).</summary>
    private async Task<bool> FirstDeliveryAsync(DbConnection c, DbTransaction tx, IncidentSignal s)
    {
        await c.ExecuteAsync("DELETE FROM incident_deliveries WHERE received_at < @before", new { before = s.At - DeliveryMemory }, tx);
        var inserted = await c.ExecuteAsync(
            "INSERT INTO incident_deliveries (tenant_id, source, delivery_id, received_at) VALUES (@TenantId, @Source, @DeliveryId, @At) ON CONFLICT DO NOTHING",
            new { s.TenantId, s.Source, DeliveryId = Truncate(s.DeliveryId!, 200), s.At }, tx);
        return inserted > 0;
    }

    private static Task AddEventAsync(DbConnection c, DbTransaction tx, IncidentRow row, DateTimeOffset at, string kind, string actor, string message, IReadOnlyDictionary<string, string>? data) =>
        c.ExecuteAsync(
            "INSERT INTO incident_events (incident_id, tenant_id, at, kind, actor, message, data) VALUES (@id, @tenant, @at, @kind, @actor, @message, @data)",
            new { id = row.Id, tenant = row.TenantId, at, kind, actor, message = Truncate(message, 4000), data = IncidentJson.Write(data) }, tx);

    private static string Truncate(string text, int max) => Texts.Truncate(text, max);

    private Task AuditAsync(DbConnection c, DbTransaction tx, IncidentRow row, string actor, string action, Dictionary<string, string>? details, string? clientAddress = null)
    {
        details ??= [];
        details["fingerprint"] = row.Fingerprint;
        details["severity"] = row.Severity;
        details["title"] = Truncate(row.Title, 200);
        return audit.AppendAsync(c, tx, new AuditRecord(row.TenantId, actor, action, "incident:" + row.Id, AuditOutcomes.Success, clientAddress, details));
    }

    /// <summary>A person's incident: always new (its own fingerprint), audited with the caller's address.</summary>
    public async Task<IncidentResponse> CreateManualAsync(string tenantId, string actor, string? clientAddress, CreateIncidentRequest request, string? serverId, CancellationToken ct)
    {
        var at = time.GetUtcNow();
        var id = Ids.New("inc");
        var row = new IncidentRow
        {
            Id = id, TenantId = tenantId, ServerId = serverId, Source = IncidentSources.Manual, Type = request.Type ?? "manual",
            Severity = Severities.Normalize(request.Severity ?? Severities.Warning), StatusValue = IncidentStatus.Open, Fingerprint = "manual:" + id,
            Title = request.Title, Summary = request.Summary, Labels = IncidentJson.Write(request.Labels) ?? "{}", SignalCount = 1, Occurrences = 1, Firing = 1,
            FlapWindowStart = at, FlapChanges = 1, FirstSeenAt = at, LastSeenAt = at, UpdatedAt = at,
        };
        await db.WriteAsync(async (c, tx) =>
        {
            await c.ExecuteAsync(
                "INSERT INTO incidents (id, tenant_id, server_id, source, type, severity, status, fingerprint, title, summary, labels, evidence, signal_count, flapping, flap_window_start, flap_changes, first_seen_at, last_seen_at, updated_at) " +
                "VALUES (@Id, @TenantId, @ServerId, @Source, @Type, @Severity, @Status, @Fingerprint, @Title, @Summary, @Labels, @Evidence, @SignalCount, @Flapping, @FlapWindowStart, @FlapChanges, @FirstSeenAt, @LastSeenAt, @UpdatedAt)",
                row, tx);
            await MarkFiringAsync(c, tx, row.Id, row.Fingerprint, at);
            await AddEventAsync(c, tx, row, at, "opened", actor, request.Summary ?? request.Title, null);
            await AuditAsync(c, tx, row, actor, "incident.create", null, clientAddress);
            await EnterPipelineAsync(c, tx, row, "opened");
            await ChangedAsync(c, tx, "created", row);
        }, ct);
        var created = (await GetRowAsync(tenantId, id, ct))!;
        feed.Publish(tenantId, new IncidentFeedMessage("created", created.ToResponse()));
        pipeline?.Committed();
        return created.ToResponse();
    }

    /// <summary>A person takes it: recorded once; acknowledging again changes nothing. Null when no such incident.</summary>
    public async Task<IncidentResponse?> AcknowledgeAsync(string tenantId, string id, string actor, string? clientAddress, string? comment, CancellationToken ct)
    {
        var at = time.GetUtcNow();
        var row = await db.WriteAsync(async (c, tx) =>
        {
            var r = await LockAsync(c, tx, tenantId, id);
            if (r is null || r.AcknowledgedAt is not null) return r;
            r.AcknowledgedBy = actor;
            r.AcknowledgedAt = at;
            await c.ExecuteAsync("UPDATE incidents SET acknowledged_by = @AcknowledgedBy, acknowledged_at = @AcknowledgedAt, updated_at = @AcknowledgedAt WHERE id = @Id", r, tx);
            await AddEventAsync(c, tx, r, at, "acknowledged", actor, comment ?? "acknowledged", null);
            await AuditAsync(c, tx, r, actor, "incident.acknowledge", comment is null ? null : new() { ["comment"] = comment }, clientAddress);
            await ChangedAsync(c, tx, "acknowledged", r);
            return r;
        }, ct);
        if (row is not null) feed.Publish(tenantId, new IncidentFeedMessage("acknowledged", row.ToResponse()));
        return row?.ToResponse();
    }

    /// <summary>
    /// A person's comment, on the timeline and in the audit log. Null when no such incident. Only the
    /// comment of someone who may operate (<paramref name="mayOperate"/>) sends an escalated incident
    /// through the pipeline again: a viewer's or approver's word is recorded and changes nothing else.
    /// </summary>
    public async Task<IncidentResponse?> CommentAsync(string tenantId, string id, string actor, string? clientAddress, string text, bool mayOperate, CancellationToken ct)
    {
        var at = time.GetUtcNow();
        var row = await db.WriteAsync(async (c, tx) =>
        {
            var r = await LockAsync(c, tx, tenantId, id);
            if (r is null) return null;
            await AddEventAsync(c, tx, r, at, "comment", actor, text, null);
            await AuditAsync(c, tx, r, actor, "incident.comment", new() { ["comment"] = Truncate(text, 500) }, clientAddress);
            if (r.StatusValue == IncidentStatus.Escalated && pipeline is not null && mayOperate)
            {
                // A person's word on an escalated incident sends it through the pipeline again, with the comment as context.
                await MoveAsync(c, tx, r, IncidentTrigger.Comment, actor, "re-entered the pipeline after a comment", new Dictionary<string, string> { ["comment"] = Truncate(text, 2000) }, at);
                await EnterPipelineAsync(c, tx, r, "comment");
            }

            return r;
        }, ct);
        if (row is not null)
        {
            feed.Publish(tenantId, new IncidentFeedMessage("commented", row.ToResponse()));
            pipeline?.Committed();
        }

        return row?.ToResponse();
    }

    /// <summary>A person closes it. Null when no such incident; an already resolved one is returned unchanged.</summary>
    public async Task<IncidentResponse?> ResolveManuallyAsync(string tenantId, string id, string actor, string? clientAddress, string? comment, CancellationToken ct)
    {
        var at = time.GetUtcNow();
        var row = await db.WriteAsync(async (c, tx) =>
        {
            var r = await LockAsync(c, tx, tenantId, id);
            if (r is null || r.ResolvedAt is not null) return r;
            await ResolveAsync(c, tx, r, at, actor, comment is null ? "resolved by " + actor : $"resolved by {actor}: {comment}", null);
            await ChangedAsync(c, tx, "resolved", r);
            return r;
        }, ct);
        if (row is not null) feed.Publish(tenantId, new IncidentFeedMessage("resolved", row.ToResponse()));
        return row?.ToResponse();
    }

    /// <summary>Starts a new round of the pipeline for the incident (opened, reopened, commented on while escalated).</summary>
    private async Task EnterPipelineAsync(DbConnection c, DbTransaction tx, IncidentRow row, string why)
    {
        if (pipeline is null) return;
        row.PipelineRound++;
        await c.ExecuteAsync("UPDATE incidents SET pipeline_round = @PipelineRound WHERE id = @Id", row, tx);
        await pipeline.EnterAsync(c, tx, row.TenantId, row.Id, row.PipelineRound, why);
    }

    /// <summary>
    /// Moves the incident by <paramref name="trigger"/> inside the caller's transaction (the pipeline's
    /// own step), with a timeline event and an audit entry naming <paramref name="actor"/>. Returns the
    /// incident after the move, or the refusal when the trigger does not apply in its status now; null
    /// when there is no such incident. The caller publishes the change after commit (<see cref="Publish"/>).
    /// </summary>
    public async Task<(IncidentResponse? Incident, string? Refusal)> TransitionAsync(DbConnection c, DbTransaction tx, string tenantId, string id, IncidentTrigger trigger,
        string actor, string message, IReadOnlyDictionary<string, string>? data, int? round = null)
    {
        var row = await LockAsync(c, tx, tenantId, id);
        if (row is null) return (null, "no such incident");
        if (round is not null && row.PipelineRound != round) return (row.ToResponse(), $"the incident moved on to pipeline round {row.PipelineRound}");
        var refusal = await MoveAsync(c, tx, row, trigger, actor, message, data, time.GetUtcNow());
        return (row.ToResponse(), refusal);
    }

    /// <summary>Starts a new pipeline round without queueing triage (a person's proposal is that round's triage); returns its number.</summary>
    public async Task<int> NextRoundAsync(DbConnection c, DbTransaction tx, string tenantId, string id)
    {
        await c.ExecuteAsync("UPDATE incidents SET pipeline_round = pipeline_round + 1 WHERE tenant_id = @tenantId AND id = @id", new { tenantId, id }, tx);
        return await c.ExecuteScalarAsync<int>("SELECT pipeline_round FROM incidents WHERE tenant_id = @tenantId AND id = @id", new { tenantId, id }, tx);
    }

    /// <summary>The incident as the pipeline sees it inside its transaction (locked on PostgreSQL).</summary>
    public async Task<(IncidentResponse Incident, int Round)?> LockForPipelineAsync(DbConnection c, DbTransaction tx, string tenantId, string id) =>
        await LockAsync(c, tx, tenantId, id) is { } row ? (row.ToResponse(), row.PipelineRound) : null;

    /// <summary>Adds a timeline event in the caller's transaction (the pipeline's notes: "no recipe applies", a run's output).</summary>
    public Task NoteAsync(DbConnection c, DbTransaction tx, string tenantId, string id, string kind, string actor, string message, IReadOnlyDictionary<string, string>? data) =>
        c.ExecuteAsync(
            "INSERT INTO incident_events (incident_id, tenant_id, at, kind, actor, message, data) VALUES (@id, @tenantId, @at, @kind, @actor, @message, @data)",
            new { id, tenantId, at = time.GetUtcNow(), kind, actor, message = Truncate(message, 4000), data = IncidentJson.Write(data) }, tx);

    /// <summary>Sends a change the pipeline committed to live watchers and the notifier ("updated": an escalation is notified).</summary>
    public void Publish(string tenantId, string action, IncidentResponse incident) => feed.Publish(tenantId, new IncidentFeedMessage(action, incident));

    private async Task<string?> MoveAsync(DbConnection c, DbTransaction tx, IncidentRow row, IncidentTrigger trigger, string actor, string message, IReadOnlyDictionary<string, string>? data, DateTimeOffset at)
    {
        var (to, refusal) = IncidentLifecycle.Next(row.StatusValue, trigger);
        if (to is not { } next) return refusal;
        if (next == IncidentStatus.Resolved)
        {
            await ResolveAsync(c, tx, row, at, actor, message, data);
            await ChangedAsync(c, tx, "resolved", row);
            return null;
        }

        var from = row.Status;
        row.StatusValue = next;
        row.UpdatedAt = at;
        await c.ExecuteAsync("UPDATE incidents SET status = @Status, updated_at = @UpdatedAt WHERE id = @Id", row, tx);
        await AddEventAsync(c, tx, row, at, row.Status, actor, message, data);
        var details = new Dictionary<string, string> { ["from"] = from, ["to"] = row.Status, ["trigger"] = trigger.ToString(), ["message"] = Truncate(message, 500) };
        await AuditAsync(c, tx, row, actor, "incident." + row.Status, details);
        await ChangedAsync(c, tx, "updated", row);
        return null;
    }

    private Task ChangedAsync(DbConnection c, DbTransaction tx, string action, IncidentRow row) =>
        changes is null ? Task.CompletedTask : changes.ChangedAsync(c, tx, row.TenantId, action, row.ToResponse());

    /// <summary>Locks the incident row against a person's acknowledge or resolve in another transaction (PostgreSQL; SQLite has one writer).</summary>
    private string RowLock => db.Dialect.Kind == SqlDialectKind.Postgres ? " FOR UPDATE OF i" : "";

    private Task<IncidentRow?> LockAsync(DbConnection c, DbTransaction tx, string tenantId, string id) =>
        c.QuerySingleOrDefaultAsync<IncidentRow>(
            "SELECT " + Columns + From + " WHERE i.tenant_id = @tenantId AND i.id = @id" + RowLock,
            new { tenantId, id, firing = true }, tx);

    private async Task<IncidentRow?> GetRowAsync(string tenantId, string id, CancellationToken ct)
    {
        await using var c = await db.OpenAsync(ct);
        return await c.QuerySingleOrDefaultAsync<IncidentRow>("SELECT " + Columns + From + " WHERE i.tenant_id = @tenantId AND i.id = @id", new { tenantId, id, firing = true });
    }

    public async Task<IncidentDetailResponse?> GetAsync(string tenantId, string id, CancellationToken ct)
    {
        await using var c = await db.OpenAsync(ct);
        var row = await c.QuerySingleOrDefaultAsync<IncidentRow>("SELECT " + Columns + From + " WHERE i.tenant_id = @tenantId AND i.id = @id", new { tenantId, id, firing = true });
        if (row is null) return null;
        var occurrences = await c.QueryAsync<OccurrenceRow>(
            "SELECT occurrence, firing, signal_count, first_seen_at, last_seen_at FROM incident_occurrences WHERE incident_id = @id ORDER BY first_seen_at, occurrence", new { id });
        var events = await c.QueryAsync<EventRow>(
            "SELECT seq, at, kind, actor, message, data FROM incident_events WHERE tenant_id = @tenantId AND incident_id = @id ORDER BY seq", new { tenantId, id });
        return new IncidentDetailResponse(
            row.ToResponse(),
            occurrences.Select(o => new IncidentOccurrenceResponse(o.Occurrence, o.Firing, o.SignalCount, o.FirstSeenAt, o.LastSeenAt)).ToList(),
            events.Select(e => new IncidentEventResponse(e.Seq, e.At, e.Kind, e.Actor, e.Message, IncidentJson.Map(e.Data))).ToList());
    }

    /// <summary>Newest first (ids are time-ordered). <c>Status</c> "active" means every status but resolved.</summary>
    public async Task<IncidentPage> ListAsync(string tenantId, IncidentQuery q, CancellationToken ct)
    {
        var where = new List<string> { "i.tenant_id = @tenantId" };
        if (q.Status == "active") where.Add("i.resolved_at IS NULL");
        else if (q.Status is not null) where.Add("i.status = @Status");
        if (q.Severity is not null) where.Add("i.severity = @Severity");
        if (q.Source is not null) where.Add("i.source = @Source");
        if (q.Server is not null) where.Add("(i.server_id = @Server OR n.name = @Server)");
        if (q.Since is not null) where.Add("i.last_seen_at >= @Since");
        if (q.Before is not null) where.Add("i.id < @Before");
        await using var c = await db.OpenAsync(ct);
        var rows = (await c.QueryAsync<IncidentRow>(
            "SELECT " + Columns + From + " WHERE " + string.Join(" AND ", where) + " ORDER BY i.id DESC LIMIT @take",
            new { tenantId, q.Status, q.Severity, q.Source, q.Server, q.Since, q.Before, take = q.Limit + 1, firing = true })).ToList();
        var more = rows.Count > q.Limit;
        if (more) rows.RemoveAt(rows.Count - 1);
        return new IncidentPage(rows.Select(r => r.ToResponse()).ToList(), more ? rows[^1].Id : null);
    }
}
