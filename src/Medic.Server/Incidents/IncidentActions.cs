using Dapper;
using Medic.Contracts;
using Medic.Server.Common;
using Medic.Server.Storage;

namespace Medic.Server.Incidents;

/// <summary>
/// What a person does to an incident through the API: open one by hand, acknowledge, comment,
/// resolve. Each is audited with the caller's address and published to live watchers after commit.
/// </summary>
internal sealed class IncidentActions(Database db, IncidentWrites writes, IncidentQueries queries, IncidentFeed feed, TimeProvider time, IPipelineEntry? pipeline = null)
{
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
            await IncidentWrites.MarkFiringAsync(c, tx, row.Id, row.Fingerprint, at);
            await IncidentWrites.AddEventAsync(c, tx, row, at, "opened", actor, request.Summary ?? request.Title, null);
            await writes.AuditAsync(c, tx, row, actor, "incident.create", null, clientAddress);
            await writes.EnterPipelineAsync(c, tx, row, "opened");
            await writes.ChangedAsync(c, tx, "created", row);
        }, ct);
        var created = (await queries.RowAsync(tenantId, id, ct))!;
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
            var r = await writes.LockAsync(c, tx, tenantId, id);
            if (r is null || r.AcknowledgedAt is not null) return r;
            r.AcknowledgedBy = actor;
            r.AcknowledgedAt = at;
            await c.ExecuteAsync("UPDATE incidents SET acknowledged_by = @AcknowledgedBy, acknowledged_at = @AcknowledgedAt, updated_at = @AcknowledgedAt WHERE id = @Id", r, tx);
            await IncidentWrites.AddEventAsync(c, tx, r, at, "acknowledged", actor, comment ?? "acknowledged", null);
            await writes.AuditAsync(c, tx, r, actor, "incident.acknowledge", comment is null ? null : new() { ["comment"] = comment }, clientAddress);
            await writes.ChangedAsync(c, tx, "acknowledged", r);
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
            var r = await writes.LockAsync(c, tx, tenantId, id);
            if (r is null) return null;
            await IncidentWrites.AddEventAsync(c, tx, r, at, "comment", actor, text, null);
            await writes.AuditAsync(c, tx, r, actor, "incident.comment", new() { ["comment"] = Texts.Truncate(text, 500) }, clientAddress);
            if (r.StatusValue == IncidentStatus.Escalated && pipeline is not null && mayOperate)
            {
                // A person's word on an escalated incident sends it through the pipeline again, with the comment as context.
                await writes.MoveAsync(c, tx, r, IncidentTrigger.Comment, actor, "re-entered the pipeline after a comment", new Dictionary<string, string> { ["comment"] = Texts.Truncate(text, 2000) }, at);
                await writes.EnterPipelineAsync(c, tx, r, "comment");
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
            var r = await writes.LockAsync(c, tx, tenantId, id);
            if (r is null || r.ResolvedAt is not null) return r;
            await writes.ResolveAsync(c, tx, r, at, actor, comment is null ? "resolved by " + actor : $"resolved by {actor}: {comment}", null);
            await writes.ChangedAsync(c, tx, "resolved", r);
            return r;
        }, ct);
        if (row is not null) feed.Publish(tenantId, new IncidentFeedMessage("resolved", row.ToResponse()));
        pipeline?.Committed(); // a verification waiting for this confirmation was made due: the worker takes it now
        return row?.ToResponse();
    }
}
