using Dapper;
using Medic.Server.Common;
using Microsoft.Data.Sqlite;

namespace Medic.Server.Storage;

/// <summary>
/// Refuses to start on a SQLite database that cannot be trusted: a corrupted file
/// (<c>PRAGMA quick_check</c>), or a missing one next to the keys of an existing installation,
/// which would otherwise silently become a fresh install with no users, servers or audit history.
/// Runs before anything opens the database or creates a key.
/// </summary>
internal static class StartupChecks
{
    public const string AcceptFreshDatabaseVariable = "MEDIC_ACCEPT_FRESH_DATABASE";

    public static async Task VerifyDatabaseAsync(Database db, MedicOptions options, CancellationToken ct = default)
    {
        if (db.SqlitePath is not { } file)
        {
            return;
        }

        var info = new FileInfo(file);
        if (!info.Exists || info.Length == 0)
        {
            var state = new[] { options.MasterKeyPath, options.TaskSigningKeyPath }.Where(File.Exists).ToList();
            if (state.Count > 0 && !options.AcceptFreshDatabase)
            {
                throw new ConfigException(
                    $"the database {file} is {(info.Exists ? "empty" : "missing")}, but {string.Join(" and ", state)} belong to an existing installation; " +
                    "starting would silently make a fresh install with no users, servers or audit history",
                    $"restore {file} from your backup (or check the 'database' and data directory settings); to start over with an empty database and keep the keys, " +
                    $"start once with {AcceptFreshDatabaseVariable}=1");
            }

            return;
        }

        IReadOnlyList<string> problems;
        try
        {
            await using var c = await db.OpenAsync(ct);
            problems = (await c.QueryAsync<string>("PRAGMA quick_check(5)")).ToList();
        }
        catch (SqliteException ex) when (ex.SqliteErrorCode is 11 or 26)
        {
            // SQLITE_CORRUPT, SQLITE_NOTADB: the file is damaged beyond opening.
            throw Corrupted(file, ex.Message);
        }

        if (problems is not ["ok"])
        {
            throw Corrupted(file, string.Join("; ", problems));
        }
    }

    private static ConfigException Corrupted(string file, string finding) => new(
        $"the database {file} is corrupted (SQLite quick_check: {finding}); Medic will not start on it",
        $"stop Medic, move {file} (and {file}-wal, {file}-shm) aside, copy your last backup to {file}, and start again");
}
