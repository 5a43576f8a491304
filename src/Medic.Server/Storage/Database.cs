using System.Data.Common;
using System.Diagnostics;
using System.Diagnostics.Metrics;
using Microsoft.Data.Sqlite;
using Npgsql;

namespace Medic.Server.Storage;

public enum SqlDialectKind { Sqlite, Postgres }

/// <summary>
/// Opens connections to Medic's one database. <c>sqlite:PATH</c> selects the embedded SQLite
/// default; anything else is read as a PostgreSQL connection string (key=value or postgres:// URL).
/// </summary>
public sealed class Database : IAsyncDisposable
{
    private readonly string _connectionString;
    private readonly NpgsqlDataSource? _postgres;

    // SQLite has one writer; serializing our own writers in-process avoids busy retries entirely.
    private readonly SemaphoreSlim _sqliteWriter = new(1, 1);

    private Database(SqlDialect dialect, string connectionString, NpgsqlDataSource? postgres, string display)
    {
        SqlitePath = postgres is null ? display["sqlite:".Length..] : null;
        Dialect = dialect;
        _connectionString = connectionString;
        _postgres = postgres;
        Display = display;
    }

    public SqlDialect Dialect { get; }

    /// <summary>Where transactions' durations go (<c>/metrics</c>); null when nothing measures them.</summary>
    internal Histogram<double>? TransactionDuration { get; set; }

    /// <summary>The database file in SQLite mode; null on PostgreSQL.</summary>
    public string? SqlitePath { get; }

    /// <summary>The database location without any password, for logs and <c>medic doctor</c>.</summary>
    public string Display { get; }

    /// <summary>Why <paramref name="url"/> cannot name a database, or null when it can.</summary>
    public static string? Problem(string url)
    {
        if (url.StartsWith("sqlite:", StringComparison.OrdinalIgnoreCase))
        {
            return url.Length > "sqlite:".Length ? null : "sqlite: needs a file path";
        }

        try
        {
            var cs = url.StartsWith("postgres://", StringComparison.OrdinalIgnoreCase) || url.StartsWith("postgresql://", StringComparison.OrdinalIgnoreCase)
                ? PostgresUrl.ToConnectionString(url)
                : url;
            var builder = new NpgsqlConnectionStringBuilder(cs);
            return string.IsNullOrEmpty(builder.Host) ? "the PostgreSQL connection string names no Host" : null;
        }
        catch (Exception ex) when (ex is ArgumentException or UriFormatException or FormatException or KeyNotFoundException)
        {
            return "neither 'sqlite:PATH' nor a PostgreSQL connection string (" + ex.Message + ")";
        }
    }

    public static Database FromUrl(string url)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(url);
        DapperSetup.EnsureConfigured();
        if (url.StartsWith("sqlite:", StringComparison.OrdinalIgnoreCase))
        {
            var path = Path.GetFullPath(url["sqlite:".Length..]);
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            SQLitePCL.Batteries_V2.Init();
            var cs = new SqliteConnectionStringBuilder
            {
                DataSource = path,
                Mode = SqliteOpenMode.ReadWriteCreate,
                Cache = SqliteCacheMode.Private,
                DefaultTimeout = 30,
            }.ToString();
            return new Database(SqlDialect.Sqlite, cs, null, "sqlite:" + path);
        }

        string cs2;
        if (url.StartsWith("postgres://", StringComparison.OrdinalIgnoreCase) || url.StartsWith("postgresql://", StringComparison.OrdinalIgnoreCase))
        {
            cs2 = PostgresUrl.ToConnectionString(url);
        }
        else
        {
            cs2 = url;
        }

        NpgsqlConnectionStringBuilder builder;
        try
        {
            builder = new NpgsqlConnectionStringBuilder(cs2);
        }
        catch (ArgumentException ex)
        {
            throw new InvalidOperationException($"The database setting is neither 'sqlite:PATH' nor a PostgreSQL connection string: {ex.Message}", ex);
        }

