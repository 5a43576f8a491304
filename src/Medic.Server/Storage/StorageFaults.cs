using System.Data.Common;
using Microsoft.Data.Sqlite;
using Npgsql;

namespace Medic.Server.Storage;

/// <summary>
/// Database errors that mean "the database cannot take writes right now" (a full disk, a
/// read-only file or server) rather than a bug: callers get 503 with what to do, and the server
/// recovers by itself once the cause is gone.
/// </summary>
internal static partial class StorageFaults
{
    public const string Remedy =
        "free space on the disk that holds the database (or make it writable again); Medic recovers by itself without a restart, and GET /readyz says when";

    /// <summary>Whether <paramref name="ex"/> says the database cannot be written, as opposed to a bad statement or a bug.</summary>
    public static bool IsUnwritable(Exception ex) => ex switch
    {
        // SQLITE_FULL, SQLITE_IOERR (a failed write, often ENOSPC on the WAL or shared memory), SQLITE_READONLY.
        SqliteException { SqliteErrorCode: 13 or 10 or 8 } => true,
        PostgresException { SqlState: "53100" or "53000" or "25006" } => true,
        _ => false,
    };

    /// <summary>One sentence for a caller: what is wrong with the database.</summary>
    public static string Describe(Exception ex) => ex switch
    {
        SqliteException { SqliteErrorCode: 13 } => "The database cannot be written: the disk that holds it is full.",
        SqliteException { SqliteErrorCode: 10 } => "The database cannot be written: the disk reported an I/O error (most often because it is full).",
        SqliteException { SqliteErrorCode: 8 } => "The database cannot be written: the file or its directory is read-only.",
        PostgresException { SqlState: "53100" } => "The database cannot be written: the PostgreSQL server's disk is full.",
        PostgresException { SqlState: "25006" } => "The database cannot be written: PostgreSQL accepts only reads (a standby, or default_transaction_read_only).",
        DbException db => "The database cannot be written: " + db.Message,
        _ => "The database cannot be written: " + ex.Message,
    };
}
