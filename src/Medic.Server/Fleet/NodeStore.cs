using System.Data.Common;
using System.Text.Json;
using Dapper;
using Medic.Contracts;
using Medic.Contracts.Agent;
using Medic.Server.Storage;

namespace Medic.Server.Fleet;

/// <summary>How the control plane reaches a node: through its agent's link, or through the system ssh client.</summary>
internal static class NodeKinds
{
    public const string Agent = "agent";
    public const string Agentless = "agentless";
}

internal sealed class NodeRow
{
    public string Id { get; set; } = "";
    public string TenantId { get; set; } = "";
    public string Name { get; set; } = "";
    public string Tags { get; set; } = "{}";
    /// <summary>The stored text of <see cref="StatusValue"/>, for Dapper: unknown text fails the read.</summary>
    public string Status { get => StatusValue.ToText(); set => StatusValue = StateText.Parse<NodeStatus>(value); }

    public NodeStatus StatusValue { get; set; } = NodeStatus.Offline;
    public bool Drained { get; set; }
    public string? Facts { get; set; }
    public string? Metrics { get; set; }
    public DateTimeOffset EnrolledAt { get; set; }
    public DateTimeOffset? LastSeenAt { get; set; }
    public string Kind { get; set; } = NodeKinds.Agent;
    public string? SshAddress { get; set; }
    public string? SshUser { get; set; }
    public string? SshKey { get; set; }
    public string? SshHostKey { get; set; }
    public bool SshAcceptNew { get; set; }

    public bool IsAgentless => Kind == NodeKinds.Agentless;

    public IReadOnlyDictionary<string, string> TagMap => Fleet.Tags.Deserialize(Tags);

    public ServerResponse ToResponse()
    {
        var tags = TagMap;
        return new ServerResponse(Id, Name, StatusValue, Drained, tags, tags.GetValueOrDefault(Fleet.Tags.EnvironmentKey), Fleet.Tags.Groups(tags), EnrolledAt, LastSeenAt,
            Facts is null ? null : JsonSerializer.Deserialize(Facts, AgentJson.Default.HostFacts),
            Metrics is null ? null : JsonSerializer.Deserialize(Metrics, AgentJson.Default.Metrics),
            Kind, IsAgentless ? new SshTargetResponse(SshAddress ?? "", SshUser ?? "", SshKey ?? "", SshHostKey, SshAcceptNew) : null);
    }
}

internal sealed class EnrollmentTokenRow
{
    public string Id { get; set; } = "";
    public string TenantId { get; set; } = "";
    public string Prefix { get; set; } = "";
    public string Tags { get; set; } = "{}";
    public int UsesAllowed { get; set; }
    public int Uses { get; set; }
    public string CreatedBy { get; set; } = "";
    public DateTimeOffset CreatedAt { get; set; }
    public DateTimeOffset ExpiresAt { get; set; }
    public DateTimeOffset? RevokedAt { get; set; }

    public EnrollmentTokenResponse ToResponse() =>
        new(Id, Prefix, Fleet.Tags.Deserialize(Tags), UsesAllowed, Uses, CreatedBy, CreatedAt, ExpiresAt, RevokedAt);
}

/// <summary>Nodes and enrollment tokens. Every API query is scoped by tenant id; the gateway looks nodes up by credential hash.</summary>
internal sealed class NodeStore(Database db)
{
    private const string NodeColumns =
        "id, tenant_id, name, tags, status, drained, facts, metrics, enrolled_at, last_seen_at, kind, ssh_address, ssh_user, ssh_key, ssh_host_key, ssh_accept_new";
    private const string TokenColumns = "id, tenant_id, prefix, tags, uses_allowed, uses, created_by, created_at, expires_at, revoked_at";

    public async Task<IReadOnlyList<NodeRow>> ListAsync(string tenantId, CancellationToken ct = default)
    {
        await using var c = await db.OpenAsync(ct);
        return (await c.QueryAsync<NodeRow>($"SELECT {NodeColumns} FROM nodes WHERE tenant_id = @tenantId AND removed_at IS NULL ORDER BY name", new { tenantId })).ToList();
    }

