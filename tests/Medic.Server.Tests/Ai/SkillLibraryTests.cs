using System.Net;
using System.Text.RegularExpressions;
using Medic.Contracts;
using Medic.Server.Ai.Skills;
using Medic.Server.Runbooks;
using Medic.Server.Tests.Infrastructure;

namespace Medic.Server.Tests.Ai;

/// <summary>The built-in skills are real and accurate; tenant skills override them; loading keeps to the token budget.</summary>
public sealed partial class SkillLibraryTests
{
    /// <summary>The bootstrap admin's tenant id (the default tenant's slug is "default"; its id is generated).</summary>
    private static async Task<string> TenantIdAsync(MedicServer server)
    {
        using var me = await server.Admin.GetAsync("/api/v1/whoami");
        return (await me.ReadAsync(MedicJson.Default.WhoAmIResponse)).TenantId;
    }

    private static string Skill(string name, string body, string description = "What this skill knows.", string when = "When it applies.") =>
        $"---\nname: {name}\ndescription: {description}\nwhen: {when}\n---\n{body}\n";

    private static async Task PutSkillAsync(HttpClient client, string name, string markdown, HttpStatusCode expected = HttpStatusCode.OK)
    {
        using var response = await client.PutAsync($"/api/v1/ai/skills/{name}", Json.Body(new AiSkillRequest(markdown), AiAgentsJson.Default.AiSkillRequest));
        response.StatusCode.ShouldBe(expected, await response.Content.ReadAsStringAsync());
    }

    /// <summary>The agent's diagnostic verbs, read from its source so a renamed verb fails this test.</summary>
    private static HashSet<string> AgentVerbs()
    {
        var folder = Path.Combine(Repository.Root(), "src", "Medic.Agent", "Diagnostics");
        var registry = File.ReadAllText(Path.Combine(folder, "DiagnosticVerbs.cs"));
        var verbs = new HashSet<string>(StringComparer.Ordinal);
        foreach (var file in Directory.GetFiles(folder, "*.cs"))
        {
            var source = File.ReadAllText(file);
            foreach (Match m in VerbName().Matches(source)) verbs.Add(m.Groups[1].Value);
        }

        verbs.Count.ShouldBeGreaterThan(15, "the verb names are no longer found as Name = \"...\" or TopProcesses(\"...\"): update this reader");
        registry.ShouldContain("DiskUsage.DiskUsageVerb");
        return verbs;
    }

    [GeneratedRegex("""(?:Name = |TopProcesses\()"([a-z][a-z-]+)"[,\s]""")]
    private static partial Regex VerbName();

    [GeneratedRegex(@"`diag ([a-z][a-z0-9-]*)[^`]*`")]
    private static partial Regex DiagMention();

    [GeneratedRegex(@"`recipe ([a-z][a-z0-9-]*)[^`]*`")]
    private static partial Regex RecipeMention();

    [Fact]
    public void The_built_in_library_has_the_required_skills_each_with_a_header_and_mentions_only_verbs_and_recipes_that_exist()
    {
        var verbs = AgentVerbs();
        var recipes = RunbookLibrary.Load().Select(r => r.Runbook.Name).ToHashSet(StringComparer.Ordinal);
        var skills = SkillLibrary.BuiltIn;

        foreach (var required in new[] { "linux-basics", "systemd", "nginx", "postgres", "docker", "disk-space", "memory-pressure", "networking" }) skills.Keys.ShouldContain(required);
        skills.Count.ShouldBeGreaterThanOrEqualTo(8);
        SkillLibrary.Files().Count.ShouldBe(skills.Count);

        foreach (var skill in skills.Values)
        {
            skill.Description.ShouldNotBeNullOrWhiteSpace(skill.Name);
            skill.When.ShouldNotBeNullOrWhiteSpace(skill.Name);
            skill.Body.ShouldContain("## Never", Case.Sensitive, $"{skill.Name} says what never to do");
            var usedVerbs = DiagMention().Matches(skill.Body).Select(m => m.Groups[1].Value).ToList();
            var usedRecipes = RecipeMention().Matches(skill.Body).Select(m => m.Groups[1].Value).ToList();
            usedVerbs.Count.ShouldBeGreaterThanOrEqualTo(3, $"{skill.Name} shows how to diagnose with the verbs");
            usedVerbs.Where(v => !verbs.Contains(v)).ShouldBeEmpty($"{skill.Name} names verbs the agent does not have (it has {string.Join(", ", verbs.Order())})");
            usedRecipes.ShouldNotBeEmpty($"{skill.Name} says which recipes fix what");
            usedRecipes.Where(r => !recipes.Contains(r)).ShouldBeEmpty($"{skill.Name} names recipes the library does not have ({string.Join(", ", recipes.Order())})");
        }
    }

