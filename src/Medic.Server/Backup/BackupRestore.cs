using System.Data.Common;
using System.Formats.Tar;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using Dapper;
using Medic.Contracts;
using Medic.Server.Common;
using Medic.Server.Storage;
using Npgsql;

namespace Medic.Server.Backup;

/// <summary>
/// Restores a backup offline (no server running on the target): into an empty data directory, and
/// for a PostgreSQL backup into an empty database, in one transaction. Nothing is left behind when it
/// fails: the directory is emptied again and the transaction rolled back. See docs/backup.md.
/// </summary>
public static partial class BackupRestore
{
    /// <summary>Restores <paramref name="file"/>; <paramref name="progress"/> receives one line per step.</summary>
    public static async Task<BackupManifest> RestoreAsync(string file, string passphrase, string dataDir, string? databaseUrl, Action<string> progress, CancellationToken ct = default)
    {
        dataDir = Path.GetFullPath(dataDir);
        if (Directory.Exists(dataDir) && Directory.EnumerateFileSystemEntries(dataDir).Any())
        {
            throw new ConfigException($"{dataDir} is not empty; a restore never writes over a data directory",
                "restore into a new or empty directory (--data DIR), then point Medic at it");
        }

        if (File.Exists(dataDir))
        {
            throw new ConfigException($"{dataDir} is a file, not a directory", "pass a new or empty directory with --data");
        }

        FileStream input;
        try
        {
            input = new FileStream(file, FileMode.Open, FileAccess.Read, FileShare.Read, 81920, FileOptions.SequentialScan);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new ConfigException($"cannot read {file}: {ex.Message}", "check the path of the backup file");
        }

        var createdDir = !Directory.Exists(dataDir);
        Database? db = null;
        DbConnection? connection = null;
        DbTransaction? tx = null;
        try
        {
            await using var _ = input;
            await using var plain = BackupCipher.Decrypt(input, passphrase);
            using var tar = new TarReader(plain, leaveOpen: true);
            var manifest = await ReadManifestAsync(tar, ct);
            progress($"Backup of {manifest.CreatedAt.UtcDateTime:yyyy-MM-dd HH:mm:ss} UTC by medic {manifest.MedicVersion} ({manifest.Dialect}, {manifest.Migrations.Count} migrations).");
            var dialect = manifest.Dialect == "postgres" ? SqlDialect.Postgres : SqlDialect.Sqlite;
            Migrator.CheckApplied(manifest.Migrations.Select(m => new AppliedMigration(m.Version, m.Name, m.Checksum)), Migrator.Load(dialect), "the backup");

            if (dialect.Kind == SqlDialectKind.Sqlite && databaseUrl is not null)
            {
                throw new ConfigException("this is a backup of a SQLite database, which is restored into the data directory", "drop --database; the restored data directory holds medic.db");
            }

            if (dialect.Kind == SqlDialectKind.Postgres)
            {
                if (databaseUrl is null)
                {
                    throw new ConfigException("this is a backup of a PostgreSQL database; it needs an empty PostgreSQL database to restore into",
                        "create one (createdb medic_restored) and pass it with --database 'Host=...;Database=medic_restored;Username=...'");
                }

                (db, connection, tx) = await OpenEmptyPostgresAsync(databaseUrl, ct);
                await CreateSchemaAsync(connection, tx, manifest, progress);
            }

            PrivateFiles.CreateDirectory(dataDir);
            var seen = new HashSet<string>(StringComparer.Ordinal);
            while (await NextAsync(tar, ct) is { } entry)
            {
                if (!seen.Add(entry.Name)) throw Damaged($"the archive holds {entry.Name} twice");
                if (entry.Name == BackupManifest.SqliteEntry && dialect.Kind == SqlDialectKind.Sqlite)
                {
                    var target = Path.Combine(dataDir, "medic.db");
                    await WriteFileAsync(target, entry, ct);
                    progress($"  database: {new FileInfo(target).Length / 1024.0 / 1024.0:0.0} MiB into {target}");
                }
                else if (TableEntry().Match(entry.Name) is { Success: true } m && connection is NpgsqlConnection pg)
                {
                    var index = int.Parse(m.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture);
                    var table = index < manifest.Tables.Count && manifest.Tables[index].Name == m.Groups[2].Value
                        ? manifest.Tables[index]
                        : throw Damaged($"{entry.Name} is not in the manifest");
                    await CopyTableAsync(pg, table, entry, ct);
                    progress($"  table {table.Name}: {table.Rows} rows");
                }
                else if (entry.Name == BackupManifest.SequencesEntry && connection is not null)
                {
                    var sequences = await JsonSerializer.DeserializeAsync(Data(entry), BackupJson.Default.ListBackupSequence, ct) ?? [];
                    foreach (var s in sequences)
                    {
                        await connection.ExecuteAsync("SELECT setval(format('%I', @Name)::regclass, @LastValue, true)", s, tx);
                    }
                }
                else if (entry.Name.StartsWith(BackupManifest.DataPrefix, StringComparison.Ordinal) && manifest.Files.Contains(entry.Name[BackupManifest.DataPrefix.Length..]))
                {
                    var relative = entry.Name[BackupManifest.DataPrefix.Length..];
                    if (!SafeRelativePath().IsMatch(relative) || relative.Split('/').Any(s => s is "." or ".."))
                    {
                        throw Damaged($"{entry.Name} is not a plain path inside the data directory");
                    }

                    var target = Path.Combine(dataDir, relative);
                    PrivateFiles.CreateDirectory(Path.GetDirectoryName(target)!);
                    await WriteFileAsync(target, entry, ct);
                }
                else
                {
                    throw Damaged($"unexpected entry {entry.Name}");
                }
            }

            // The tar's end is not the file's: only the last chunk's tag proves nothing was cut or appended.
            plain.ReadToEndAndVerify();
            var expected = manifest.Files.Select(f => BackupManifest.DataPrefix + f)
                .Concat(dialect.Kind == SqlDialectKind.Sqlite
                    ? [BackupManifest.SqliteEntry]
                    : manifest.Tables.Select((t, i) => BackupManifest.TableEntry(i, t.Name)).Append(BackupManifest.SequencesEntry));
            if (expected.FirstOrDefault(e => !seen.Contains(e)) is { } missing)
            {
                throw Damaged($"{missing} is missing");
            }

            if (tx is not null)
            {
                await tx.CommitAsync(ct);
                tx = null;
            }

            return manifest;
        }
        catch
        {
            if (tx is not null) await tx.RollbackAsync(CancellationToken.None);
            Clear(dataDir, createdDir);
            throw;
        }
        finally
        {
            if (tx is not null) await tx.DisposeAsync();
            if (connection is not null) await connection.DisposeAsync();
            if (db is not null) await db.DisposeAsync();
        }
    }

