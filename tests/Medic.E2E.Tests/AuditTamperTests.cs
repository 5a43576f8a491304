using System.Data.Common;
using System.Text.Json;
using Microsoft.Data.Sqlite;
using Npgsql;

namespace Medic.E2E.Tests;

/// <summary>
/// An attacker with database access edits, deletes or reorders audit rows behind Medic's back
/// (dropping the append-only triggers first); <c>medic audit verify</c> must fail and name the entry.
/// </summary>
public sealed class AuditTamperTests : IDisposable
{
    private const string AdminPassword = "tamper-test-password-1";

    private readonly MedicHome _home = new();

    public static TheoryData<string, string> Cases() => new()
    {
        { "sqlite", "edit" }, { "sqlite", "delete" }, { "sqlite", "reorder" },
        { "postgres", "edit" }, { "postgres", "delete" }, { "postgres", "reorder" },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public async Task Tampering_with_an_audit_row_makes_verify_fail_and_name_the_entry(string dialect, string tampering)
    {
        await using var postgres = dialect == "postgres" ? await PostgresDatabase.CreateAsync() : null;
        var data = Path.Combine(_home.Home, "data");
        if (postgres is not null) _home.Environment["MEDIC_DATABASE"] = postgres.ConnectionString;
        _home.Environment["MEDIC_ADMIN_PASSWORD"] = AdminPassword;

        await using var server = await RunningServer.StartAsync(_home, "server", "--data", data);
        (await _home.RunWithInputAsync(AdminPassword + "\n", "login", "--server", server.Url, "--password-stdin")).ExitCode.ShouldBe(0);
        (await _home.RunAsync("tokens", "create", "--name", "one")).ExitCode.ShouldBe(0);
        (await _home.RunAsync("tokens", "create", "--name", "two")).ExitCode.ShouldBe(0);
        var chain = JsonDocument.Parse((await _home.RunAsync("whoami", "--json")).Stdout).RootElement.GetProperty("tenant_id").GetString()!;

        var clean = await _home.RunAsync("audit", "verify");
        clean.ExitCode.ShouldBe(0, clean.ToString());

        await using (var db = Open(dialect, data, postgres))
        {
            // The triggers refuse the change as long as they are there.
            await Should.ThrowAsync<DbException>(() => Execute(db, "UPDATE audit_log SET actor = 'user:mallory' WHERE chain = @chain AND seq = 3", chain));

            await Execute(db, dialect == "sqlite"
                ? "DROP TRIGGER audit_log_no_update; DROP TRIGGER audit_log_no_delete;"
                : "ALTER TABLE audit_log DISABLE TRIGGER USER", chain);
            var sql = tampering switch
            {
                "edit" => "UPDATE audit_log SET actor = 'user:mallory' WHERE chain = @chain AND seq = 3",
                "delete" => "DELETE FROM audit_log WHERE chain = @chain AND seq = 3",
                _ => "UPDATE audit_log SET seq = -1 WHERE chain = @chain AND seq = 3; " +
                     "UPDATE audit_log SET seq = 3 WHERE chain = @chain AND seq = 4; " +
                     "UPDATE audit_log SET seq = 4 WHERE chain = @chain AND seq = -1;",
            };
            (await Execute(db, sql, chain)).ShouldBeGreaterThan(0);
        }

        var verify = await _home.RunAsync("audit", "verify");

        verify.ExitCode.ShouldBe(1, verify.ToString());
        verify.Stdout.ShouldContain("BROKEN");
        verify.Stdout.ShouldContain("entry 3");
        verify.Stderr.ShouldContain("tampered");
    }

    private static DbConnection Open(string dialect, string data, PostgresDatabase? postgres)
    {
        DbConnection c = dialect == "sqlite"
            ? new SqliteConnection($"Data Source={Path.Combine(data, "medic.db")}")
            : new NpgsqlConnection(postgres!.ConnectionString);
        c.Open();
        return c;
    }

    private static async Task<int> Execute(DbConnection c, string sql, string chain)
    {
        await using var cmd = c.CreateCommand();
        cmd.CommandText = sql;
        var p = cmd.CreateParameter();
        p.ParameterName = "chain";
        p.Value = chain;
        cmd.Parameters.Add(p);
        return await cmd.ExecuteNonQueryAsync();
    }

    public void Dispose() => _home.Dispose();
}