        var display = $"postgres://{builder.Username}@{builder.Host}:{builder.Port}/{builder.Database}";
        return new Database(SqlDialect.Postgres, cs2, NpgsqlDataSource.Create(cs2), display);
    }

    public async Task<DbConnection> OpenAsync(CancellationToken ct = default)
    {
        if (_postgres is not null)
        {
            return await _postgres.OpenConnectionAsync(ct);
        }

        var connection = new SqliteConnection(_connectionString);
        await connection.OpenAsync(ct);
        connection.CreateFunction(SqlDialect.SqliteLowerFunction, (string? text) => text?.ToLowerInvariant(), isDeterministic: true);
        await using var pragma = connection.CreateCommand();
        pragma.CommandText = "PRAGMA foreign_keys = ON; PRAGMA busy_timeout = 10000; PRAGMA synchronous = NORMAL;";
        await pragma.ExecuteNonQueryAsync(ct);
        return connection;
    }

    /// <summary>
    /// Runs several reads against one consistent snapshot of the database: REPEATABLE READ on
    /// PostgreSQL, a deferred read transaction on SQLite (WAL keeps writers going meanwhile). Reads
    /// that must agree with each other (a chain head and its entries) go through here; separate
    /// statements would each see a different moment.
    /// </summary>
    public async Task<T> ReadSnapshotAsync<T>(Func<DbConnection, DbTransaction, Task<T>> work, CancellationToken ct = default)
    {
        var started = Stopwatch.GetTimestamp();
        try
        {
            return await ReadSnapshotUnmeasuredAsync(work, ct);
        }
        finally
        {
            TransactionDuration?.Record(Stopwatch.GetElapsedTime(started).TotalSeconds, new KeyValuePair<string, object?>("kind", "snapshot"));
        }
    }

    private async Task<T> ReadSnapshotUnmeasuredAsync<T>(Func<DbConnection, DbTransaction, Task<T>> work, CancellationToken ct)
    {
        await using var connection = await OpenAsync(ct);
        await using var tx = connection is SqliteConnection sqlite
            ? sqlite.BeginTransaction(System.Data.IsolationLevel.Serializable, deferred: true)
            : await connection.BeginTransactionAsync(System.Data.IsolationLevel.RepeatableRead, ct);
        var result = await work(connection, tx);
        await tx.RollbackAsync(ct);
        return result;
    }

    /// <summary>
    /// Runs <paramref name="work"/> in one transaction and commits it. On SQLite the transaction
    /// takes the write lock at once (BEGIN IMMEDIATE) and in-process writers queue on a semaphore.
    /// </summary>
    public async Task<T> WriteAsync<T>(Func<DbConnection, DbTransaction, Task<T>> work, CancellationToken ct = default)
    {
        var started = Stopwatch.GetTimestamp();
        try
        {
            return await WriteUnmeasuredAsync(work, ct);
        }
        finally
        {
            TransactionDuration?.Record(Stopwatch.GetElapsedTime(started).TotalSeconds, new KeyValuePair<string, object?>("kind", "write"));
        }
    }

    private async Task<T> WriteUnmeasuredAsync<T>(Func<DbConnection, DbTransaction, Task<T>> work, CancellationToken ct)
    {
        var sqlite = Dialect.Kind == SqlDialectKind.Sqlite;
        if (sqlite)
        {
            await _sqliteWriter.WaitAsync(ct);
        }

        try
        {
            var connection = await OpenAsync(ct);
            DbTransaction? tx = null;
            var failed = false;
            try
            {
                tx = await connection.BeginTransactionAsync(ct);
                var result = await work(connection, tx);
                await tx.CommitAsync(ct);
                await tx.DisposeAsync();
                return result;
            }
            catch
            {
                failed = true;
                if (tx is not null)
                {
                    await AbandonAsync(connection, tx);
                }

                throw;
            }
            finally
            {
                try
                {
                    await connection.DisposeAsync();
                }
                catch (DbException) when (failed)
                {
                    // The error that made the write fail is the one worth reporting.
                }
            }
        }
        finally
        {
            if (sqlite)
            {
                _sqliteWriter.Release();
            }
        }
    }

    /// <summary>
    /// Rolls back a failed write. SQLite rolls the transaction back by itself on a full disk or an
    /// I/O error, but Microsoft.Data.Sqlite does not notice and issues ROLLBACK again when the
    /// transaction is disposed, which fails ("no transaction is active"), hides the error that says
    /// what is wrong and leaves the connection open. An empty transaction gives that ROLLBACK
    /// something to end. Newer versions of the driver notice it themselves and mark the transaction
    /// completed (its connection is then null): nothing is left to end.
    /// </summary>
    private static async Task AbandonAsync(DbConnection connection, DbTransaction tx)
    {
        try
        {
            if (connection is SqliteConnection sqlite && tx is SqliteTransaction { Connection: not null } pending && SQLitePCL.raw.sqlite3_get_autocommit(sqlite.Handle) != 0)
            {
                await using var begin = sqlite.CreateCommand();
                begin.Transaction = pending;
                begin.CommandText = "BEGIN";
                await begin.ExecuteNonQueryAsync();
            }

            await tx.DisposeAsync();
        }
        catch (Exception ex) when (ex is DbException or InvalidOperationException)
        {
            // Best effort: the caller rethrows the error that made the write fail.
        }
    }

    public async Task WriteAsync(Func<DbConnection, DbTransaction, Task> work, CancellationToken ct = default) =>
        await WriteAsync<bool>(async (c, t) => { await work(c, t); return true; }, ct);

    public async ValueTask DisposeAsync()
    {
        if (_postgres is not null)
        {
            await _postgres.DisposeAsync();
        }

        _sqliteWriter.Dispose();
    }
}

internal static class PostgresUrl
{
    /// <summary>Turns <c>postgres://user:pass@host:port/db?sslmode=require</c> into an Npgsql connection string.</summary>
    public static string ToConnectionString(string url)
    {
        var uri = new Uri(url);
        var b = new NpgsqlConnectionStringBuilder
        {
            Host = uri.Host,
            Port = uri.IsDefaultPort || uri.Port <= 0 ? 5432 : uri.Port,
            Database = Uri.UnescapeDataString(uri.AbsolutePath.TrimStart('/')),
        };
        if (!string.IsNullOrEmpty(uri.UserInfo))
        {
            var parts = uri.UserInfo.Split(':', 2);
            b.Username = Uri.UnescapeDataString(parts[0]);
            if (parts.Length == 2)
            {
                b.Password = Uri.UnescapeDataString(parts[1]);
            }
        }

        foreach (var pair in uri.Query.TrimStart('?').Split('&', StringSplitOptions.RemoveEmptyEntries))
        {
            var kv = pair.Split('=', 2);
            b[Uri.UnescapeDataString(kv[0]).Replace('_', ' ')] = kv.Length == 2 ? Uri.UnescapeDataString(kv[1]) : "true";
        }

        return b.ConnectionString;
    }
}
