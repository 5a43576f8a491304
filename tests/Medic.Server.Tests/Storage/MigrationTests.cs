using System.Net;
using Medic.Contracts;
using Medic.Server.Common;
using Medic.Server.Storage;
using Medic.Server.Hosting;
using Medic.Server.Tests.Infrastructure;
using Microsoft.Extensions.Logging;

namespace Medic.Server.Tests.Storage;

public sealed class MigrationTests
{
    [Theory]
    [MemberData(nameof(Dialects.Both), MemberType = typeof(Dialects))]
    public async Task Migrations_create_the_schema_on_an_empty_database(string dialect)
    {
        using var dir = new TempDirectory();
        await using var db = await TestDatabase.CreateAsync(dialect, dir.Path);
        (await db.TablesAsync()).ShouldBeEmpty();
        var migrator = new Migrator(db.Database);

        var applied = await migrator.ApplyAsync();

        applied.ShouldBe(migrator.Known.Count);
        migrator.Known.Count.ShouldBeGreaterThan(0);
        var tables = await db.TablesAsync();
        foreach (var table in new[] { "schema_migrations", "tenants", "users", "api_tokens", "audit_log", "audit_heads" })
        {
            tables.ShouldContain(table);
        }
        var recorded = await db.QueryAsync<int>("SELECT version FROM schema_migrations ORDER BY version");
        recorded.ShouldBe(migrator.Known.Select(m => m.Version).ToList());
        var status = await migrator.StatusAsync();
        status.Pending.ShouldBeEmpty();
        status.Applied.ShouldBe(migrator.Known.Count);
    }

    [Fact]
    public async Task The_embedded_SQLite_is_the_current_release_named_in_DEPENDENCIES()
    {
        // docs/DEPENDENCIES.md names the SQLite that `medic up` runs; a package downgrade fails here.
        using var dir = new TempDirectory();
        await using var db = await TestDatabase.CreateAsync(TestDatabase.Sqlite, dir.Path);

        var version = Version.Parse(await db.ScalarAsync<string>("SELECT sqlite_version()"));

        version.ShouldBeGreaterThanOrEqualTo(new Version(3, 53, 4));
    }

    [Theory]
    [MemberData(nameof(Dialects.Both), MemberType = typeof(Dialects))]
    public async Task Applying_migrations_a_second_time_changes_nothing(string dialect)
    {
        using var dir = new TempDirectory();
        await using var db = await TestDatabase.CreateAsync(dialect, dir.Path);
        await new Migrator(db.Database).ApplyAsync();
        var before = await db.SnapshotAsync("schema_migrations");

        var applied = await new Migrator(db.Database).ApplyAsync();

        applied.ShouldBe(0);
        (await db.SnapshotAsync("schema_migrations")).ShouldBe(before);
    }

    [Theory]
    [MemberData(nameof(Dialects.Both), MemberType = typeof(Dialects))]
    public async Task A_migration_changed_after_it_was_applied_is_refused(string dialect)
    {
        using var dir = new TempDirectory();
        await using var db = await TestDatabase.CreateAsync(dialect, dir.Path);
        var migrator = new Migrator(db.Database);
        await migrator.ApplyAsync();
        var first = migrator.Known[0];
        // What the database holds when the shipped file of an applied migration was edited afterwards.
        await db.ExecuteAsync("UPDATE schema_migrations SET checksum = @checksum WHERE version = @version",
            new { checksum = new string('0', 64), version = first.Version });

        var refusal = await Should.ThrowAsync<ConfigException>(() => new Migrator(db.Database).ApplyAsync());

        refusal.Message.ShouldContain($"{first.Version:D4}_{first.Name}");
        refusal.Message.ShouldContain("was changed after it was applied");
    }

    [Theory]
    [MemberData(nameof(Dialects.Both), MemberType = typeof(Dialects))]
    public async Task A_server_does_not_start_on_a_database_whose_applied_migration_was_changed(string dialect)
    {
        using var dir = new TempDirectory();
        await using var db = await TestDatabase.CreateAsync(dialect, dir.Path);
        await new Migrator(db.Database).ApplyAsync();
        await db.ExecuteAsync("UPDATE schema_migrations SET checksum = 'edited'");
        var options = new MedicOptions { DataDir = dir.Path, Database = db.Url, Listen = "http://127.0.0.1:0" };
        await using var app = MedicApp.Build(options, logging => logging.AddProvider(new CapturedLogs()));

        await Should.ThrowAsync<ConfigException>(() => MedicApp.PrepareAsync(app.Services));
    }

    [Theory]
    [MemberData(nameof(Dialects.Both), MemberType = typeof(Dialects))]
    public async Task Readyz_reports_every_known_migration_as_applied(string dialect)
    {
        await using var server = await MedicServer.StartAsync(dialect, logInAdmin: false);
        var known = new Migrator(server.Database.Database).Known.Count;

        using var response = await server.Client().GetAsync("/readyz");

        var ready = await response.ReadAsync(MedicJson.Default.ReadinessResponse);
        ready.Status.ShouldBe("ready");
        ready.Dialect.ShouldBe(dialect);
        ready.DatabaseReachable.ShouldBeTrue();
        ready.MigrationsKnown.ShouldBe(known);
        ready.MigrationsApplied.ShouldBe(known);
        ready.Problem.ShouldBeNull();
    }

    [Theory]
    [MemberData(nameof(Dialects.Both), MemberType = typeof(Dialects))]
    public async Task Readyz_answers_503_naming_a_migration_that_is_not_applied(string dialect)
    {
        await using var server = await MedicServer.StartAsync(dialect, logInAdmin: false);
        var first = new Migrator(server.Database.Database).Known[0];
        await server.Database.ExecuteAsync("DELETE FROM schema_migrations WHERE version = @version", new { version = first.Version });

        using var response = await server.Client().GetAsync("/readyz");

        var ready = await response.ReadAsync(MedicJson.Default.ReadinessResponse, HttpStatusCode.ServiceUnavailable);
        ready.Status.ShouldBe("migrations pending");
        ready.MigrationsApplied.ShouldBe(ready.MigrationsKnown - 1);
        ready.Problem.ShouldNotBeNull().ShouldContain(first.Version.ToString(System.Globalization.CultureInfo.InvariantCulture));
    }

    [Fact]
    public async Task Readyz_answers_503_when_the_database_is_gone()
    {
        await using var server = await MedicServer.StartAsync(TestDatabase.Postgres, logInAdmin: false);
        server.ServerFaultsExpected = true;
        var name = await server.Database.ScalarAsync<string>("SELECT current_database()");
        await using (var admin = new Npgsql.NpgsqlConnection(new Npgsql.NpgsqlConnectionStringBuilder(server.Database.Url) { Database = "postgres", Pooling = false }.ConnectionString))
        {
            await admin.OpenAsync();
            await using var drop = new Npgsql.NpgsqlCommand($"DROP DATABASE {name} WITH (FORCE)", admin);
            await drop.ExecuteNonQueryAsync();
        }

        using var response = await server.Client().GetAsync("/readyz");

        var ready = await response.ReadAsync(MedicJson.Default.ReadinessResponse, HttpStatusCode.ServiceUnavailable);
        ready.Status.ShouldBe("database unreachable");
        ready.DatabaseReachable.ShouldBeFalse();
        ready.Problem.ShouldNotBeNullOrWhiteSpace();
    }
}
