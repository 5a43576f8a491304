using System.Reflection;
using System.Security.Cryptography;
using System.Text;
using Dapper;

namespace Medic.Server.Storage;

internal sealed record Migration(int Version, string Name, string Sql)
{
    public string Checksum => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(Sql)));
}

internal sealed record MigrationStatus(int Applied, int Known, IReadOnlyList<int> Pending);

/// <summary>
/// Applies the numbered SQL files embedded under <c>Storage/Migrations/{dialect}/</c>, each in its
/// own transaction, recording them in <c>schema_migrations</c>. An applied migration whose text
/// changed is refused: migrations are never edited once shipped.
/// </summary>
internal sealed class Migrator(Database db)
{
    public IReadOnlyList<Migration> Known { get; } = Load(db.Dialect);

    public static IReadOnlyList<Migration> Load(SqlDialect dialect)
    {
        var assembly = typeof(Migrator).Assembly;
        var prefix = $"migrations/{dialect.Name}/";
        var list = new List<Migration>();
        foreach (var resource in assembly.GetManifestResourceNames().Where(n => n.StartsWith(prefix, StringComparison.Ordinal)))
        {
            var file = resource[prefix.Length..];
            var underscore = file.IndexOf('_', StringComparison.Ordinal);
            if (underscore <= 0 || !int.TryParse(file[..underscore], out var version))
            {
                throw new InvalidOperationException($"Migration resource '{file}' is not named NNNN_name.sql.");
            }

            using var stream = assembly.GetManifestResourceStream(resource)!;
            using var reader = new StreamReader(stream, Encoding.UTF8);
            list.Add(new Migration(version, Path.GetFileNameWithoutExtension(file[(underscore + 1)..]), reader.ReadToEnd()));
        }

        return [.. list.OrderBy(m => m.Version)];
    }

    public async Task<MigrationStatus> StatusAsync(CancellationToken ct = default)
    {
        await using var connection = await db.OpenAsync(ct);
        var exists = await connection.ExecuteScalarAsync<long>(db.Dialect.ExistsTable("schema_migrations"));
        var applied = exists > 0
            ? (await connection.QueryAsync<int>("SELECT version FROM schema_migrations")).ToHashSet()
            : [];
        var pending = Known.Where(m => !applied.Contains(m.Version)).Select(m => m.Version).ToList();
        return new MigrationStatus(applied.Count, Known.Count, pending);
    }

    public async Task<int> ApplyAsync(CancellationToken ct = default)
    {
        if (db.Dialect.Kind == SqlDialectKind.Sqlite)
        {
            await using var c = await db.OpenAsync(ct);
            await c.ExecuteAsync("PRAGMA journal_mode = WAL;");
        }

        var count = 0;
        foreach (var migration in Known)
        {
            var applied = await db.WriteAsync(async (connection, tx) =>
            {
                if (db.Dialect.MigrationLock is { } lockSql)
                {
                    await connection.ExecuteAsync(lockSql, transaction: tx);
                }

                await connection.ExecuteAsync(
                    "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, checksum TEXT NOT NULL, applied_at TEXT NOT NULL)",
                    transaction: tx);
                var checksum = await connection.QuerySingleOrDefaultAsync<string>(
                    "SELECT checksum FROM schema_migrations WHERE version = @Version", new { migration.Version }, tx);
                if (checksum is not null)
                {
                    if (!string.Equals(checksum, migration.Checksum, StringComparison.Ordinal))
                    {
                        throw new InvalidOperationException(
                            $"Migration {migration.Version:D4}_{migration.Name} was changed after it was applied; restore the original file and add a new migration instead.");
                    }

                    return false;
                }

                await connection.ExecuteAsync(migration.Sql, transaction: tx);
                await connection.ExecuteAsync(
                    "INSERT INTO schema_migrations (version, name, checksum, applied_at) VALUES (@Version, @Name, @Checksum, @AppliedAt)",
                    new { migration.Version, migration.Name, migration.Checksum, AppliedAt = DateTimeOffset.UtcNow.ToString("O") },
                    tx);
                return true;
            }, ct);
            if (applied)
            {
                count++;
            }
        }

        return count;
    }
}
