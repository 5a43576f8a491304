using System.Net;
using System.Text.Json;
using Medic.Contracts;
using Medic.Server.Audit;
using Medic.Server.Backup;
using Medic.Server.Common;
using Medic.Server.Hosting;
using Medic.Server.Secrets;
using Medic.Server.Tests.Infrastructure;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Medic.Server.Tests.Backup;

/// <summary>
/// A backup taken through the running server and restored into a new data directory (and, on
/// PostgreSQL, a new empty database) is the same instance: its data reads back, its secrets open and
/// its audit chains verify. What a restore refuses, it refuses before writing anything.
/// </summary>
public sealed class BackupRestoreTests
{
    private const string Passphrase = "a long backup passphrase";

    [Theory]
    [MemberData(nameof(Dialects.Both), MemberType = typeof(Dialects))]
    public async Task A_backup_restored_into_a_new_data_directory_serves_the_same_data_secrets_and_audit_chain(string dialect)
    {
        using var work = new TempDirectory();
        var file = Path.Combine(work.Path, "medic.backup");
        string tenantId;
        await using (var source = await MedicServer.StartAsync(dialect))
        {
            (await source.Admin.PostAsync("/api/v1/incidents", Json.Raw("""{"title":"Backed-up incident: disk full on web-1","severity":"critical"}"""))).StatusCode.ShouldBe(HttpStatusCode.Created);
            (await source.Admin.PutAsync("/api/v1/secrets/smtp-password", Json.Raw("""{"value":"s3cret-value-for-the-backup"}"""))).IsSuccessStatusCode.ShouldBeTrue();
            tenantId = (await source.Service<global::Medic.Server.Tenancy.TenantStore>().FindBySlugAsync("default"))!.Id;

            using var response = await source.Admin.PostAsync("/api/v1/backup", null);

            response.StatusCode.ShouldBe(HttpStatusCode.OK, await response.Content.ReadAsStringAsync());
            response.Content.Headers.ContentType!.MediaType.ShouldBe("application/x-tar");
            await using (var target = File.Create(file))
            await using (var sealing = BackupCipher.Encrypt(target, Passphrase))
            {
                await (await response.Content.ReadAsStreamAsync()).CopyToAsync(sealing);
            }

            // The backup is audited, and its temporary files are gone.
            var audit = await source.Admin.GetStringAsync("/api/v1/audit?action=backup.create");
            audit.ShouldContain("backup.create");
            Directory.EnumerateDirectories(source.DataDir, ".backup-*").ShouldBeEmpty();
        }

        var restoredDir = Path.Combine(work.Path, "restored");
        await using var restoredDb = dialect == TestDatabase.Postgres ? await TestDatabase.CreateAsync(dialect, restoredDir) : null;
        var lines = new List<string>();

        var manifest = await BackupRestore.RestoreAsync(file, Passphrase, restoredDir, restoredDb?.Url, lines.Add);

        manifest.Dialect.ShouldBe(dialect);
        lines.ShouldNotBeEmpty();
        foreach (var key in new[] { "master.key", "task-signing.key", "keys/audit-checkpoint.key" })
        {
            File.Exists(Path.Combine(restoredDir, key)).ShouldBeTrue(key);
            File.GetUnixFileMode(Path.Combine(restoredDir, key)).ShouldBe(UnixFileMode.UserRead | UnixFileMode.UserWrite);
        }

        Directory.EnumerateFiles(Path.Combine(restoredDir, "keys"), "key-*.xml").ShouldNotBeEmpty();

        var options = new MedicOptions { DataDir = restoredDir, Database = restoredDb?.Url, Listen = "http://127.0.0.1:0" };
        await using var app = MedicApp.Build(options, logging => logging.AddProvider(new CapturedLogs()));
        await MedicApp.PrepareAsync(app.Services);
        await app.StartAsync();
        try
        {
            var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.Single();
            using var anonymous = new HttpClient { BaseAddress = new Uri(address) };
            using var login = await anonymous.PostAsync("/api/v1/auth/token", Json.Body(new TokenLoginRequest(MedicServer.AdminUsername, MedicServer.AdminPassword, null, null, null), MedicJson.Default.TokenLoginRequest));
            var token = (await login.ReadAsync(MedicJson.Default.TokenCreatedResponse)).Secret;
            using var admin = new HttpClient { BaseAddress = new Uri(address) };
            admin.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", token);

            (await admin.GetStringAsync("/api/v1/incidents")).ShouldContain("Backed-up incident: disk full on web-1");
            (await app.Services.GetRequiredService<SecretStore>().RevealAsync(tenantId, "smtp-password", CancellationToken.None)).ShouldBe("s3cret-value-for-the-backup");
            using var verify = await admin.GetAsync("/api/v1/audit/verify?all=true");
            var report = await verify.ReadAsync(MedicJson.Default.AuditVerificationReport);
            report.Ok.ShouldBeTrue(JsonSerializer.Serialize(report, MedicJson.Default.AuditVerificationReport));
            report.Chains.ShouldContain(c => c.Chain == tenantId && c.Checked > 3);
            var log = app.Services.GetRequiredService<AuditLog>();
            (await log.ChainsAsync()).ShouldContain(tenantId);
        }
        finally
        {
            await app.StopAsync();
        }
    }

