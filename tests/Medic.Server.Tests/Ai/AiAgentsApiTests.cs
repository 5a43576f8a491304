using System.Net;
using Medic.Contracts;
using Medic.Server.Ai.Agents;
using Medic.Server.Tests.Infrastructure;

namespace Medic.Server.Tests.Ai;

/// <summary>AI agents through the API: saved, listed, validated, one holder per role, audited.</summary>
public sealed class AiAgentsApiTests
{
    /// <summary>The bootstrap admin's tenant id (the default tenant's slug is "default"; its id is generated).</summary>
    private static async Task<string> TenantIdAsync(MedicServer server)
    {
        using var me = await server.Admin.GetAsync("/api/v1/whoami");
        return (await me.ReadAsync(MedicJson.Default.WhoAmIResponse)).TenantId;
    }

    private static async Task<HttpResponseMessage> PutAsync(HttpClient client, string name, string json, bool force = false) =>
        await client.PutAsync($"/api/v1/ai/agents/{name}{(force ? "?force=true" : "")}", Json.Raw(json));

    [Theory]
    [MemberData(nameof(Dialects.Both), MemberType = typeof(Dialects))]
    public async Task An_agent_is_saved_listed_replaced_and_removed_and_each_change_is_audited_with_the_fields_it_changed(string dialect)
    {
        await using var server = await MedicServer.StartAsync(dialect);
        var tenant = await TenantIdAsync(server);

        using (var created = await PutAsync(server.Admin, "diagnoser",
            """{"trust":"supervised","roles":["diagnose","triage"],"system_prompt":"You diagnose Linux servers.","skills":["disk-space","systemd"],"tools":["diag","list_recipes","propose_remediation"],"model":"fast","patrol":"30m"}"""))
        {
            var agent = await created.ReadAsync(AiAgentsJson.Default.AiAgentResponse, HttpStatusCode.Created);
            agent.Trust.ShouldBe(AiTrust.Supervised);
            agent.Roles.ShouldBe([AiRole.Triage, AiRole.Diagnose]);
            agent.EffectiveTools.ShouldBe(["diag", "list_recipes", "propose_remediation"]);
            agent.Patrol.ShouldBe("30m");
            agent.Enabled.ShouldBeTrue();
            agent.Warnings.ShouldBeNull();
        }

        using (var replaced = await PutAsync(server.Admin, "diagnoser", """{"trust":"manual","roles":["diagnose"],"system_prompt":"You diagnose.","tools":["diag","propose_remediation"]}"""))
        {
            var agent = await replaced.ReadAsync(AiAgentsJson.Default.AiAgentResponse);
            agent.Trust.ShouldBe(AiTrust.Manual);
            agent.EffectiveTools.ShouldBe(["diag"], "a manual agent never proposes");
            agent.Warnings!.ShouldContain(w => w.Contains("manual agent never proposes", StringComparison.Ordinal));
            agent.Model.ShouldBeNull();
            agent.Patrol.ShouldBeNull();
        }

        using (var list = await server.Admin.GetAsync("/api/v1/ai/agents"))
        {
            (await list.ReadAsync(AiAgentsJson.Default.IReadOnlyListAiAgentResponse)).ShouldHaveSingleItem().Name.ShouldBe("diagnoser");
        }

        (await server.Service<AiAgentStore>().FindForRoleAsync(tenant, AiRole.Triage, CancellationToken.None)).ShouldBeNull("the replacement dropped triage");
        (await server.Service<AiAgentStore>().FindForRoleAsync(tenant, AiRole.Diagnose, CancellationToken.None))!.Name.ShouldBe("diagnoser");

        using (var deleted = await server.Admin.DeleteAsync("/api/v1/ai/agents/diagnoser"))
        {
            deleted.StatusCode.ShouldBe(HttpStatusCode.NoContent);
        }

        using (var gone = await server.Admin.GetAsync("/api/v1/ai/agents/diagnoser"))
        {
            await gone.ShouldBeProblemAsync(HttpStatusCode.NotFound);
        }

        (await server.Service<AiAgentStore>().FindForRoleAsync(tenant, AiRole.Diagnose, CancellationToken.None)).ShouldBeNull();

        using var audit = await server.Admin.GetAsync("/api/v1/audit?limit=50");
        var entries = (await audit.ReadAsync(MedicJson.Default.AuditPage)).Items.Where(e => e.Target == "ai_agent:diagnoser").OrderBy(e => e.Seq).ToList();
        entries.Select(e => e.Action).ShouldBe(["ai_agent.saved", "ai_agent.saved", "ai_agent.deleted"]);
        entries[0].Details!["changed"].ShouldBe("trust,roles,system_prompt,skills,tools,model,patrol,enabled");
        entries[1].Details!["changed"].ShouldBe("trust,roles,system_prompt,skills,tools,model,patrol");
        entries[1].Details!["trust"].ShouldBe("manual");
        entries[1].Details!["roles"].ShouldBe("diagnose");
        entries[1].Details!["system_prompt"].ShouldStartWith("13 bytes, sha256 ");
        entries[1].Details!.Values.ShouldNotContain("You diagnose.", "the prompt is audited by size and hash, not its text");
    }

