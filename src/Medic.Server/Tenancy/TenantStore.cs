using System.Data.Common;
using System.Text.RegularExpressions;
using Dapper;
using Medic.Contracts;
using Medic.Server.Storage;

namespace Medic.Server.Tenancy;

public sealed class TenantRow
{
    public string Id { get; set; } = "";
    public string Slug { get; set; } = "";
    public string Name { get; set; } = "";
    public DateTimeOffset CreatedAt { get; set; }

    public TenantResponse ToResponse() => new(Id, Slug, Name, CreatedAt);
}

public sealed partial class TenantStore(Database db)
{
    public const string DefaultSlug = "default";

    [GeneratedRegex("^[a-z0-9](?:[a-z0-9-]{0,38}[a-z0-9])?$")]
    private static partial Regex SlugPattern();

    public static bool IsValidSlug(string? slug) => slug is not null && SlugPattern().IsMatch(slug);

    public async Task<IReadOnlyList<TenantRow>> ListAsync(CancellationToken ct = default)
    {
        await using var c = await db.OpenAsync(ct);
        return (await c.QueryAsync<TenantRow>("SELECT id, slug, name, created_at FROM tenants ORDER BY slug")).ToList();
    }

    public async Task<TenantRow?> FindBySlugAsync(string slug, CancellationToken ct = default)
    {
        await using var c = await db.OpenAsync(ct);
        return await c.QuerySingleOrDefaultAsync<TenantRow>("SELECT id, slug, name, created_at FROM tenants WHERE slug = @slug", new { slug });
    }

    public async Task<bool> AnyAsync(CancellationToken ct = default)
    {
        await using var c = await db.OpenAsync(ct);
        return await c.ExecuteScalarAsync<long>("SELECT COUNT(*) FROM tenants") > 0;
    }

    public static Task<bool> SlugTakenAsync(DbConnection c, DbTransaction tx, string slug) =>
        c.ExecuteScalarAsync<long>("SELECT COUNT(*) FROM tenants WHERE slug = @slug", new { slug }, tx).ContinueWith(t => t.Result > 0, TaskScheduler.Default);

    public static Task InsertAsync(DbConnection c, DbTransaction tx, TenantRow t) =>
        c.ExecuteAsync("INSERT INTO tenants (id, slug, name, created_at) VALUES (@Id, @Slug, @Name, @CreatedAt)", t, tx);
}