    /// <summary>How many of the tenant's servers are online and offline.</summary>
    public async Task<(int Online, int Offline)> StatusCountsAsync(string tenantId, CancellationToken ct = default)
    {
        await using var c = await db.OpenAsync(ct);
        var counts = (await c.QueryAsync<(string Status, long Count)>(
            "SELECT status, COUNT(*) FROM nodes WHERE tenant_id = @tenantId AND removed_at IS NULL GROUP BY status", new { tenantId })).ToDictionary(r => r.Status, r => (int)r.Count);
        return (counts.GetValueOrDefault(NodeStatus.Online.ToText()), counts.GetValueOrDefault(NodeStatus.Offline.ToText()));
    }

    /// <summary>
    /// One page of the tenant's servers, by name, filtered in the database (the console's list stays
    /// quick with thousands of servers), and how many match in all.
    /// </summary>
    public async Task<ServerListPage> PageAsync(string tenantId, ServerListQuery q, CancellationToken ct = default)
    {
        var where = new List<string> { "n.tenant_id = @tenantId", "n.removed_at IS NULL" };
        var p = new DynamicParameters(new { tenantId, skip = Math.Max(0, q.Skip), take = Math.Clamp(q.Take, 1, 500) });
        if (!string.IsNullOrEmpty(q.Text))
        {
            where.Add(db.Dialect.Lower("n.name") + @" LIKE @text ESCAPE '\'");
            p.Add("text", SqlDialect.ContainsPattern(q.Text));
        }

        if (q.Status is { } status)
        {
            where.Add("n.status = @status");
            p.Add("status", status.ToText());
        }

        var tags = new Dictionary<string, string>(q.Tags ?? new Dictionary<string, string>(), StringComparer.Ordinal);
        if (q.Environment is not null) tags[Tags.EnvironmentKey] = q.Environment;
        var i = 0;
        foreach (var (key, value) in tags)
        {
            // Tag keys are [a-z0-9_.-] (Tags.Problem), so quoting the key makes a safe JSON path.
            where.Add(db.Dialect.Kind == SqlDialectKind.Postgres ? $"(n.tags::jsonb ->> @tagKey{i}) = @tagValue{i}" : $"json_extract(n.tags, @tagKey{i}) = @tagValue{i}");
            p.Add($"tagKey{i}", db.Dialect.Kind == SqlDialectKind.Postgres ? key : $"$.\"{key}\"");
            p.Add($"tagValue{i}", value);
            i++;
        }

        if (q.Names is { Count: > 0 } names)
        {
            // Dapper expands a list for SQLite; Npgsql takes the array itself.
            where.Add(db.Dialect.Kind == SqlDialectKind.Postgres ? "(n.name = ANY(@names) OR n.id = ANY(@names))" : "(n.name IN @names OR n.id IN @names)");
            p.Add("names", names.ToArray());
        }

        var g = 0;
        foreach (var group in q.Groups ?? [])
        {
            // The groups tag is a comma-separated list without spaces (Tags.Problem), so a member is ",NAME," inside ",LIST,".
            var groups = db.Dialect.Kind == SqlDialectKind.Postgres ? "(n.tags::jsonb ->> 'groups')" : "json_extract(n.tags, '$.groups')";
            where.Add($"(',' || {groups} || ',') LIKE @group{g} ESCAPE '\\'");
            p.Add($"group{g}", "%," + SqlDialect.EscapeLike(group) + ",%");
            g++;
        }

        if (q.WithOpenIncidents)
        {
            where.Add("EXISTS (SELECT 1 FROM incidents i WHERE i.tenant_id = @tenantId AND i.server_id = n.id AND i.resolved_at IS NULL)");
        }

        var filter = " FROM nodes n WHERE " + string.Join(" AND ", where);
        await using var c = await db.OpenAsync(ct);
        var total = await c.ExecuteScalarAsync<long>("SELECT COUNT(*)" + filter, p);
        // Incidents are counted for the page's rows only: in the select list of the paged query itself,
        // PostgreSQL would count them for every row skipped by OFFSET as well.
        List<ServerListRow> rows = total == 0 ? [] : (await c.QueryAsync<ServerListRow>(
            "SELECT p.id, p.name, p.tags, p.status, p.drained, p.facts, p.kind, p.last_seen_at, " +
            "(SELECT COUNT(*) FROM incidents i WHERE i.tenant_id = @tenantId AND i.server_id = p.id AND i.resolved_at IS NULL) AS open_incidents " +
            "FROM (SELECT n.id, n.name, n.tags, n.status, n.drained, n.facts, n.kind, n.last_seen_at" + filter + " ORDER BY n.name LIMIT @take OFFSET @skip) p ORDER BY p.name", p)).ToList();
        return new ServerListPage(rows, (int)total);
    }