    [Theory]
    [MemberData(nameof(Dialects.Both), MemberType = typeof(Dialects))]
    public async Task Only_a_superadmin_may_back_up_the_instance(string dialect)
    {
        await using var server = await MedicServer.StartAsync(dialect);
        var tenantAdmin = await server.ClientForNewUserAsync(server.Admin, "second-admin", Role.Admin);

        using var response = await tenantAdmin.PostAsync("/api/v1/backup", null);

        await response.ShouldBeProblemAsync(HttpStatusCode.Forbidden);
        (await server.Admin.GetStringAsync("/api/v1/audit?action=POST%20%2Fapi%2Fv1%2Fbackup")).ShouldContain("denied");
    }

    [Fact]
    public async Task A_restore_into_a_non_empty_directory_is_refused_and_leaves_it_untouched()
    {
        using var work = new TempDirectory();
        var file = Path.Combine(work.Path, "any.backup");
        await File.WriteAllBytesAsync(file, [1, 2, 3]);
        var dir = Path.Combine(work.Path, "data");
        Directory.CreateDirectory(dir);
        await File.WriteAllTextAsync(Path.Combine(dir, "medic.db"), "what was here");

        var refusal = await Should.ThrowAsync<ConfigException>(() => BackupRestore.RestoreAsync(file, Passphrase, dir, null, _ => { }));

        refusal.Message.ShouldContain("is not empty");
        Directory.EnumerateFileSystemEntries(dir).ShouldHaveSingleItem();
        (await File.ReadAllTextAsync(Path.Combine(dir, "medic.db"))).ShouldBe("what was here");
    }

    [Fact]
    public async Task A_wrong_passphrase_restores_nothing()
    {
        await using var server = await MedicServer.StartAsync(TestDatabase.Sqlite);
        using var work = new TempDirectory();
        var file = Path.Combine(work.Path, "medic.backup");
        using (var response = await server.Admin.PostAsync("/api/v1/backup", null))
        await using (var target = File.Create(file))
        await using (var sealing = BackupCipher.Encrypt(target, Passphrase))
        {
            await (await response.Content.ReadAsStreamAsync()).CopyToAsync(sealing);
        }

        // A backup a crash interrupted left its directory behind; the next backup removes it.
        var stale = Directory.CreateDirectory(Path.Combine(server.DataDir, ".backup-bak_stale")).FullName;
        using (var again = await server.Admin.PostAsync("/api/v1/backup", null))
        {
            again.StatusCode.ShouldBe(HttpStatusCode.OK);
        }

        Directory.Exists(stale).ShouldBeFalse();
        var dir = Path.Combine(work.Path, "restored");

        var refusal = await Should.ThrowAsync<BackupFileException>(() => BackupRestore.RestoreAsync(file, "another long passphrase", dir, null, _ => { }));

        refusal.Message.ShouldBe("wrong passphrase or damaged file");
        Directory.Exists(dir).ShouldBeFalse();
    }
}
