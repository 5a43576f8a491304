using System.Reflection;
using System.Security.Cryptography;
using System.Text;
using Dapper;
using Medic.Server.Common;

namespace Medic.Server.Storage;

internal sealed record Migration(int Version, string Name, string Sql)
{
    public string Checksum => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(Sql)));
}

internal sealed record MigrationStatus(int Applied, int Known, IReadOnlyList<int> Pending);

/// <summary>A row of <c>schema_migrations</c>: what a database says was applied to it.</summary>
internal sealed record AppliedMigration(int Version, string Name, string Checksum);

/// <summary>
/// Applies the numbered SQL files embedded under <c>Storage/Migrations/{dialect}/</c>, each in its
/// own transaction, recording them (with a SHA-256 of their text) in <c>schema_migrations</c>.
/// Migrations only go forward: before applying anything it refuses a database that records a
/// migration this binary does not know (a newer Medic wrote it), or one whose text changed since
/// it was applied (migrations are never edited once shipped).
/// </summary>
internal sealed class Migrator(Database db)
{
    public const string CreateTableSql =
        "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, checksum TEXT NOT NULL, applied_at TEXT NOT NULL)";

    public IReadOnlyList<Migration> Known { get; } = Load(db.Dialect);

    /// <summary>
    /// Refuses <paramref name="applied"/> unless every migration in it is one of <paramref name="known"/>
    /// with the same text; <paramref name="what"/> names the database (or backup) in the message.
    /// </summary>
    public static void CheckApplied(IEnumerable<AppliedMigration> applied, IReadOnlyList<Migration> known, string what)
    {
        var byVersion = known.ToDictionary(m => m.Version);
        var list = applied.OrderBy(m => m.Version).ToList();
        var unknown = list.Where(m => !byVersion.ContainsKey(m.Version)).ToList();
        if (unknown.Count > 0)
        {
            throw new ConfigException(
                $"{what} records migration {string.Join(", ", unknown.Select(m => $"{m.Version:D4}_{m.Name}"))}, which this medic {MedicVersion.Current} does not know: a newer Medic wrote it, and migrations only go forward",
                "run the Medic release that wrote it (or a newer one), or restore a backup taken before that upgrade");
        }

        if (list.FirstOrDefault(m => !string.Equals(m.Checksum, byVersion[m.Version].Checksum, StringComparison.Ordinal)) is { } changed)
        {
            throw new ConfigException(
                $"migration {changed.Version:D4}_{changed.Name} was changed after it was applied to {what} (its recorded checksum differs from this medic's)",
                "run the Medic release that applied it; a schema change goes into a new migration, never into an applied one");
        }
    }

    public async Task<IReadOnlyList<AppliedMigration>> AppliedAsync(CancellationToken ct = default)
    {
        await using var connection = await db.OpenAsync(ct);
        if (await connection.ExecuteScalarAsync<long>(db.Dialect.ExistsTable("schema_migrations")) == 0) return [];
        return (await connection.QueryAsync<(long Version, string Name, string Checksum)>("SELECT version, name, checksum FROM schema_migrations ORDER BY version"))
            .Select(m => new AppliedMigration((int)m.Version, m.Name, m.Checksum)).ToList();
    }

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

        CheckApplied(await AppliedAsync(ct), Known, "the database " + db.Display);
        var count = 0;
        foreach (var migration in Known)
        {
            var applied = await db.WriteAsync(async (connection, tx) =>
            {
                if (db.Dialect.MigrationLock is { } lockSql)
                {
                    await connection.ExecuteAsync(lockSql, transaction: tx);
                }

                await connection.ExecuteAsync(CreateTableSql, transaction: tx);
                var checksum = await connection.QuerySingleOrDefaultAsync<string>(
                    "SELECT checksum FROM schema_migrations WHERE version = @Version", new { migration.Version }, tx);
                if (checksum is not null)
                {
                    if (!string.Equals(checksum, migration.Checksum, StringComparison.Ordinal))
                    {
                        // Checked before the loop too; here it also covers a second process applying concurrently.
                        CheckApplied([new AppliedMigration(migration.Version, migration.Name, checksum)], Known, "the database " + db.Display);
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
