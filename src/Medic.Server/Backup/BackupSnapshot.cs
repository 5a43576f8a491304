using System.Data;
using System.Formats.Tar;
using System.Text;
using System.Text.Json;
using Dapper;
using Medic.Contracts;
using Medic.Server.Common;
using Medic.Server.Secrets;
using Medic.Server.Storage;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Options;
using Npgsql;

namespace Medic.Server.Backup;

/// <summary>
/// Writes a consistent, unencrypted backup archive (tar) of the running control plane into a private
/// temporary directory: the database as of one moment (SQLite <c>VACUUM INTO</c>; PostgreSQL every
/// table in COPY format inside one REPEATABLE READ, READ ONLY transaction) and the key files the data
/// needs. The caller streams it out and deletes the directory. See docs/backup.md.
/// </summary>
internal sealed class BackupSnapshot(Database db, MasterKey masterKey, IOptions<MedicOptions> options, TimeProvider time)
{
    private readonly SemaphoreSlim _one = new(1, 1);

    /// <summary>Takes the one-backup-at-a-time slot; false when a backup is already being written.</summary>
    public Task<bool> TryEnterAsync(CancellationToken ct) => _one.WaitAsync(TimeSpan.Zero, ct);

    public void Exit() => _one.Release();

    /// <summary>
    /// A new 0700 directory inside the data directory (the archive holds the keys, so it never goes to
    /// a shared /tmp). Call it holding the slot: any other such directory is then left over from a
    /// backup a crash interrupted, and is removed.
    /// </summary>
    public string NewWorkDirectory()
    {
        foreach (var stale in Directory.EnumerateDirectories(options.Value.DataDir, ".backup-bak_*")) Directory.Delete(stale, recursive: true);
        var dir = Path.Combine(options.Value.DataDir, ".backup-" + Ids.New("bak"));
        Directory.CreateDirectory(dir, PrivateFiles.DirectoryMode);
        return dir;
    }

    /// <summary>Writes <c>backup.tar</c> in <paramref name="workDir"/> and returns its path and manifest.</summary>
    public async Task<(string Archive, BackupManifest Manifest)> WriteAsync(string workDir, CancellationToken ct)
    {
        var archive = Path.Combine(workDir, "backup.tar");
        var files = KeyFiles();
        var (dialect, migrations, tables, databaseEntries) = db.Dialect.Kind == SqlDialectKind.Sqlite
            ? await SnapshotSqliteAsync(workDir, ct)
            : await SnapshotPostgresAsync(workDir, ct);
        var manifest = new BackupManifest(BackupManifest.CurrentFormat, MedicVersion.Current, time.GetUtcNow(), dialect, migrations, tables, [.. files.Keys]);

        await using (var stream = NewPrivateFile(archive))
        await using (var tar = new TarWriter(stream, TarEntryFormat.Pax, leaveOpen: false))
        {
            await WriteEntryAsync(tar, BackupManifest.EntryName, JsonSerializer.SerializeToUtf8Bytes(manifest, BackupJson.Default.BackupManifest), ct);
            foreach (var (name, path) in databaseEntries)
            {
                await tar.WriteEntryAsync(path, name, ct);
                File.Delete(path); // halves the peak disk use of a large database
            }

            foreach (var (name, content) in files)
            {
                await WriteEntryAsync(tar, BackupManifest.DataPrefix + name, content, ct);
            }
        }

        return (archive, manifest);
    }

    /// <summary>
    /// The files of the data directory the data cannot do without, by their path inside it. The master
    /// and checkpoint keys are stored under their default names even when configured elsewhere (or, for
    /// the master key, given in <c>MEDIC_MASTER_KEY</c>): the key in use is what restored secrets need.
    /// </summary>
    private SortedDictionary<string, byte[]> KeyFiles()
    {
        var o = options.Value;
        var files = new SortedDictionary<string, byte[]>(StringComparer.Ordinal)
        {
            ["master.key"] = Encoding.UTF8.GetBytes(Convert.ToBase64String(masterKey.Key)),
        };
        void Add(string relative, string path)
        {
            var info = new FileInfo(path);
            if (info.Exists && info.LinkTarget is null) files[relative.Replace('\\', '/')] = File.ReadAllBytes(path);
        }

        Add("task-signing.key", o.TaskSigningKeyPath);
        Add("keys/audit-checkpoint.key", o.AuditCheckpointKeyPath);
        Add("agent.json", Path.Combine(o.DataDir, "agent.json"));
        Add("agent-policy.yaml", Path.Combine(o.DataDir, "agent-policy.yaml"));
        foreach (var dir in new[] { "keys", "ssh/keys", "ssh/known_hosts.d" })
        {
            var full = Path.Combine(o.DataDir, dir);
            if (!Directory.Exists(full)) continue;
            var recursive = dir != "keys";
            foreach (var path in Directory.EnumerateFiles(full, "*", recursive ? SearchOption.AllDirectories : SearchOption.TopDirectoryOnly))
            {
                var relative = Path.GetRelativePath(o.DataDir, path).Replace('\\', '/');
                if (dir == "keys" && !relative.EndsWith(".xml", StringComparison.Ordinal)) continue; // Data Protection's key ring
                Add(relative, path);
            }
        }

        return files;
    }

