using System.Collections.Concurrent;
using System.Data.Common;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Dapper;
using Medic.Contracts;
using Medic.Server.Common;
using Medic.Server.Storage;

namespace Medic.Server.Runbooks;

internal static class RunbookSources
{
    public const string Tenant = "tenant";
    public const string Builtin = "builtin";
}

internal sealed class RunbookVersionRow
{
    public string Id { get; set; } = "";

    /// <summary>Null for a built-in.</summary>
    public string? TenantId { get; set; }

    public string Name { get; set; } = "";
    public int Version { get; set; }
    public string Description { get; set; } = "";
    public string Risk { get; set; } = "";
    public string Content { get; set; } = "";
    public string ContentHash { get; set; } = "";
    public string Author { get; set; } = "";
    public DateTimeOffset CreatedAt { get; set; }

    public string Source => TenantId is null ? RunbookSources.Builtin : RunbookSources.Tenant;

    public RunbookSummary ToSummary(bool overridesBuiltin) =>
        new(Name, Version, Description, Risk, Source, overridesBuiltin, ContentHash, Author, CreatedAt);
}

/// <summary>A stored version together with its parsed form: what a run needs.</summary>
internal sealed record StoredRunbook(RunbookVersionRow Row, Runbook Runbook);

internal enum ApplyOutcome { Added, Unchanged, VersionTaken, VersionNotNewer }

internal sealed record ApplyResult(ApplyOutcome Outcome, RunbookVersionRow Row, int Latest, bool OverridesBuiltin);

/// <summary>
/// Runbook versions. A tenant's runbooks and the built-ins (tenant_id NULL) share one table; a
/// tenant's runbook with a built-in's name overrides the built-in for that tenant, every version of it.
/// Every query names the tenant, or asks for built-ins explicitly.
/// </summary>
internal sealed class RunbookStore(Database db)
{
    private const string Columns = "id, tenant_id, name, version, description, risk, content, content_hash, author, created_at";
    private const string SummaryColumns = "id, tenant_id, name, version, description, risk, content_hash, author, created_at";

    // Stored content was validated when it was applied; parsing it again per run is wasted work.
    private readonly ConcurrentDictionary<string, Runbook> _parsed = new(StringComparer.Ordinal);