    private static async Task<BackupManifest> ReadManifestAsync(TarReader tar, CancellationToken ct)
    {
        var first = await NextAsync(tar, ct);
        if (first is null || first.Name != BackupManifest.EntryName)
        {
            throw Damaged("it does not start with manifest.json");
        }

        BackupManifest? manifest;
        try
        {
            manifest = await JsonSerializer.DeserializeAsync(Data(first), BackupJson.Default.BackupManifest, ct);
        }
        catch (JsonException ex)
        {
            throw Damaged("its manifest is not valid: " + ex.Message);
        }

        if (manifest is null) throw Damaged("its manifest is empty");
        if (manifest.Format != BackupManifest.CurrentFormat)
        {
            throw new ConfigException($"the backup's archive format {manifest.Format} is not one this medic reads (it reads {BackupManifest.CurrentFormat})",
                $"restore it with medic {manifest.MedicVersion} or newer");
        }

        if (manifest.Dialect is not ("sqlite" or "postgres")) throw Damaged($"its manifest names the unknown dialect '{manifest.Dialect}'");
        return manifest;
    }

    private static async Task<(Database, DbConnection, DbTransaction)> OpenEmptyPostgresAsync(string url, CancellationToken ct)
    {
        if (Database.Problem(url) is { } problem || url.StartsWith("sqlite:", StringComparison.OrdinalIgnoreCase))
        {
            throw new ConfigException($"--database is not a PostgreSQL connection string ({Database.Problem(url) ?? "it names SQLite"})",
                "pass 'Host=...;Database=...;Username=...' or postgres://user@host/db");
        }

        var db = Database.FromUrl(url);
        DbConnection? c = null;
        try
        {
            c = await db.OpenAsync(ct);
            var tables = await PostgresTables.ListAsync(c, null);
            if (tables.Count > 0)
            {
                throw new ConfigException($"the database {db.Display} is not empty ({tables.Count} tables, e.g. {tables[0]}); a restore never writes over a database",
                    "create an empty database (createdb NAME) and pass that with --database");
            }

            return (db, c, await c.BeginTransactionAsync(ct));
        }
        catch (Exception ex) when (ex is DbException or System.Net.Sockets.SocketException or TimeoutException)
        {
            if (c is not null) await c.DisposeAsync();
            await db.DisposeAsync();
            throw new ConfigException($"cannot open the database {db.Display}: {ex.Message}", "check the connection string and that PostgreSQL runs");
        }
        catch
        {
            if (c is not null) await c.DisposeAsync();
            await db.DisposeAsync();
            throw;
        }
    }