    [Theory]
    [MemberData(nameof(Dialects.Both), MemberType = typeof(Dialects))]
    public async Task A_second_enabled_agent_claiming_a_held_role_gets_a_409_naming_the_holder_and_force_moves_the_role(string dialect)
    {
        await using var server = await MedicServer.StartAsync(dialect);
        var tenant = await TenantIdAsync(server);
        (await PutAsync(server.Admin, "first", """{"roles":["diagnose","review"]}""")).StatusCode.ShouldBe(HttpStatusCode.Created);

        using (var refused = await PutAsync(server.Admin, "second", """{"roles":["diagnose","report"]}"""))
        {
            var problem = await refused.ShouldBeProblemAsync(HttpStatusCode.Conflict);
            problem.Detail().ShouldContain("role 'diagnose' is held by AI agent 'first'", Case.Insensitive);
            ((string?)problem["remedy"])!.ShouldContain("--force");
        }

        using (var missing = await server.Admin.GetAsync("/api/v1/ai/agents/second"))
        {
            missing.StatusCode.ShouldBe(HttpStatusCode.NotFound, "a refused save stores nothing");
        }

        // Disabled, it claims the role without holding it.
        (await PutAsync(server.Admin, "second", """{"roles":["diagnose","report"],"enabled":false}""")).StatusCode.ShouldBe(HttpStatusCode.Created);
        (await server.Service<AiAgentStore>().FindForRoleAsync(tenant, AiRole.Diagnose, CancellationToken.None))!.Name.ShouldBe("first");
        using (var enable = await PutAsync(server.Admin, "second", """{"roles":["diagnose","report"]}"""))
        {
            await enable.ShouldBeProblemAsync(HttpStatusCode.Conflict);
        }

        using (var forced = await PutAsync(server.Admin, "second", """{"roles":["diagnose","report"]}""", force: true))
        {
            (await forced.ReadAsync(AiAgentsJson.Default.AiAgentResponse)).Roles.ShouldBe([AiRole.Diagnose, AiRole.Report]);
        }

        var store = server.Service<AiAgentStore>();
        (await store.FindForRoleAsync(tenant, AiRole.Diagnose, CancellationToken.None))!.Name.ShouldBe("second");
        (await store.FindForRoleAsync(tenant, AiRole.Review, CancellationToken.None))!.Name.ShouldBe("first");
        (await store.GetAsync(tenant, "first", CancellationToken.None))!.Roles.ShouldBe([AiRole.Review], "the first agent lost the moved role");

        using var audit = await server.Admin.GetAsync("/api/v1/audit?action=ai_agent.saved&limit=10");
        (await audit.ReadAsync(MedicJson.Default.AuditPage)).Items.ShouldContain(e => e.Target == "ai_agent:second" && e.Details!.GetValueOrDefault("moved_roles") == "diagnose from first");
    }

    [Fact]
    public async Task Bad_input_gets_a_problem_naming_each_field_and_nothing_is_stored()
    {
        await using var server = await MedicServer.StartAsync(TestDatabase.Sqlite);

        var prompt = new string('x', AiAgentRules.MaxPromptBytes + 1);
        using (var bad = await PutAsync(server.Admin, "bad",
            $$"""{"system_prompt":"{{prompt}}","skills":["no-such-skill"],"tools":["Shell!"],"patrol":"1m","model":"Not A Name"}"""))
        {
            var problem = await bad.ShouldBeProblemAsync(HttpStatusCode.BadRequest);
            var errors = problem["errors"]!.AsObject();
            errors.Select(e => e.Key).Order().ShouldBe(["model", "patrol", "skills", "system_prompt", "tools"]);
            problem.Detail().ShouldContain("16 KiB");
            problem.Detail().ShouldContain("no skill 'no-such-skill'");
            problem.Detail().ShouldContain("patrols run every 5m to 7d");
        }

        using (var badName = await PutAsync(server.Admin, "Bad%20Name", "{}"))
        {
            await badName.ShouldBeProblemAsync(HttpStatusCode.BadRequest);
        }

        using (var badTrust = await PutAsync(server.Admin, "x", """{"trust":"yolo"}"""))
        {
            await badTrust.ShouldBeProblemAsync(HttpStatusCode.BadRequest);
        }

        using (var badRole = await PutAsync(server.Admin, "x", """{"roles":["execute"]}"""))
        {
            await badRole.ShouldBeProblemAsync(HttpStatusCode.BadRequest);
        }

        using (var duration = await PutAsync(server.Admin, "x", """{"patrol":"soon"}"""))
        {
            (await duration.ShouldBeProblemAsync(HttpStatusCode.BadRequest)).Detail().ShouldContain("'soon' is not a duration");
        }

        using var list = await server.Admin.GetAsync("/api/v1/ai/agents");
        (await list.ReadAsync(AiAgentsJson.Default.IReadOnlyListAiAgentResponse)).ShouldBeEmpty();
    }