    private async Task<(string, IReadOnlyList<BackupMigration>, IReadOnlyList<BackupTable>, IReadOnlyList<(string, string)>)> SnapshotSqliteAsync(string workDir, CancellationToken ct)
    {
        var copy = Path.Combine(workDir, "medic.db");
        await using (var c = await db.OpenAsync(ct))
        {
            // One statement, one read transaction: the copy is the database as of one moment, and WAL lets writers go on meanwhile.
            await c.ExecuteAsync(new CommandDefinition("VACUUM INTO @copy", new { copy }, cancellationToken: ct));
        }

        PrivateFiles.Narrow(copy);
        var cs = new SqliteConnectionStringBuilder { DataSource = copy, Mode = SqliteOpenMode.ReadOnly, Pooling = false }.ToString();
        IReadOnlyList<BackupMigration> migrations;
        await using (var c = new SqliteConnection(cs))
        {
            await c.OpenAsync(ct);
            migrations = await MigrationsAsync(c, null);
        }

        return ("sqlite", migrations, [], [(BackupManifest.SqliteEntry, copy)]);
    }

    private async Task<(string, IReadOnlyList<BackupMigration>, IReadOnlyList<BackupTable>, IReadOnlyList<(string, string)>)> SnapshotPostgresAsync(string workDir, CancellationToken ct)
    {
        await using var c = (NpgsqlConnection)await db.OpenAsync(ct);
        await using var tx = await c.BeginTransactionAsync(IsolationLevel.RepeatableRead, ct);
        await c.ExecuteAsync("SET TRANSACTION READ ONLY", transaction: tx);
        var migrations = await MigrationsAsync(c, tx);
        var entries = new List<(string, string)>();
        var tables = new List<BackupTable>();
        var order = await PostgresTables.InDependencyOrderAsync(c, tx);
        for (var i = 0; i < order.Count; i++)
        {
            var table = order[i];
            var columns = (await c.QueryAsync<string>(
                "SELECT column_name FROM information_schema.columns WHERE table_schema = current_schema() AND table_name = @table AND is_generated = 'NEVER' ORDER BY ordinal_position",
                new { table }, tx)).ToList();
            var file = Path.Combine(workDir, $"{i:D3}.copy");
            long rows = 0;
            await using (var target = NewPrivateFile(file))
            await using (var writer = new StreamWriter(target, new UTF8Encoding(false)))
            using (var reader = await c.BeginTextExportAsync($"COPY {PostgresTables.Quote(table)} ({string.Join(", ", columns.Select(PostgresTables.Quote))}) TO STDOUT", ct))
            {
                var buffer = new char[64 * 1024];
                int n;
                while ((n = await reader.ReadAsync(buffer, ct)) > 0)
                {
                    rows += buffer.AsSpan(0, n).Count('\n');
                    await writer.WriteAsync(buffer.AsMemory(0, n), ct);
                }
            }

            tables.Add(new BackupTable(table, columns, rows));
            entries.Add((BackupManifest.TableEntry(i, table), file));
        }

        // Sequences are not transactional; their values now are at least those of the rows just read.
        var sequences = (await c.QueryAsync<(string Name, long? Value)>(
            "SELECT sequencename, last_value FROM pg_sequences WHERE schemaname = current_schema() ORDER BY sequencename", transaction: tx))
            .Where(s => s.Value is not null).Select(s => new BackupSequence(s.Name, s.Value!.Value)).ToList();
        var sequencesFile = Path.Combine(workDir, "sequences.json");
        await File.WriteAllBytesAsync(sequencesFile, JsonSerializer.SerializeToUtf8Bytes(sequences, BackupJson.Default.ListBackupSequence), ct);
        entries.Add((BackupManifest.SequencesEntry, sequencesFile));
        await tx.RollbackAsync(ct);
        return ("postgres", migrations, tables, entries);
    }

    private static async Task<IReadOnlyList<BackupMigration>> MigrationsAsync(System.Data.Common.DbConnection c, System.Data.Common.DbTransaction? tx) =>
        (await c.QueryAsync<(long Version, string Name, string Checksum)>("SELECT version, name, checksum FROM schema_migrations ORDER BY version", transaction: tx))
        .Select(m => new BackupMigration((int)m.Version, m.Name, m.Checksum)).ToList();

    private static async Task WriteEntryAsync(TarWriter tar, string name, byte[] content, CancellationToken ct)
    {
        var entry = new PaxTarEntry(TarEntryType.RegularFile, name) { DataStream = new MemoryStream(content), Mode = PrivateFiles.FileMode };
        await tar.WriteEntryAsync(entry, ct);
    }

    private static FileStream NewPrivateFile(string path) => new(path, new FileStreamOptions
    {
        Mode = FileMode.CreateNew,
        Access = FileAccess.Write,
        UnixCreateMode = PrivateFiles.FileMode,
        Options = FileOptions.Asynchronous,
    });
}