    public static string Hash(string content) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(content)));

    /// <summary>The parsed form of a stored version (cached by content hash).</summary>
    public StoredRunbook Load(RunbookVersionRow row) => new(row, _parsed.GetOrAdd(row.ContentHash, _ =>
        RunbookParser.Parse(row.Content) is { Ok: true } r ? r.Runbook! : throw new InvalidOperationException($"stored runbook {row.Name} v{row.Version} no longer parses")));

    /// <summary>
    /// Stores <paramref name="runbook"/> as a new version for <paramref name="tenantId"/> (null: a
    /// built-in), unless that exact content is already stored (no-op). A version number that is
    /// taken by other content, or not above the latest, is refused; nothing is written then.
    /// </summary>
    public static async Task<ApplyResult> ApplyAsync(DbConnection c, DbTransaction tx, string? tenantId, Runbook runbook, string content, string author, DateTimeOffset now)
    {
        var hash = Hash(content);
        var versions = (await c.QueryAsync<RunbookVersionRow>(
            $"SELECT {SummaryColumns} FROM runbook_versions WHERE {Owner(tenantId)} AND name = @name ORDER BY version", new { tenantId, name = runbook.Name }, tx)).ToList();
        var overrides = tenantId is not null && await c.ExecuteScalarAsync<long>(
            "SELECT COUNT(*) FROM runbook_versions WHERE tenant_id IS NULL AND name = @name", new { name = runbook.Name }, tx) > 0;
        var latest = versions.Count == 0 ? 0 : versions[^1].Version;
        if (versions.FirstOrDefault(v => v.Version == runbook.Version) is { } same)
        {
            return new ApplyResult(same.ContentHash == hash ? ApplyOutcome.Unchanged : ApplyOutcome.VersionTaken, same, latest, overrides);
        }

        var row = new RunbookVersionRow
        {
            Id = Ids.New("rbv"), TenantId = tenantId, Name = runbook.Name, Version = runbook.Version, Description = runbook.Description,
            Risk = runbook.Risk.ToString().ToLowerInvariant(), Content = content, ContentHash = hash, Author = author, CreatedAt = now,
        };
        if (runbook.Version < latest) return new ApplyResult(ApplyOutcome.VersionNotNewer, row, latest, overrides);
        await c.ExecuteAsync(
            $"INSERT INTO runbook_versions ({Columns}) VALUES (@Id, @TenantId, @Name, @Version, @Description, @Risk, @Content, @ContentHash, @Author, @CreatedAt)", row, tx);
        return new ApplyResult(ApplyOutcome.Added, row, runbook.Version, overrides);
    }

    /// <summary>
    /// Installs a library runbook as a built-in. A built-in's content belongs to this release of
    /// Medic, so a changed file under the same version replaces the stored text.
    /// </summary>
    public Task InstallBuiltinAsync(Runbook runbook, string content, DateTimeOffset now, CancellationToken ct) => db.WriteAsync(async (c, tx) =>
    {
        var result = await ApplyAsync(c, tx, null, runbook, content, "medic", now);
        if (result.Outcome is ApplyOutcome.VersionTaken or ApplyOutcome.VersionNotNewer)
        {
            await c.ExecuteAsync(
                "UPDATE runbook_versions SET content = @content, content_hash = @hash, description = @description, risk = @risk WHERE tenant_id IS NULL AND name = @name AND version = @version",
                new { content, hash = Hash(content), description = runbook.Description, risk = runbook.Risk.ToString().ToLowerInvariant(), name = runbook.Name, version = runbook.Version }, tx);
        }
    }, ct);

    /// <summary>
    /// The version a tenant means by <paramref name="name"/>: its own runbook if it has one by that
    /// name, else the built-in; the latest unless <paramref name="version"/> is given.
    /// </summary>
    public async Task<RunbookVersionRow?> FindAsync(string tenantId, string name, int? version, CancellationToken ct)
    {
        await using var c = await db.OpenAsync(ct);
        var owner = await OwnerOfAsync(c, tenantId, name);
        return await c.QueryFirstOrDefaultAsync<RunbookVersionRow>(
            $"SELECT {Columns} FROM runbook_versions WHERE {Owner(owner)} AND name = @name" + (version is null ? " ORDER BY version DESC" : " AND version = @version"),
            new { tenantId = owner, name, version });
    }

    /// <summary>Every version number of what the tenant means by <paramref name="name"/>, oldest first.</summary>
    public async Task<IReadOnlyList<int>> VersionsAsync(string tenantId, string name, CancellationToken ct)
    {
        await using var c = await db.OpenAsync(ct);
        var owner = await OwnerOfAsync(c, tenantId, name);
        return (await c.QueryAsync<int>($"SELECT version FROM runbook_versions WHERE {Owner(owner)} AND name = @name ORDER BY version", new { tenantId = owner, name })).ToList();
    }

    /// <summary>The latest version of every runbook the tenant can run: its own, and the built-ins it has not overridden.</summary>
    public async Task<IReadOnlyList<RunbookSummary>> ListAsync(string tenantId, CancellationToken ct)
    {
        await using var c = await db.OpenAsync(ct);
        return (await LatestRowsAsync(c, tenantId)).Select(l => l.Row.ToSummary(l.Overrides)).ToList();
    }

    /// <summary>What <see cref="ListAsync"/> lists, parsed: two queries, whatever the number of runbooks.</summary>
    public async Task<IReadOnlyList<StoredRunbook>> LoadLatestAsync(string tenantId, CancellationToken ct)
    {
        await using var c = await db.OpenAsync(ct);
        var ids = (await LatestRowsAsync(c, tenantId)).Select(l => l.Row.Id).ToArray();
        if (ids.Length == 0) return [];
        // One named parameter per id: Npgsql takes a list parameter as one array, which IN cannot read.
        var parameters = new DynamicParameters();
        var names = ids.Select((id, i) => { parameters.Add("id" + i.ToString(CultureInfo.InvariantCulture), id); return "@id" + i.ToString(CultureInfo.InvariantCulture); });
        var rows = await c.QueryAsync<RunbookVersionRow>($"SELECT {Columns} FROM runbook_versions WHERE id IN ({string.Join(", ", names)})", parameters);
        return rows.OrderBy(r => r.Name, StringComparer.Ordinal).Select(Load).ToList();
    }

    private static async Task<IReadOnlyList<(RunbookVersionRow Row, bool Overrides)>> LatestRowsAsync(DbConnection c, string tenantId)
    {
        var rows = (await c.QueryAsync<RunbookVersionRow>(
            $"SELECT {SummaryColumns} FROM runbook_versions WHERE tenant_id = @tenantId OR tenant_id IS NULL", new { tenantId })).ToList();
        var builtins = rows.Where(r => r.TenantId is null).Select(r => r.Name).ToHashSet(StringComparer.Ordinal);
        return rows.GroupBy(r => r.Name, StringComparer.Ordinal)
            .Select(g =>
            {
                var own = g.Where(r => r.TenantId is not null).ToList();
                var latest = (own.Count > 0 ? own : g.ToList()).MaxBy(r => r.Version)!;
                return (latest, own.Count > 0 && builtins.Contains(g.Key));
            })
            .OrderBy(l => l.latest.Name, StringComparer.Ordinal)
            .ToList();
    }

    public async Task<bool> OverridesBuiltinAsync(string tenantId, string name, CancellationToken ct)
    {
        await using var c = await db.OpenAsync(ct);
        var counts = await c.QuerySingleAsync<(long Own, long Builtin)>(
            "SELECT (SELECT COUNT(*) FROM runbook_versions WHERE tenant_id = @tenantId AND name = @name), (SELECT COUNT(*) FROM runbook_versions WHERE tenant_id IS NULL AND name = @name)",
            new { tenantId, name });
        return counts.Own > 0 && counts.Builtin > 0;
    }

    /// <summary>The tenant id when the tenant has a runbook by this name, else null (the built-in).</summary>
    private static async Task<string?> OwnerOfAsync(DbConnection c, string tenantId, string name) =>
        await c.ExecuteScalarAsync<long>("SELECT COUNT(*) FROM runbook_versions WHERE tenant_id = @tenantId AND name = @name", new { tenantId, name }) > 0 ? tenantId : null;

    private static string Owner(string? tenantId) => tenantId is null ? "tenant_id IS NULL" : "tenant_id = @tenantId";
}