    [Fact]
    public async Task Unknown_tool_names_are_accepted_with_a_warning_and_an_empty_allowlist_is_the_read_only_set()
    {
        await using var server = await MedicServer.StartAsync(TestDatabase.Sqlite);

        using (var saved = await PutAsync(server.Admin, "ops", """{"trust":"autonomous","tools":["diag","restart_queue"]}"""))
        {
            var agent = await saved.ReadAsync(AiAgentsJson.Default.AiAgentResponse, HttpStatusCode.Created);
            agent.EffectiveTools.ShouldBe(["diag", "restart_queue"]);
            agent.Warnings.ShouldHaveSingleItem().ShouldContain("tool 'restart_queue' is not a built-in tool");
        }

        using var defaults = await PutAsync(server.Admin, "reader", "{}");
        var reader = await defaults.ReadAsync(AiAgentsJson.Default.AiAgentResponse, HttpStatusCode.Created);
        reader.Trust.ShouldBe(AiTrust.Supervised, "the safe default");
        reader.Tools.ShouldBeEmpty();
        reader.EffectiveTools.ShouldBe(AiToolNames.DefaultSet);
        reader.EffectiveTools.ShouldNotContain(AiToolNames.ProposeRemediation);
    }

    [Fact]
    public async Task Viewers_read_agents_and_skills_but_only_admins_change_them()
    {
        await using var server = await MedicServer.StartAsync(TestDatabase.Sqlite);
        var tenant = await TenantIdAsync(server);
        (await PutAsync(server.Admin, "ops", """{"roles":["triage"]}""")).StatusCode.ShouldBe(HttpStatusCode.Created);
        var viewer = await server.ClientForNewUserAsync(server.Admin, "vera", Role.Viewer);
        var operatorClient = await server.ClientForNewUserAsync(server.Admin, "otto", Role.Operator);

        (await viewer.GetAsync("/api/v1/ai/agents")).StatusCode.ShouldBe(HttpStatusCode.OK);
        (await viewer.GetAsync("/api/v1/ai/agents/ops")).StatusCode.ShouldBe(HttpStatusCode.OK);
        (await viewer.GetAsync("/api/v1/ai/skills")).StatusCode.ShouldBe(HttpStatusCode.OK);
        (await viewer.GetAsync("/api/v1/ai/skills/systemd")).StatusCode.ShouldBe(HttpStatusCode.OK);
        foreach (var client in new[] { viewer, operatorClient })
        {
            (await PutAsync(client, "ops", "{}")).StatusCode.ShouldBe(HttpStatusCode.Forbidden);
            (await client.DeleteAsync("/api/v1/ai/agents/ops")).StatusCode.ShouldBe(HttpStatusCode.Forbidden);
            (await client.PutAsync("/api/v1/ai/skills/mine", Json.Raw("""{"markdown":"x"}"""))).StatusCode.ShouldBe(HttpStatusCode.Forbidden);
        }

        (await server.Service<AiAgentStore>().GetAsync(tenant, "ops", CancellationToken.None))!.Roles.ShouldBe([AiRole.Triage]);
    }

    [Fact]
    public async Task The_openapi_document_lists_the_trust_levels_and_roles()
    {
        await using var server = await MedicServer.StartAsync(TestDatabase.Sqlite);
        using var response = await server.Client().GetAsync("/openapi/v1.json");
        var text = await response.Content.ReadAsStringAsync();
        text.ShouldContain("/api/v1/ai/agents/{name}");
        foreach (var value in StateText.All<AiTrust>().Concat(StateText.All<AiRole>())) text.ShouldContain($"\"{value}\"");
    }
}