    public async Task<NodeRow?> FindAsync(string tenantId, string idOrName, CancellationToken ct = default)
    {
        await using var c = await db.OpenAsync(ct);
        return await FindAsync(c, null, tenantId, idOrName);
    }

    public static Task<NodeRow?> FindAsync(DbConnection c, DbTransaction? tx, string tenantId, string idOrName) =>
        c.QuerySingleOrDefaultAsync<NodeRow>(
            $"SELECT {NodeColumns} FROM nodes WHERE tenant_id = @tenantId AND removed_at IS NULL AND (id = @idOrName OR name = @idOrName)",
            new { tenantId, idOrName }, tx);

    public async Task<NodeRow?> FindByCredentialAsync(string credential, CancellationToken ct = default)
    {
        await using var c = await db.OpenAsync(ct);
        return await c.QuerySingleOrDefaultAsync<NodeRow>(
            $"SELECT {NodeColumns} FROM nodes WHERE credential_hash = @hash AND removed_at IS NULL", new { hash = Auth.TokenStore.Hash(credential) });
    }

    public static Task InsertAsync(DbConnection c, DbTransaction tx, NodeRow n, string credential) =>
        c.ExecuteAsync(
            "INSERT INTO nodes (id, tenant_id, name, credential_hash, tags, status, drained, facts, enrolled_at, status_changed_at) " +
            "VALUES (@Id, @TenantId, @Name, @Hash, @Tags, @Status, @Drained, @Facts, @EnrolledAt, @EnrolledAt)",
            new { n.Id, n.TenantId, n.Name, Hash = Auth.TokenStore.Hash(credential), n.Tags, n.Status, n.Drained, n.Facts, n.EnrolledAt }, tx);

    /// <summary>An agentless server: no credential (no agent will ever connect as it), reached with the ssh settings.</summary>
    public static Task InsertAgentlessAsync(DbConnection c, DbTransaction tx, NodeRow n) =>
        c.ExecuteAsync(
            "INSERT INTO nodes (id, tenant_id, name, credential_hash, tags, status, drained, enrolled_at, status_changed_at, kind, ssh_address, ssh_user, ssh_key, ssh_host_key, ssh_accept_new) " +
            "VALUES (@Id, @TenantId, @Name, NULL, @Tags, @Status, @Drained, @EnrolledAt, @EnrolledAt, @Kind, @SshAddress, @SshUser, @SshKey, @SshHostKey, @SshAcceptNew)",
            n, tx);

    /// <summary>Pins the host key an agentless server showed on first contact; returns false when one was already pinned.</summary>
    public static async Task<bool> PinHostKeyAsync(DbConnection c, DbTransaction tx, string id, string hostKey) =>
        await c.ExecuteAsync("UPDATE nodes SET ssh_host_key = @hostKey WHERE id = @id AND ssh_host_key IS NULL", new { id, hostKey }, tx) > 0;

    public static Task SetTagsAsync(DbConnection c, DbTransaction tx, string tenantId, string id, string tags) =>
        c.ExecuteAsync("UPDATE nodes SET tags = @tags WHERE tenant_id = @tenantId AND id = @id", new { tenantId, id, tags }, tx);