    /// <summary>The schema as the backed-up database had it: exactly its migrations, from this binary (their checksums matched).</summary>
    private static async Task CreateSchemaAsync(DbConnection c, DbTransaction tx, BackupManifest manifest, Action<string> progress)
    {
        var known = Migrator.Load(SqlDialect.Postgres).ToDictionary(m => m.Version);
        await c.ExecuteAsync(Migrator.CreateTableSql, transaction: tx);
        foreach (var m in manifest.Migrations)
        {
            await c.ExecuteAsync(known[m.Version].Sql, transaction: tx);
        }

        progress($"  schema: {manifest.Migrations.Count} migrations applied");
    }

    private static async Task CopyTableAsync(NpgsqlConnection c, BackupTable table, TarEntry entry, CancellationToken ct)
    {
        var columns = string.Join(", ", table.Columns.Select(PostgresTables.Quote));
        using var reader = new StreamReader(Data(entry), new UTF8Encoding(false, throwOnInvalidBytes: true));
        await using var writer = await c.BeginTextImportAsync($"COPY {PostgresTables.Quote(table.Name)} ({columns}) FROM STDIN", ct);
        var buffer = new char[64 * 1024];
        int n;
        while ((n = await reader.ReadAsync(buffer, ct)) > 0)
        {
            await writer.WriteAsync(buffer.AsMemory(0, n), ct);
        }
    }

    private static async Task WriteFileAsync(string path, TarEntry entry, CancellationToken ct)
    {
        await using var target = new FileStream(path, new FileStreamOptions
        {
            Mode = FileMode.CreateNew,
            Access = FileAccess.Write,
            UnixCreateMode = PrivateFiles.FileMode,
        });
        await Data(entry).CopyToAsync(target, ct);
    }

    private static Stream Data(TarEntry entry) => entry.DataStream ?? Stream.Null;

    private static async Task<TarEntry?> NextAsync(TarReader tar, CancellationToken ct)
    {
        try
        {
            var entry = await tar.GetNextEntryAsync(copyData: false, ct);
            if (entry is not null && entry.EntryType is not (TarEntryType.RegularFile or TarEntryType.V7RegularFile))
            {
                throw Damaged($"{entry.Name} is not a regular file");
            }

            return entry;
        }
        catch (Exception ex) when (ex is InvalidDataException or FormatException or EndOfStreamException)
        {
            throw Damaged("its archive is not valid: " + ex.Message);
        }
    }

    /// <summary>A backup that decrypted but does not hold what a backup holds: written by something else, or a bug.</summary>
    private static BackupFileException Damaged(string why) => new("the backup does not read as a Medic backup: " + why);

    /// <summary>Removes what the restore wrote: the directory was empty (or absent) when it began.</summary>
    private static void Clear(string dataDir, bool created)
    {
        if (!Directory.Exists(dataDir)) return;
        if (created)
        {
            Directory.Delete(dataDir, recursive: true);
            return;
        }

        foreach (var dir in Directory.EnumerateDirectories(dataDir)) Directory.Delete(dir, recursive: true);
        foreach (var f in Directory.EnumerateFiles(dataDir)) File.Delete(f);
    }

    [GeneratedRegex(@"^database/tables/(\d{3})_([a-z0-9_]+)\.copy$")]
    private static partial Regex TableEntry();

    [GeneratedRegex(@"^[A-Za-z0-9._@+-]+(/[A-Za-z0-9._@+-]+)*$")]
    private static partial Regex SafeRelativePath();
}