    [Fact]
    public void A_skill_without_its_header_fields_is_refused_with_what_to_write()
    {
        SkillDocument.Parse("# just text", out var errors).ShouldBeNull();
        errors.ShouldHaveSingleItem().ShouldContain("has no header");
        SkillDocument.Parse("---\nname: x\n---\ntext", out errors).ShouldBeNull();
        errors.ShouldContain(e => e.Contains("no 'description:'", StringComparison.Ordinal));
        errors.ShouldContain(e => e.Contains("no 'when:'", StringComparison.Ordinal));
        SkillDocument.Parse("---\nname: x\ndescription: d\nwhen: w\nauthor: me\n---\ntext", out errors).ShouldBeNull();
        errors.ShouldHaveSingleItem().ShouldContain("'author' is unknown");
        SkillDocument.Parse("---\nname: x\ndescription: d\nwhen: w\n---\n", out errors).ShouldBeNull();
        errors.ShouldHaveSingleItem().ShouldContain("no text after its header");
        SkillDocument.Parse("---\nname: x\ndescription: [d\nwhen: w\n---\ntext", out errors).ShouldBeNull();
        errors.ShouldHaveSingleItem().ShouldContain("not valid YAML");
        SkillDocument.Parse(Skill("x", "text"), out errors)!.Name.ShouldBe("x");
    }

    [Theory]
    [MemberData(nameof(Dialects.Both), MemberType = typeof(Dialects))]
    public async Task A_tenant_skill_named_like_a_built_in_one_overrides_it_for_that_tenant_only_and_removing_it_restores_the_built_in(string dialect)
    {
        await using var server = await MedicServer.StartAsync(dialect);
        var tenant = await TenantIdAsync(server);
        var library = server.Service<SkillLibrary>();
        await PutSkillAsync(server.Admin, "nginx", Skill("nginx", "Our nginx runs in a container: use the docker skill.", "Our own nginx notes."));
        await PutSkillAsync(server.Admin, "shop-app", Skill("shop-app", "The shop listens on 8081."));

        using (var list = await server.Admin.GetAsync("/api/v1/ai/skills"))
        {
            var skills = await list.ReadAsync(AiAgentsJson.Default.IReadOnlyListAiSkillSummary);
            skills.Single(s => s.Name == "nginx").ShouldSatisfyAllConditions(s => s.Builtin.ShouldBeFalse(), s => s.Overrides.ShouldBeTrue(), s => s.Description.ShouldBe("Our own nginx notes."));
            skills.Single(s => s.Name == "shop-app").Builtin.ShouldBeFalse();
            skills.Single(s => s.Name == "systemd").Builtin.ShouldBeTrue();
            skills.Count(s => s.Name == "nginx").ShouldBe(1);
        }

        (await library.LoadAsync(tenant, ["nginx"], 10_000, CancellationToken.None)).ShouldContain("Our nginx runs in a container");

        // Another tenant still sees the built-in nginx skill, and not this tenant's own.
        using (var created = await server.Admin.PostAsync("/api/v1/tenants", Json.Raw("""{"slug":"globex","admin_username":"globex-admin","admin_password":"globex-admin-password"}""")))
        {
            created.StatusCode.ShouldBe(HttpStatusCode.Created, await created.Content.ReadAsStringAsync());
        }

        var globex = server.Client(await server.LogInAsync("globex-admin", "globex-admin-password", "globex"));
        using (var theirs = await globex.GetAsync("/api/v1/ai/skills/nginx"))
        {
            var skill = await theirs.ReadAsync(AiAgentsJson.Default.AiSkillResponse);
            skill.Skill.Builtin.ShouldBeTrue();
            skill.Markdown.ShouldBe(SkillLibrary.BuiltIn["nginx"].Markdown);
        }

        using (var hidden = await globex.GetAsync("/api/v1/ai/skills/shop-app"))
        {
            await hidden.ShouldBeProblemAsync(HttpStatusCode.NotFound);
        }

        using (var removed = await server.Admin.DeleteAsync("/api/v1/ai/skills/nginx"))
        {
            removed.StatusCode.ShouldBe(HttpStatusCode.NoContent);
        }

        (await library.LoadAsync(tenant, ["nginx"], 10_000, CancellationToken.None)).ShouldContain(SkillLibrary.BuiltIn["nginx"].Body.Trim());
        using (var builtIn = await server.Admin.DeleteAsync("/api/v1/ai/skills/nginx"))
        {
            (await builtIn.ShouldBeProblemAsync(HttpStatusCode.Conflict)).Detail().ShouldContain("built-in");
        }

        using var audit = await server.Admin.GetAsync("/api/v1/audit?limit=50");
        (await audit.ReadAsync(MedicJson.Default.AuditPage)).Items.Where(e => e.Target == "ai_skill:nginx").Select(e => e.Action).Order()
            .ShouldBe(["ai_skill.deleted", "ai_skill.saved"]);
    }