    public static Task SetDrainedAsync(DbConnection c, DbTransaction tx, string tenantId, string id, bool drained) =>
        c.ExecuteAsync("UPDATE nodes SET drained = @drained WHERE tenant_id = @tenantId AND id = @id", new { tenantId, id, drained }, tx);

    /// <summary>Removing revokes the credential at once; the row stays for history and the name becomes free.</summary>
    public static Task RemoveAsync(DbConnection c, DbTransaction tx, string tenantId, string id, DateTimeOffset at) =>
        c.ExecuteAsync("UPDATE nodes SET removed_at = @at, credential_hash = NULL, status = @offline WHERE tenant_id = @tenantId AND id = @id",
            new { tenantId, id, at, offline = NodeStatus.Offline.ToText() }, tx);

    /// <summary>Sets the status; returns whether it changed (so the caller records the transition once).</summary>
    public static async Task<bool> SetStatusAsync(DbConnection c, DbTransaction tx, string id, NodeStatus status, DateTimeOffset at) =>
        await c.ExecuteAsync("UPDATE nodes SET status = @status, status_changed_at = @at WHERE id = @id AND status <> @status AND removed_at IS NULL",
            new { id, status = status.ToText(), at }, tx) > 0;

    public async Task RecordFactsAsync(string id, HostFacts facts, DateTimeOffset at, CancellationToken ct = default) =>
        await db.WriteAsync((c, tx) => c.ExecuteAsync("UPDATE nodes SET facts = @facts, last_seen_at = @at WHERE id = @id",
            new { id, at, facts = JsonSerializer.Serialize(facts, AgentJson.Default.HostFacts) }, tx), ct);

    public static readonly TimeSpan HistoryKept = TimeSpan.FromHours(24);

    /// <summary>
    /// Stores the latest metrics on the node and in its history: one row per minute (a later
    /// heartbeat in the same minute replaces the earlier one), older than 24 h pruned as it goes.
    /// </summary>
    public async Task RecordHeartbeatAsync(string id, Metrics metrics, DateTimeOffset at, CancellationToken ct = default)
    {
        var json = JsonSerializer.Serialize(metrics, AgentJson.Default.Metrics);
        var minute = new DateTimeOffset(at.UtcTicks - (at.UtcTicks % TimeSpan.TicksPerMinute), TimeSpan.Zero);
        await db.WriteAsync(async (c, tx) =>
        {
            await c.ExecuteAsync("UPDATE nodes SET metrics = @json, last_seen_at = @at WHERE id = @id", new { id, at, json }, tx);
            await c.ExecuteAsync(
                "INSERT INTO node_metrics (node_id, tenant_id, minute, metrics) SELECT id, tenant_id, @minute, @json FROM nodes WHERE id = @id " +
                "ON CONFLICT (node_id, minute) DO UPDATE SET metrics = excluded.metrics", new { id, minute, json }, tx);
            await c.ExecuteAsync("DELETE FROM node_metrics WHERE node_id = @id AND minute < @cutoff", new { id, cutoff = minute - HistoryKept }, tx);
        }, ct);
    }

    public async Task<IReadOnlyList<MetricsPoint>> HistoryAsync(string tenantId, string nodeId, DateTimeOffset since, CancellationToken ct = default)
    {
        await using var c = await db.OpenAsync(ct);
        var rows = await c.QueryAsync<HistoryRow>(
            "SELECT minute, metrics FROM node_metrics WHERE tenant_id = @tenantId AND node_id = @nodeId AND minute >= @since ORDER BY minute",
            new { tenantId, nodeId, since });
        return rows.Select(r => new MetricsPoint(r.Minute, JsonSerializer.Deserialize(r.Metrics, AgentJson.Default.Metrics)!)).ToList();
    }

    private sealed class HistoryRow
    {
        public DateTimeOffset Minute { get; set; }
        public string Metrics { get; set; } = "";
    }

    /// <summary>
    /// Records that a node was heard from without new facts or metrics: a fresh connection, before
    /// its hello is read. Without it the offline sweep takes a new node (never seen) or one back from
    /// a long outage (seen long ago) for a silent one and drops it as it connects.
    /// </summary>
    public async Task RecordSeenAsync(string id, DateTimeOffset at, CancellationToken ct = default) =>
        await db.WriteAsync((c, tx) => c.ExecuteAsync("UPDATE nodes SET last_seen_at = @at WHERE id = @id", new { id, at }, tx), ct);

