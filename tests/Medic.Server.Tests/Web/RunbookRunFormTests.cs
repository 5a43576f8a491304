using Bunit;
using Medic.Contracts;
using Medic.Server.Fleet;
using Medic.Server.Storage;
using Medic.Server.Tests.Infrastructure;
using Medic.Server.Web.Pages.Ai;
using Medic.Server.Web.Pages.Runbooks;
using Medic.Server.Web.Shared;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Medic.Server.Tests.Web;

/// <summary>
/// The console's runbook run form, rendered with bunit against a real database: one input per
/// parameter typed as the schema says, the servers the selector matches, and the request it sends.
/// </summary>
public sealed class RunbookRunFormTests
{
    private static readonly DateTimeOffset At = new(2026, 12, 1, 12, 0, 0, TimeSpan.Zero);

    private static RunbookResponse Runbook() => new(
        new RunbookSummary("e2e-form", 3, "A form", "low", "tenant", false, "hash", "admin", At),
        "name: e2e-form\n",
        [
            new RunbookParameterResponse("unit", "string", true, null, "the unit", "[a-z]+", null, 40, null),
            new RunbookParameterResponse("lines", "int", false, "20", null, null, 1, 500, null),
            new RunbookParameterResponse("follow", "bool", false, "false", null, null, null, null, null),
            new RunbookParameterResponse("mode", "enum", true, null, null, null, null, null, ["soft", "hard"]),
        ],
        [1, 2, 3]);

    private static async Task<(BunitContext Ctx, TestDatabase Db)> ContextAsync(string dialect, string dir)
    {
        var db = await TestDatabase.CreateAsync(dialect, dir);
        await new Migrator(db.Database).ApplyAsync();
        await db.ExecuteAsync("INSERT INTO tenants (id, slug, name, created_at) VALUES ('ten_1', 'one', 'One', @At), ('ten_2', 'two', 'Two', @At)", new { At });
        await db.ExecuteAsync("""
            INSERT INTO nodes (id, tenant_id, name, tags, status, enrolled_at) VALUES
              ('nod_1', 'ten_1', 'web-1', '{"role":"web","env":"prod"}', 'online', @At),
              ('nod_2', 'ten_1', 'web-2', '{"role":"web","env":"staging"}', 'offline', @At),
              ('nod_3', 'ten_1', 'db-1', '{"role":"db","env":"prod"}', 'online', @At),
              ('nod_4', 'ten_2', 'web-9', '{"role":"web","env":"prod"}', 'online', @At)
            """, new { At });
        var ctx = new BunitContext();
        ctx.Services.AddSingleton(new NodeStore(db.Database));
        ctx.Services.AddSingleton(new ConsoleApi(ctx.JSInterop.JSRuntime, Options.Create(new Microsoft.AspNetCore.Http.Json.JsonOptions())));
        return (ctx, db);
    }

    [Theory]
    [MemberData(nameof(Dialects.Both), MemberType = typeof(Dialects))]
    public async Task Each_parameter_gets_the_input_its_type_asks_for(string dialect)
    {
        using var dir = new TempDirectory();
        var (ctx, db) = await ContextAsync(dialect, dir.Path);
        await using var _ = db;
        using var __ = ctx;
        var cut = ctx.Render<RunbookRunForm>(ps => ps.Add(p => p.Runbook, Runbook()).Add(p => p.TenantId, "ten_1"));

        var unit = cut.Find("input[data-param=unit]");
        unit.GetAttribute("type").ShouldBe("text");
        unit.GetAttribute("pattern").ShouldBe("[a-z]+");
        unit.GetAttribute("maxlength").ShouldBe("40");
        unit.HasAttribute("required").ShouldBeTrue();
        cut.Find("label[for=param-unit]").TextContent.ShouldBe("unit *");

        var lines = cut.Find("input[data-param=lines]");
        lines.GetAttribute("type").ShouldBe("number");
        lines.GetAttribute("min").ShouldBe("1");
        lines.GetAttribute("max").ShouldBe("500");
        lines.GetAttribute("value").ShouldBe("20");
        lines.HasAttribute("required").ShouldBeFalse();

        cut.Find("input[data-param=follow]").GetAttribute("type").ShouldBe("checkbox");
        cut.FindAll("select[data-param=mode] option").Select(o => o.GetAttribute("value")).ShouldBe(["", "soft", "hard"]);
        cut.Find("select[data-param=mode]").HasAttribute("required").ShouldBeTrue();
        cut.Find("[data-dry-run]").HasAttribute("checked").ShouldBeTrue(); // a first click shows, it does not act
        cut.FindAll("[data-confirm]").ShouldBeEmpty();
    }

