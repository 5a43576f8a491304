using System.Net;
using System.Text;
using Medic.Contracts;
using Medic.Server.Secrets;
using Medic.Server.Tests.Infrastructure;

namespace Medic.Server.Tests.Secrets;

/// <summary>Named secrets over HTTP: write-only, sealed at rest, audited by name, for admins only.</summary>
public sealed class SecretsApiTests
{
    private const string Value = "s3cr3t-Token-for-the-db-0123456789";

    private static StringContent Body(string value, string? description = null) =>
        Json.Body(new SetSecretRequest(value, description), SecretsJson.Default.SetSecretRequest);

    [Theory]
    [MemberData(nameof(Dialects.Both), MemberType = typeof(Dialects))]
    public async Task A_secret_is_set_listed_shown_replaced_and_deleted_and_its_value_is_never_in_an_answer_the_audit_log_or_the_database(string dialect)
    {
        await using var server = await MedicServer.StartAsync(dialect);
        var seen = new StringBuilder();

        using (var created = await server.Admin.PutAsync("/api/v1/secrets/db-password", Body(Value, "the app's database password")))
        {
            seen.Append(await created.Content.ReadAsStringAsync());
            var s = await created.ReadAsync(SecretsJson.Default.SecretResponse, HttpStatusCode.Created);
            (s.Name, s.Description, s.Length, s.CreatedBy, s.UpdatedBy).ShouldBe(("db-password", "the app's database password", Value.Length, "user:admin", "user:admin"));
            created.Headers.Location!.ToString().ShouldBe("/api/v1/secrets/db-password");
        }

        using (var replaced = await server.Admin.PutAsync("/api/v1/secrets/db-password", Body(Value + "-rotated")))
        {
            seen.Append(await replaced.Content.ReadAsStringAsync());
            var s = await replaced.ReadAsync(SecretsJson.Default.SecretResponse);
            (s.Length, s.Description).ShouldBe((Value.Length + "-rotated".Length, "the app's database password"), "a replacement without a description keeps the old one");
        }

        (await server.Admin.PutAsync("/api/v1/secrets/slack.hook", Body("https://hooks.slack.invalid/T000/B000/XXXX"))).StatusCode.ShouldBe(HttpStatusCode.Created);
        using (var list = await server.Admin.GetAsync("/api/v1/secrets"))
        {
            seen.Append(await list.Content.ReadAsStringAsync());
            (await list.ReadAsync(SecretsJson.Default.IReadOnlyListSecretResponse)).Select(s => s.Name).ShouldBe(["db-password", "slack.hook"]);
        }

        using (var one = await server.Admin.GetAsync("/api/v1/secrets/db-password"))
        {
            seen.Append(await one.Content.ReadAsStringAsync());
            (await one.ReadAsync(SecretsJson.Default.SecretResponse)).Name.ShouldBe("db-password");
        }

        (await server.Service<SecretStore>().RevealAsync(await TenantIdAsync(server), "db-password", CancellationToken.None)).ShouldBe(Value + "-rotated");
        using (var audit = await server.Admin.GetAsync("/api/v1/audit?action=secret.set"))
        {
            var body = await audit.Content.ReadAsStringAsync();
            seen.Append(body);
            var entries = (await audit.ReadAsync(MedicJson.Default.AuditPage)).Items;
            entries.Count.ShouldBe(3);
            entries.ShouldAllBe(e => e.Target.StartsWith("secret:"));
            entries.Select(e => e.Details["name"]).ShouldBe(["slack.hook", "db-password", "db-password"]);
        }

        using (var deleted = await server.Admin.DeleteAsync("/api/v1/secrets/db-password"))
        {
            deleted.StatusCode.ShouldBe(HttpStatusCode.NoContent);
        }

        (await (await server.Admin.GetAsync("/api/v1/secrets/db-password")).ShouldBeProblemAsync(HttpStatusCode.NotFound))["remedy"]!.ToString().ShouldContain("medic secrets list");
        (await server.Admin.DeleteAsync("/api/v1/secrets/db-password")).StatusCode.ShouldBe(HttpStatusCode.NotFound);
        (await server.Database.ScalarAsync<long>("SELECT COUNT(*) FROM audit_log WHERE action = 'secret.deleted'")).ShouldBe(1);

        var answers = seen.ToString();
        answers.ShouldNotContain(Value);
        answers.ShouldNotContain("hooks.slack.invalid");
        answers.ShouldNotContain(await server.Database.ScalarAsync<string>("SELECT sealed_value FROM secrets WHERE name = 'slack.hook'"), Case.Sensitive, "nor is the sealed value");
        var everything = await server.Database.DumpAllAsync();
        everything.ShouldNotContain(Value);
        everything.ShouldNotContain("hooks.slack.invalid");
        server.Logs.Lines.ShouldNotContain(l => l.Message.Contains(Value) || l.Message.Contains("hooks.slack.invalid"));
    }