    /// <summary>Online agent nodes not heard from since <paramref name="before"/> (agentless ones send no heartbeats; their status is the last ssh contact's).</summary>
    public async Task<IReadOnlyList<NodeRow>> SilentSinceAsync(DateTimeOffset before, CancellationToken ct = default)
    {
        await using var c = await db.OpenAsync(ct);
        return (await c.QueryAsync<NodeRow>(
            $"SELECT {NodeColumns} FROM nodes WHERE status = @online AND kind = @agent AND removed_at IS NULL AND (last_seen_at IS NULL OR last_seen_at < @before)",
            new { online = NodeStatus.Online.ToText(), agent = NodeKinds.Agent, before })).ToList();
    }

    public static Task InsertEnrollmentTokenAsync(DbConnection c, DbTransaction tx, EnrollmentTokenRow t, string secret) =>
        c.ExecuteAsync(
            $"INSERT INTO enrollment_tokens ({TokenColumns}, token_hash) VALUES (@Id, @TenantId, @Prefix, @Tags, @UsesAllowed, @Uses, @CreatedBy, @CreatedAt, @ExpiresAt, @RevokedAt, @Hash)",
            new { t.Id, t.TenantId, t.Prefix, t.Tags, t.UsesAllowed, t.Uses, t.CreatedBy, t.CreatedAt, t.ExpiresAt, t.RevokedAt, Hash = Auth.TokenStore.Hash(secret) }, tx);

    public async Task<IReadOnlyList<EnrollmentTokenRow>> ListEnrollmentTokensAsync(string tenantId, CancellationToken ct = default)
    {
        await using var c = await db.OpenAsync(ct);
        return (await c.QueryAsync<EnrollmentTokenRow>($"SELECT {TokenColumns} FROM enrollment_tokens WHERE tenant_id = @tenantId ORDER BY created_at DESC", new { tenantId })).ToList();
    }

    public static Task<EnrollmentTokenRow?> FindEnrollmentTokenAsync(DbConnection c, DbTransaction? tx, string tenantId, string id) =>
        c.QuerySingleOrDefaultAsync<EnrollmentTokenRow>($"SELECT {TokenColumns} FROM enrollment_tokens WHERE tenant_id = @tenantId AND id = @id", new { tenantId, id }, tx);

    /// <summary>The token for a presented secret, locked for the use count on PostgreSQL.</summary>
    public Task<EnrollmentTokenRow?> FindEnrollmentTokenBySecretAsync(DbConnection c, DbTransaction tx, string secret) =>
        c.QuerySingleOrDefaultAsync<EnrollmentTokenRow>(
            $"SELECT {TokenColumns} FROM enrollment_tokens WHERE token_hash = @hash" + db.Dialect.ForUpdate, new { hash = Auth.TokenStore.Hash(secret) }, tx);

    public static Task UseEnrollmentTokenAsync(DbConnection c, DbTransaction tx, string id) =>
        c.ExecuteAsync("UPDATE enrollment_tokens SET uses = uses + 1 WHERE id = @id", new { id }, tx);

    public static Task RevokeEnrollmentTokenAsync(DbConnection c, DbTransaction tx, string tenantId, string id, DateTimeOffset at) =>
        c.ExecuteAsync("UPDATE enrollment_tokens SET revoked_at = @at WHERE tenant_id = @tenantId AND id = @id AND revoked_at IS NULL", new { tenantId, id, at }, tx);

    public static Task<bool> NameTakenAsync(DbConnection c, DbTransaction tx, string tenantId, string name) =>
        c.ExecuteScalarAsync<long>("SELECT COUNT(*) FROM nodes WHERE tenant_id = @tenantId AND name = @name AND removed_at IS NULL", new { tenantId, name }, tx)
            .ContinueWith(t => t.Result > 0, TaskScheduler.Default);
}
