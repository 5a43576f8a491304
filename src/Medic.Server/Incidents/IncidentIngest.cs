using System.Data.Common;
using Dapper;
using Medic.Contracts;
using Medic.Server.Audit;
using Medic.Server.Common;
using Medic.Server.Fleet;
using Medic.Server.Silences;
using Medic.Server.Storage;

namespace Medic.Server.Incidents;

/// <summary>
/// Folds detection signals into the incident record: one open incident per fingerprint, with its
/// occurrences and timeline; a repeat soon after resolving reopens the incident, a silenced signal
/// is recorded but held back from the pipeline and from people.
/// </summary>
internal sealed class IncidentIngest(
    Database db, IncidentWrites writes, IncidentFeed feed, TimeProvider time, IncidentPolicy? policy = null, IPipelineEntry? pipeline = null,
    IServerDirectory? servers = null, ISilences? silences = null) : IIncidentIngest
{
    private readonly IncidentPolicy _policy = policy ?? IncidentPolicy.Default;
    private readonly IServerDirectory _servers = servers ?? new NodeServerDirectory();

    /// <summary>How long a delivery id is remembered: far longer than any sender retries a delivery.</summary>
    internal static readonly TimeSpan DeliveryMemory = TimeSpan.FromDays(7);

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
                    if (outcome.SilencedBy is null) await writes.ChangedAsync(c, tx, outcome.NotifyAs ?? outcome.Action.ToText(), row);
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
            IncidentRow.Select + " WHERE i.tenant_id = @TenantId AND i.fingerprint = @Fingerprint AND i.resolved_at IS NULL" + writes.RowLock,
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
                await IncidentWrites.AddEventAsync(c, tx, open, s.At, "occurrence_resolved", s.Actor, $"{occurrence} resolved; {open.Firing} of {open.Occurrences} still firing", null);
                return (new IngestOutcome(open.Id, IngestAction.Updated), open);
            }

            if (IncidentStatuses.RemediationRunning(open.StatusValue))
            {
                await SaveCountersAsync(c, tx, open);
                await IncidentWrites.AddEventAsync(c, tx, open, s.At, "source_resolved", s.Actor, $"{s.Source} reports the problem resolved while a remediation runs; the remediation's verification decides", null);
                return (new IngestOutcome(open.Id, IngestAction.Noted), open);
            }

            await writes.ResolveAsync(c, tx, open, s.At, s.Actor, ResolutionOf(s), s.Evidence);
            // People never told of a held incident are not told it ended either.
            var held = silences is null ? null : await silences.ReleaseAsync(c, tx, open.Id);
            if (silence is not null) await SilencedAsync(c, tx, open, s, silence, false);
            return (new IngestOutcome(open.Id, IngestAction.Resolved, silence?.Id ?? held?.SilenceId), open);
        }

        if (open is not null)
        {
            var fresh = await IncidentWrites.MarkFiringAsync(c, tx, open.Id, occurrence, s.At);
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
            if (fresh) await IncidentWrites.AddEventAsync(c, tx, open, s.At, "occurrence", s.Actor, $"{occurrence} firing ({open.Firing} of {open.Occurrences})", null);
            if (s.Note is not null) await IncidentWrites.AddEventAsync(c, tx, open, s.At, "update", s.Actor, s.Note, s.Evidence);
            if (severityChanged) await IncidentWrites.AddEventAsync(c, tx, open, s.At, "severity", s.Actor, "severity rose to " + severity, null);

            if (silence is not null)
            {
                await SilencedAsync(c, tx, open, s, silence, !fresh);
                return (new IngestOutcome(open.Id, IngestAction.Updated, silence.Id), open);
            }

            if (silences is not null && await silences.ReleaseAsync(c, tx, open.Id) is { } released)
            {
                // Opened under a silence that no longer matches: the pipeline and the people hear of it now.
                await IncidentWrites.AddEventAsync(c, tx, open, s.At, "unsilenced", "system", $"no silence matches it any more (it was held by {released.SilenceId})", null);
                await writes.EnterPipelineAsync(c, tx, open, "its silence ended");
                return (new IngestOutcome(open.Id, IngestAction.Updated, NotifyAs: released.Action), open);
            }

            // The agent stopped restarting it locally: a new round hands it to the pipeline (whose triage waited for this).
            if (AgentSignals.LadderGaveUp(s) && open.StatusValue == IncidentStatus.Open) await writes.EnterPipelineAsync(c, tx, open, "the agent gave up restarting it");
            return (new IngestOutcome(open.Id, IngestAction.Updated), open);
        }

        var recent = await c.QueryFirstOrDefaultAsync<IncidentRow>(
            IncidentRow.Select + " WHERE i.tenant_id = @TenantId AND i.fingerprint = @Fingerprint AND i.resolved_at >= @after ORDER BY i.resolved_at DESC",
            new { s.TenantId, s.Fingerprint, after = s.At - _policy.ReopenWindow, firing = true }, tx);
        if (recent is not null)
        {
            await IncidentWrites.MarkFiringAsync(c, tx, recent.Id, occurrence, s.At);
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
            _policy.CountStateChange(recent, s.At);
            recent.Occurrences = await CountAsync(c, tx, recent.Id, null);
            recent.Firing = await CountAsync(c, tx, recent.Id, true);
            await c.ExecuteAsync(
                "UPDATE incidents SET status = @Status, resolved_at = NULL, resolution = NULL, signal_count = @SignalCount, last_seen_at = @LastSeenAt, severity = @Severity, " +
                "title = @Title, summary = @Summary, evidence = @Evidence, flapping = @Flapping, flap_window_start = @FlapWindowStart, flap_changes = @FlapChanges, updated_at = @LastSeenAt WHERE id = @Id",
                recent, tx);
            await IncidentWrites.AddEventAsync(c, tx, recent, s.At, "reopened", s.Actor, $"fired again within {Durations.Format(_policy.ReopenWindow)} of being resolved", s.Evidence);
            if (recent.Flapping && !flappingBefore) await IncidentWrites.AddEventAsync(c, tx, recent, s.At, "flapping", "system", IncidentWrites.FlappingMessage, null);
            await writes.AuditAsync(c, tx, recent, s.Actor, "incident.reopen", null);
            if (silence is not null)
            {
                await silences!.HoldAsync(c, tx, recent.TenantId, recent.Id, silence.Id, "reopened");
                await SilencedAsync(c, tx, recent, s, silence, false);
                return (new IngestOutcome(recent.Id, IngestAction.Reopened, silence.Id), recent);
            }

            if (silences is not null) await silences.ReleaseAsync(c, tx, recent.Id);
            await writes.EnterPipelineAsync(c, tx, recent, "reopened");
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
        await IncidentWrites.MarkFiringAsync(c, tx, row.Id, occurrence, s.At);
        await IncidentWrites.AddEventAsync(c, tx, row, s.At, "opened", s.Actor, s.Summary ?? s.Title, s.Evidence);
        await writes.AuditAsync(c, tx, row, s.Actor, "incident.open", null);
        if (silence is not null)
        {
            await silences!.HoldAsync(c, tx, row.TenantId, row.Id, silence.Id, "created");
            await SilencedAsync(c, tx, row, s, silence, false);
            return (new IngestOutcome(row.Id, IngestAction.Created, silence.Id), row);
        }

        await writes.EnterPipelineAsync(c, tx, row, "opened");
        return (new IngestOutcome(row.Id, IngestAction.Created), row);
    }

    /// <summary>The timeline says which silence held the signal back; a repeat under the same silence is said once.</summary>
    private static async Task SilencedAsync(DbConnection c, DbTransaction tx, IncidentRow row, IncidentSignal s, SilenceMatch silence, bool repeat)
    {
        var message = $"silenced by {silence.Id} until {AuditChain.FormatTime(silence.EndsAt)} ({silence.CreatedBy}: {silence.Comment}): no pipeline, no notification";
        if (repeat && await c.ExecuteScalarAsync<long>(
                "SELECT COUNT(*) FROM incident_events WHERE incident_id = @Id AND kind = 'silenced' AND message = @message", new { row.Id, message = Texts.Truncate(message, 4000) }, tx) > 0)
        {
            return;
        }

        await IncidentWrites.AddEventAsync(c, tx, row, s.At, "silenced", s.Actor, message, new Dictionary<string, string> { ["silence"] = silence.Id });
    }

    /// <summary>What the source says ended it ("healed locally" from the agent's ladder), else who said so.</summary>
    private static string ResolutionOf(IncidentSignal s) =>
        s.Evidence?.GetValueOrDefault("resolution") is { Length: > 0 } how ? $"{how.Replace('_', ' ')} ({s.Source})" : $"resolved by {s.Source}";

    private static DateTimeOffset Max(DateTimeOffset a, DateTimeOffset b) => a > b ? a : b;

    private static Task<int> CountAsync(DbConnection c, DbTransaction tx, string incidentId, bool? firing) => firing is null
        ? c.ExecuteScalarAsync<int>("SELECT COUNT(*) FROM incident_occurrences WHERE incident_id = @incidentId", new { incidentId }, tx)
        : c.ExecuteScalarAsync<int>("SELECT COUNT(*) FROM incident_occurrences WHERE incident_id = @incidentId AND firing = @firing", new { incidentId, firing }, tx);

    private static Task SaveCountersAsync(DbConnection c, DbTransaction tx, IncidentRow row) =>
        c.ExecuteAsync("UPDATE incidents SET signal_count = @SignalCount, last_seen_at = @LastSeenAt, updated_at = @LastSeenAt WHERE id = @Id", row, tx);

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
            new { s.TenantId, s.Source, DeliveryId = Texts.Truncate(s.DeliveryId!, 200), s.At }, tx);
        return inserted > 0;
    }
}
