using System.Text;
using Dapper;
using Medic.Server.Storage;
using Microsoft.Data.Sqlite;
using Npgsql;

namespace Medic.Server.Tests.Infrastructure;

/// <summary>
/// One empty database of its own for one test: a SQLite file in the test's data directory, or a
/// fresh PostgreSQL database (medic_t_…) on the server that ./test.sh starts, dropped afterwards.
/// <see cref="Database"/> is a separate connection source from the server's, as an operator (or an
/// attacker) with direct database access would have.
/// </summary>
public sealed class TestDatabase : IAsyncDisposable
{
    public const string Sqlite = "sqlite";
    public const string Postgres = "postgres";
    public const string PostgresVariable = "MEDIC_TEST_POSTGRES";

    private readonly string? _postgresAdmin;
    private readonly string? _postgresName;

    private TestDatabase(string dialect, string url, string? postgresAdmin, string? postgresName)
    {
        Dialect = dialect;
        Url = url;
        _postgresAdmin = postgresAdmin;
        _postgresName = postgresName;
        Database = global::Medic.Server.Storage.Database.FromUrl(url);
    }

    /// <summary>"sqlite" or "postgres".</summary>
    public string Dialect { get; }

    /// <summary>What goes into <c>MedicOptions.Database</c>.</summary>
    public string Url { get; }

    public Database Database { get; }

    public bool IsPostgres => Dialect == Postgres;

    /// <summary>The SQLite file, for tests that look at the bytes on disk.</summary>
    public string SqliteFile => IsPostgres ? throw new InvalidOperationException("not a SQLite database") : Url["sqlite:".Length..];

    public static async Task<TestDatabase> CreateAsync(string dialect, string dataDir)
    {
        switch (dialect)
        {
            case Sqlite:
                return new TestDatabase(Sqlite, "sqlite:" + Path.Combine(dataDir, "medic.db"), null, null);
            case Postgres:
                var admin = Environment.GetEnvironmentVariable(PostgresVariable);
                if (string.IsNullOrWhiteSpace(admin))
                {
                    throw new InvalidOperationException(
                        $"{PostgresVariable} is not set, so the PostgreSQL half of this test cannot run: run ./test.sh, which starts a throwaway PostgreSQL 15 and sets it.");
                }

                var name = "medic_t_" + Guid.NewGuid().ToString("N")[..20];
                await using (var c = new NpgsqlConnection(AdminConnectionString(admin)))
                {
                    await c.OpenAsync();
                    await c.ExecuteAsync($"CREATE DATABASE {name}");
                }

                var url = new NpgsqlConnectionStringBuilder(admin) { Database = name, MaxPoolSize = 20 }.ConnectionString;
                return new TestDatabase(Postgres, url, admin, name);
            default:
                throw new ArgumentOutOfRangeException(nameof(dialect), dialect, "expected 'sqlite' or 'postgres'");
        }
    }

    public async Task<int> ExecuteAsync(string sql, object? parameters = null)
    {
        await using var c = await Database.OpenAsync();
        return await c.ExecuteAsync(sql, parameters);
    }

    public async Task<T> ScalarAsync<T>(string sql, object? parameters = null)
    {
        await using var c = await Database.OpenAsync();
        return (await c.ExecuteScalarAsync<T>(sql, parameters))!;
    }

    public async Task<IReadOnlyList<T>> QueryAsync<T>(string sql, object? parameters = null)
    {
        await using var c = await Database.OpenAsync();
        return (await c.QueryAsync<T>(sql, parameters)).ToList();
    }

    /// <summary>Every user table of the database.</summary>
    public Task<IReadOnlyList<string>> TablesAsync() => QueryAsync<string>(IsPostgres
        ? "SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema() AND table_type = 'BASE TABLE' ORDER BY table_name"
        : "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name");

    /// <summary>
    /// The rows of <paramref name="table"/> matching <paramref name="where"/>, each as one line of
    /// "column=value" pairs in a stable order: a snapshot to compare before and after a request.
    /// </summary>
    public async Task<string> SnapshotAsync(string table, string where = "1=1", object? parameters = null)
    {
        await using var c = await Database.OpenAsync();
        var rows = await c.QueryAsync($"SELECT * FROM {table} WHERE {where}", parameters);
        var lines = rows
            .Cast<IDictionary<string, object?>>()
            .Select(r => string.Join(" | ", r.OrderBy(kv => kv.Key, StringComparer.Ordinal).Select(kv => $"{kv.Key}={Format(kv.Value)}")))
            .OrderBy(l => l, StringComparer.Ordinal);
        return table + ":\n" + string.Join("\n", lines);
    }

    /// <summary>Every value of every row of every table as text, for searching the whole database.</summary>
    public async Task<string> DumpAllAsync()
    {
        var all = new StringBuilder();
        foreach (var table in await TablesAsync())
        {
            all.AppendLine(await SnapshotAsync(table));
        }

        return all.ToString();
    }

    private static string Format(object? value) => value switch
    {
        null => "NULL",
        DateTime dt => dt.ToString("O"),
        DateTimeOffset dto => dto.ToString("O"),
        byte[] bytes => Convert.ToHexString(bytes),
        _ => Convert.ToString(value, System.Globalization.CultureInfo.InvariantCulture) ?? "",
    };

    private static string AdminConnectionString(string admin) =>
        new NpgsqlConnectionStringBuilder(admin) { Pooling = false }.ConnectionString;

    public async ValueTask DisposeAsync()
    {
        await Database.DisposeAsync();
        if (_postgresName is not null)
        {
            await using var c = new NpgsqlConnection(AdminConnectionString(_postgresAdmin!));
            await c.OpenAsync();
            await c.ExecuteAsync($"DROP DATABASE IF EXISTS {_postgresName} WITH (FORCE)");
        }
        else
        {
            // Pooled SQLite connections keep the file open; let the temporary directory really go.
            SqliteConnection.ClearAllPools();
        }
    }
}