    [Theory]
    [MemberData(nameof(Dialects.Both), MemberType = typeof(Dialects))]
    public async Task A_sealed_value_copied_into_another_tenants_row_or_under_another_name_does_not_open(string dialect)
    {
        await using var server = await MedicServer.StartAsync(dialect);
        using var tenant = await server.Admin.PostAsync("/api/v1/tenants", Json.Raw("""{"slug":"other","admin_username":"other-admin","admin_password":"other-admin-password"}"""));
        tenant.StatusCode.ShouldBe(HttpStatusCode.Created);
        var other = server.Client(await server.LogInAsync("other-admin", "other-admin-password", "other"));
        (await server.Admin.PutAsync("/api/v1/secrets/api-key", Body(Value))).StatusCode.ShouldBe(HttpStatusCode.Created);
        (await other.PutAsync("/api/v1/secrets/api-key", Body("the-other-tenants-own-key"))).StatusCode.ShouldBe(HttpStatusCode.Created);
        (await server.Admin.PutAsync("/api/v1/secrets/spare", Body("a spare value"))).StatusCode.ShouldBe(HttpStatusCode.Created);

        var mine = await TenantIdAsync(server);
        var theirs = await TenantIdAsync(server, other);
        var sealedValue = await server.Database.ScalarAsync<string>("SELECT sealed_value FROM secrets WHERE tenant_id = @mine AND name = 'api-key'", new { mine });
        await server.Database.ExecuteAsync("UPDATE secrets SET sealed_value = @sealedValue WHERE tenant_id = @theirs AND name = 'api-key'", new { sealedValue, theirs });
        await server.Database.ExecuteAsync("UPDATE secrets SET sealed_value = @sealedValue WHERE tenant_id = @mine AND name = 'spare'", new { sealedValue, mine });

        var store = server.Service<SecretStore>();
        (await store.RevealAsync(theirs, "api-key", CancellationToken.None)).ShouldBeNull();
        (await store.RevealAsync(mine, "spare", CancellationToken.None)).ShouldBeNull();
        (await store.RevealAsync(mine, "api-key", CancellationToken.None)).ShouldBe(Value);
        (await store.RevealAllAsync(theirs, CancellationToken.None)).ShouldBeEmpty();
    }

    [Theory]
    [MemberData(nameof(Dialects.Both), MemberType = typeof(Dialects))]
    public async Task Bad_names_and_values_get_a_problem_with_a_remedy_and_store_nothing(string dialect)
    {
        await using var server = await MedicServer.StartAsync(dialect);

        async Task RefusedAsync(string name, HttpContent body, string detail, string remedy)
        {
            using var response = await server.Admin.PutAsync("/api/v1/secrets/" + Uri.EscapeDataString(name), body);
            var problem = await response.ShouldBeProblemAsync(HttpStatusCode.BadRequest);
            problem.Detail().ShouldContain(detail);
            ((string)problem["remedy"]!).ShouldContain(remedy);
        }

        await RefusedAsync("db-password", Body(""), "no value", "\"value\"");
        await RefusedAsync("db-password", Json.Raw("""{"value":null}"""), "no value", "\"value\"");
        await RefusedAsync("DB_Password", Body(Value), "is not a secret name", "lowercase letters");
        await RefusedAsync("-flag", Body(Value), "is not a secret name", "starting with a letter or digit");
        await RefusedAsync(new string('a', 65), Body(Value), "is not a secret name", "1 to 64");
        await RefusedAsync("big", Body(new string('x', 64 * 1024 + 1)), "65537 bytes long", "smaller value");
        await RefusedAsync("nul", Body("abc\0def"), "NUL", "remove");
        (await server.Admin.PutAsync("/api/v1/secrets/" + new string('a', 64), Body(Value))).StatusCode.ShouldBe(HttpStatusCode.Created);
        (await server.Admin.PutAsync("/api/v1/secrets/exactly-64k", Body(new string('x', 64 * 1024)))).StatusCode.ShouldBe(HttpStatusCode.Created);
        (await server.Database.ScalarAsync<long>("SELECT COUNT(*) FROM secrets")).ShouldBe(2);
    }

    [Theory]
    [MemberData(nameof(Dialects.Both), MemberType = typeof(Dialects))]
    public async Task Only_the_tenants_admins_may_see_or_change_secrets(string dialect)
    {
        await using var server = await MedicServer.StartAsync(dialect);
        (await server.Admin.PutAsync("/api/v1/secrets/db-password", Body(Value))).StatusCode.ShouldBe(HttpStatusCode.Created);
        foreach (var role in new[] { Role.Operator, Role.Approver, Role.Viewer })
        {
            var client = await server.ClientForNewUserAsync(server.Admin, "user-" + role.ToString().ToLowerInvariant(), role);
            (await client.GetAsync("/api/v1/secrets")).StatusCode.ShouldBe(HttpStatusCode.Forbidden);
            (await client.GetAsync("/api/v1/secrets/db-password")).StatusCode.ShouldBe(HttpStatusCode.Forbidden);
            (await client.PutAsync("/api/v1/secrets/db-password", Body("taken-over"))).StatusCode.ShouldBe(HttpStatusCode.Forbidden);
            (await client.DeleteAsync("/api/v1/secrets/db-password")).StatusCode.ShouldBe(HttpStatusCode.Forbidden);
        }

        (await server.Service<SecretStore>().RevealAsync(await TenantIdAsync(server), "db-password", CancellationToken.None)).ShouldBe(Value);
    }

    [Fact]
    public async Task The_openapi_document_lists_the_secret_routes()
    {
        await using var server = await MedicServer.StartAsync(TestDatabase.Sqlite);
        var doc = await server.Client().GetStringAsync("/openapi/v1.json");
        doc.ShouldContain("\"/api/v1/secrets\"");
        doc.ShouldContain("\"/api/v1/secrets/{name}\"");
    }

    internal static async Task<string> TenantIdAsync(MedicServer server, HttpClient? client = null)
    {
        using var me = await (client ?? server.Admin).GetAsync("/api/v1/whoami");
        return (await me.ReadAsync(MedicJson.Default.WhoAmIResponse)).TenantId;
    }
}