    [Fact]
    public async Task A_skill_whose_header_names_another_skill_or_lacks_fields_gets_a_400_and_is_not_stored()
    {
        await using var server = await MedicServer.StartAsync(TestDatabase.Sqlite);
        using (var response = await server.Admin.PutAsync("/api/v1/ai/skills/mine", Json.Body(new AiSkillRequest(Skill("other", "text")), AiAgentsJson.Default.AiSkillRequest)))
        {
            (await response.ShouldBeProblemAsync(HttpStatusCode.BadRequest)).Detail().ShouldContain("the header says name: other");
        }

        using (var response = await server.Admin.PutAsync("/api/v1/ai/skills/mine", Json.Body(new AiSkillRequest("no header"), AiAgentsJson.Default.AiSkillRequest)))
        {
            await response.ShouldBeProblemAsync(HttpStatusCode.BadRequest);
        }

        using var missing = await server.Admin.GetAsync("/api/v1/ai/skills/mine");
        await missing.ShouldBeProblemAsync(HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task Loading_keeps_the_order_given_leaves_out_skills_that_do_not_fit_whole_and_says_which()
    {
        await using var server = await MedicServer.StartAsync(TestDatabase.Sqlite);
        var tenant = await TenantIdAsync(server);
        var library = server.Service<SkillLibrary>();
        await PutSkillAsync(server.Admin, "small-a", Skill("small-a", "Alpha fact."));
        await PutSkillAsync(server.Admin, "big", Skill("big", new string('b', 4000)));
        await PutSkillAsync(server.Admin, "small-b", Skill("small-b", "Beta fact."));

        (await library.LoadAsync(tenant, [], 10_000, CancellationToken.None)).ShouldBeEmpty("no names, no skills");

        var all = await library.LoadAsync(tenant, ["small-b", "big", "small-a"], 10_000, CancellationToken.None);
        all.IndexOf("## Skill: small-b", StringComparison.Ordinal).ShouldBeLessThan(all.IndexOf("## Skill: big", StringComparison.Ordinal));
        all.IndexOf("## Skill: big", StringComparison.Ordinal).ShouldBeLessThan(all.IndexOf("## Skill: small-a", StringComparison.Ordinal));
        all.ShouldNotContain("left out");

        const int budget = 200;
        var cut = await library.LoadAsync(tenant, ["small-a", "big", "small-b", "nope"], budget, CancellationToken.None);
        cut.ShouldContain("## Skill: small-a");
        cut.ShouldContain("Alpha fact.");
        cut.ShouldContain("## Skill: small-b", customMessage: "a later skill that fits is still loaded");
        cut.ShouldNotContain("bbbb");
        cut.ShouldContain("(Skills left out to stay within the token budget: big.)");
        cut.ShouldContain("(Skills not found: nope.)");
        SkillDocument.Tokens(cut).ShouldBeLessThanOrEqualTo(budget);

        var tiny = await library.LoadAsync(tenant, ["small-a", "small-b"], 40, CancellationToken.None);
        SkillDocument.Tokens(tiny).ShouldBeLessThanOrEqualTo(40);
        tiny.ShouldContain("left out");
    }

    [Fact]
    public async Task Suggestions_match_an_incidents_type_and_title_to_the_skills_words_deterministically()
    {
        await using var server = await MedicServer.StartAsync(TestDatabase.Sqlite);
        var tenant = await TenantIdAsync(server);
        var library = server.Service<SkillLibrary>();

        var disk = await library.SuggestAsync(tenant, "disk_full: /var is 97% full on web-1", 3, CancellationToken.None);
        disk[0].ShouldBe("disk-space");
        (await library.SuggestAsync(tenant, "disk_full: /var is 97% full on web-1", 3, CancellationToken.None)).ShouldBe(disk);
        (await library.SuggestAsync(tenant, "service_failed: nginx.service failed on web-1", 2, CancellationToken.None)).ShouldBe(["nginx", "systemd"], ignoreOrder: true);
        (await library.SuggestAsync(tenant, "container_down: redis exited", 5, CancellationToken.None)).ShouldContain("docker");
        (await library.SuggestAsync(tenant, "zzz", 5, CancellationToken.None)).ShouldBeEmpty();
        (await library.SuggestAsync(tenant, "disk_full", 0, CancellationToken.None)).ShouldBeEmpty();
    }
}