    [Theory]
    [MemberData(nameof(Dialects.Both), MemberType = typeof(Dialects))]
    public async Task The_request_carries_what_was_typed_and_leaves_the_rest_to_the_defaults(string dialect)
    {
        using var dir = new TempDirectory();
        var (ctx, db) = await ContextAsync(dialect, dir.Path);
        await using var _ = db;
        using var __ = ctx;
        var cut = ctx.Render<RunbookRunForm>(ps => ps.Add(p => p.Runbook, Runbook()).Add(p => p.TenantId, "ten_1"));

        cut.Find("input[data-param=unit]").Change("nginx");
        cut.Find("select[data-param=mode]").Change("hard");
        cut.Find("input[data-param=follow]").Change(true);
        cut.Find("input[data-target=tags]").Change("role=web");

        var (request, problem) = cut.Instance.Build();
        problem.ShouldBeNull();
        request.ShouldNotBeNull();
        request.Params.ShouldBe(new Dictionary<string, string> { ["unit"] = "nginx", ["lines"] = "20", ["follow"] = "true", ["mode"] = "hard" }, ignoreOrder: true);
        request.Selector!.Tags.ShouldBe(new Dictionary<string, string> { ["role"] = "web" });
        request.DryRun.ShouldBeTrue();
        request.Version.ShouldBe(3);
    }

    [Theory]
    [MemberData(nameof(Dialects.Both), MemberType = typeof(Dialects))]
    public async Task The_preview_lists_the_servers_of_the_tenant_the_selector_matches(string dialect)
    {
        using var dir = new TempDirectory();
        var (ctx, db) = await ContextAsync(dialect, dir.Path);
        await using var _ = db;
        using var __ = ctx;
        var cut = ctx.Render<TargetPicker>(ps => ps.Add(p => p.TenantId, "ten_1").Add(p => p.Selection, new TargetSelection()));

        cut.Find("[data-matched]").GetAttribute("data-matched").ShouldBe("none");
        cut.Find("input[data-target=tags]").Change("role=web");
        cut.WaitForAssertion(() => cut.FindAll("[data-server]").Select(e => e.GetAttribute("data-server")).ShouldBe(["web-1", "web-2"], ignoreOrder: true));

        cut.Find("input[data-target=env]").Change("prod");
        cut.WaitForAssertion(() => cut.FindAll("[data-server]").Select(e => e.GetAttribute("data-server")).ShouldBe(["web-1"]));

        cut.Find("input[data-target=tags]").Change("role=cache");
        cut.WaitForAssertion(() => cut.Find("[data-matched]").GetAttribute("data-matched").ShouldBe("0"));

        cut.Find("input[data-target=tags]").Change("role");
        cut.WaitForAssertion(() => cut.Find("[role=alert]").TextContent.ShouldContain("is not key=value"));
    }

    [Fact]
    public void The_yaml_view_wraps_tokens_in_spans_and_shows_the_text_unchanged()
    {
        using var ctx = new BunitContext();
        const string yaml = "name: x # c\nrun: ['${{ params.a }}']\n";
        var cut = ctx.Render<YamlView>(ps => ps.Add(p => p.Yaml, yaml));
        cut.Find("pre[data-yaml]").TextContent.ShouldBe(yaml);
        cut.FindAll("span.y-key").Select(s => s.TextContent).ShouldBe(["name", "run"]);
        cut.Find("span.y-comment").TextContent.ShouldBe("# c");
        cut.Find("span.y-ref").TextContent.ShouldBe("${{ params.a }}");
    }

    [Fact]
    public void An_ask_answer_is_put_together_from_its_stream_lines()
    {
        const string stream = """
            {"type":"session","session":"ses_1"}
            {"type":"tool","tool":"diag_top"}
            {"type":"text","text":"web-1 is "}
            {"type":"tool","tool":"diag_disk","error":"refused"}
            {"type":"text","text":"swapping."}
            {"type":"done","session":"ses_1","run":"air_1","outcome":"completed","proposals":["rem_1"]}
            """;
        var answer = AiHome.AskAnswer.Read(stream);
        answer.Text.ShouldBe("web-1 is swapping.");
        answer.Tools.ShouldBe(["diag_top", "diag_disk (refused)"]);
        answer.Outcome.ShouldBe("completed");
        answer.Run.ShouldBe("air_1");
        answer.Proposals.ShouldBe(["rem_1"]);
    }
}
