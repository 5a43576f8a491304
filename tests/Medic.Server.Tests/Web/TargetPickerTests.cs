using Bunit;
using Medic.Contracts;
using Medic.Server.Fleet;
using Medic.Server.Storage;
using Medic.Server.Tests.Infrastructure;
using Medic.Server.Web.Shared;
using Microsoft.Extensions.DependencyInjection;

namespace Medic.Server.Tests.Web;

/// <summary>
/// The target picker asks the database for what the selection matches (the first 50 and the count)
/// instead of reading the whole fleet, and it must match exactly the servers the API's selector
/// matches (<see cref="Executions.Select"/>), on both dialects.
/// </summary>
public sealed class TargetPickerTests
{
    private static readonly DateTimeOffset At = new(2026, 12, 1, 12, 0, 0, TimeSpan.Zero);

    /// <summary>120 servers of tenant one (web-000 … web-119) with roles, environments and groups, and a few of tenant two.</summary>
    private static async Task<TestDatabase> FleetAsync(string dialect, string dir)
    {
        var db = await TestDatabase.CreateAsync(dialect, dir);
        await new Migrator(db.Database).ApplyAsync();
        await db.ExecuteAsync("INSERT INTO tenants (id, slug, name, created_at) VALUES ('ten_1', 'one', 'One', @At), ('ten_2', 'two', 'Two', @At)", new { At });
        for (var i = 0; i < 120; i++)
        {
            var groups = (i % 4) switch { 0 => "eu,backup", 1 => "eu", 2 => "us,eu_west", _ => null };
            var tags = $$"""{"role":"{{(i % 3 == 0 ? "db" : "web")}}","env":"{{(i % 2 == 0 ? "prod" : "staging")}}"{{(groups is null ? "" : $",\"groups\":\"{groups}\"")}}}""";
            await db.ExecuteAsync("INSERT INTO nodes (id, tenant_id, name, tags, status, enrolled_at) VALUES (@id, 'ten_1', @name, @tags, @status, @At)",
                new { id = $"nod_{i:000}", name = $"web-{i:000}", tags, status = i % 5 == 0 ? "offline" : "online", At });
        }

        await db.ExecuteAsync("""
            INSERT INTO nodes (id, tenant_id, name, tags, status, enrolled_at) VALUES
              ('nod_x1', 'ten_2', 'web-000', '{"role":"web","env":"prod","groups":"eu"}', 'online', @At),
              ('nod_x2', 'ten_2', 'other-1', '{"role":"db","env":"prod","groups":"eu"}', 'online', @At)
            """, new { At });
        return db;
    }

    public static TheoryData<string, string> Selections()
    {
        var data = new TheoryData<string, string>();
        foreach (var dialect in new[] { TestDatabase.Sqlite, TestDatabase.Postgres })
        {
            foreach (var selection in new[] { "all", "tags:role=web", "env:prod", "tags:role=db env:staging", "groups:eu", "groups:eu_west", "groups:eu backup",
                         "groups:e", "names:web-001 web-002 nod_003 ghost", "names:web-001 web-003 tags:role=db", "tags:role=web groups:us env:prod" })
            {
                data.Add(dialect, selection);
            }
        }

        return data;
    }

    private static TargetSelection Parse(string text)
    {
        var selection = new TargetSelection();
        foreach (var part in text.Split(' ').Aggregate(new List<string>(), (parts, word) =>
                 {
                     if (word.Contains(':', StringComparison.Ordinal) || word == "all") parts.Add(word);
                     else parts[^1] += " " + word;
                     return parts;
                 }))
        {
            var (key, value) = part == "all" ? ("all", "") : (part[..part.IndexOf(':', StringComparison.Ordinal)], part[(part.IndexOf(':', StringComparison.Ordinal) + 1)..]);
            switch (key)
            {
                case "all": selection.All = true; break;
                case "tags": selection.Tags = value; break;
                case "env": selection.Environment = value; break;
                case "groups": selection.Groups = value; break;
                case "names": selection.Names = value; break;
            }
        }

        return selection;
    }

    [Theory]
    [MemberData(nameof(Selections))]
    public async Task The_database_matches_exactly_the_servers_the_api_selector_matches(string dialect, string selection)
    {
        using var dir = new TempDirectory();
        await using var db = await FleetAsync(dialect, dir.Path);
        var nodes = new NodeStore(db.Database);
        var (selector, problem) = Parse(selection).ToSelector();
        problem.ShouldBeNull();

        var (query, queryProblem) = TargetSelection.Query(selector!, 500);
        queryProblem.ShouldBeNull();
        var page = await nodes.PageAsync("ten_1", query!);
        var expected = Executions.Select(await nodes.ListAsync("ten_1"), selector!).Select(n => n.Id).Order(StringComparer.Ordinal).ToList();

        page.Items.Select(n => n.Id).Order(StringComparer.Ordinal).ToList().ShouldBe(expected, customMessage: selection);
        page.Total.ShouldBe(expected.Count, selection);
    }

    [Theory]
    [MemberData(nameof(Dialects.Both), MemberType = typeof(Dialects))]
    public async Task The_preview_counts_every_match_lists_the_first_fifty_and_suggests_names_as_typed(string dialect)
    {
        using var dir = new TempDirectory();
        await using var db = await FleetAsync(dialect, dir.Path);
        using var ctx = new BunitContext();
        ctx.Services.AddSingleton(new NodeStore(db.Database));
        var cut = ctx.Render<TargetPicker>(ps => ps.Add(p => p.TenantId, "ten_1").Add(p => p.Selection, new TargetSelection()));

        // Names to pick from: the first 20 by name, not the fleet.
        cut.WaitForAssertion(() => cut.FindAll("datalist option").Count.ShouldBe(TargetPicker.Suggested));

        cut.Find("input[data-target=all]").Change(true);
        cut.WaitForAssertion(() => cut.Find("[data-matched]").GetAttribute("data-matched").ShouldBe("120"));
        cut.FindAll("[data-server]").Count.ShouldBe(TargetPicker.Shown);
        cut.FindAll("[data-server]")[0].GetAttribute("data-server").ShouldBe("web-000");
        cut.Markup.ShouldContain("and 70 more.");

        cut.Find("input[data-target=names]").Change("web-001, web-11");
        cut.WaitForAssertion(() => cut.FindAll("datalist option").Select(o => o.GetAttribute("value")).ShouldBe([.. Enumerable.Range(110, 10).Select(i => $"web-{i}")]));
        // web-11 is no server's name: only web-001 matches (names are exact, as the API matches them).
        cut.WaitForAssertion(() => cut.FindAll("[data-server]").Select(e => e.GetAttribute("data-server")).ShouldBe(["web-001"]));

        cut.Find("input[data-target=names]").Change("");
        cut.WaitForAssertion(() => cut.Find("[data-matched]").GetAttribute("data-matched").ShouldBe("120"));
        cut.Find("input[data-target=tags]").Change("Role=web");
        cut.WaitForAssertion(() => cut.Find("[role=alert]").TextContent.ShouldContain("tag key 'Role' must be"));
    }
}
