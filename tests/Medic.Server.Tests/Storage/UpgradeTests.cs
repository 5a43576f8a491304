using Dapper;
using Medic.Contracts;
using Medic.Server.Audit;
using Medic.Server.Common;
using Medic.Server.Hosting;
using Medic.Server.Secrets;
using Medic.Server.Storage;
using Medic.Server.Tenancy;
using Medic.Server.Tests.Infrastructure;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Npgsql;

namespace Medic.Server.Tests.Storage;

/// <summary>
/// Upgrading the control plane: a database written by an earlier release (Fixtures/, made by
/// make-fixtures.sh with the schema as of migration 0026) takes today's migrations and reads back;
/// a database written by a newer release is refused, since migrations only go forward.
/// </summary>
public sealed class UpgradeTests
{
    private const string Fixture = "medic-0026";

    private static string FixturePath(string suffix) => Path.Combine(Repository.Root(), "tests", "Medic.Server.Tests", "Storage", "Fixtures", Fixture + suffix);

    [Theory]
    [MemberData(nameof(Dialects.Both), MemberType = typeof(Dialects))]
    public async Task A_database_written_by_the_0026_schema_upgrades_and_reads_back(string dialect)
    {
        using var dir = new TempDirectory();
        await using var db = await TestDatabase.CreateAsync(dialect, dir.Path);
        if (db.IsPostgres)
        {
            await using var c = new NpgsqlConnection(new NpgsqlConnectionStringBuilder(db.Url) { Pooling = false }.ConnectionString);
            await c.OpenAsync();
            await c.ExecuteAsync(await File.ReadAllTextAsync(FixturePath(".postgres.sql")));
        }
        else
        {
            File.Copy(FixturePath(".db"), db.SqliteFile);
        }

        File.Copy(FixturePath(".master.key"), Path.Combine(dir.Path, "master.key"));
        File.SetUnixFileMode(Path.Combine(dir.Path, "master.key"), UnixFileMode.UserRead | UnixFileMode.UserWrite);
        var before = await db.QueryAsync<int>("SELECT version FROM schema_migrations ORDER BY version");
        before.Max().ShouldBe(26);
        var options = new MedicOptions { DataDir = dir.Path, Database = db.Url, Listen = "http://127.0.0.1:0" };
        await using var app = MedicApp.Build(options, logging => logging.AddProvider(new CapturedLogs()));

        await MedicApp.PrepareAsync(app.Services);

        var known = new Migrator(db.Database).Known.Select(m => m.Version).ToList();
        (await db.QueryAsync<int>("SELECT version FROM schema_migrations ORDER BY version")).ShouldBe(known);
        var tenants = await app.Services.GetRequiredService<TenantStore>().ListAsync();
        tenants.Select(t => t.Slug).ShouldBe(["acme", "default"], ignoreOrder: true);
        var tenant = tenants.Single(t => t.Slug == "default");
        (await db.ScalarAsync<string>("SELECT title FROM incidents WHERE tenant_id = @id", new { id = tenant.Id })).ShouldBe("Fixture incident: disk full on web-1");
        (await app.Services.GetRequiredService<SecretStore>().RevealAsync(tenant.Id, "fixture-secret", CancellationToken.None)).ShouldBe("fixture-secret-value");
        var audit = app.Services.GetRequiredService<AuditLog>();
        foreach (var chain in await audit.ChainsAsync())
        {
            var verification = await audit.VerifyAsync(chain);
            verification.Ok.ShouldBeTrue($"chain {chain} broke at {verification.FirstBroken?.Seq}");
            verification.Checked.ShouldBeGreaterThan(0);
        }
    }

    [Theory]
    [MemberData(nameof(Dialects.Both), MemberType = typeof(Dialects))]
    public async Task A_database_written_by_a_newer_Medic_is_refused_at_start_and_left_unchanged(string dialect)
    {
        using var dir = new TempDirectory();
        await using var db = await TestDatabase.CreateAsync(dialect, dir.Path);
        await new Migrator(db.Database).ApplyAsync();
        await db.ExecuteAsync("INSERT INTO schema_migrations (version, name, checksum, applied_at) VALUES (9999, 'from_the_future', 'abc', '2030-01-01T00:00:00Z')");
        var before = await db.SnapshotAsync("schema_migrations");
        var options = new MedicOptions { DataDir = dir.Path, Database = db.Url, Listen = "http://127.0.0.1:0" };
        await using var app = MedicApp.Build(options, logging => logging.AddProvider(new CapturedLogs()));

        var refusal = await Should.ThrowAsync<ConfigException>(() => MedicApp.PrepareAsync(app.Services));

        refusal.Message.ShouldContain("9999_from_the_future");
        refusal.Message.ShouldContain("a newer Medic wrote it");
        refusal.Message.ShouldNotContain("\n");
        refusal.Remedy.ShouldContain("release that wrote it");
        (await db.SnapshotAsync("schema_migrations")).ShouldBe(before);
    }
}
