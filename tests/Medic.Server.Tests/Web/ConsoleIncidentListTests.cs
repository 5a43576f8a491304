using System.Net;
using System.Text.RegularExpressions;
using Medic.Contracts;
using Medic.Server.Tests.Infrastructure;

namespace Medic.Server.Tests.Web;

/// <summary>The console's incident list as the server first renders it: the filters are the query string, the same as the API's.</summary>
public sealed partial class ConsoleIncidentListTests
{
    [Theory]
    [MemberData(nameof(Dialects.Both), MemberType = typeof(Dialects))]
    public async Task The_list_filters_by_status_severity_and_title_text_from_the_address(string dialect)
    {
        await using var server = await MedicServer.StartAsync(dialect);
        var admin = await ConsoleSession.SignInAsync(server, MedicServer.AdminUsername, MedicServer.AdminPassword);
        (await admin.GetPageAsync("/incidents")).ShouldContain("No incidents yet");

        var disk = await OpenAsync(server, "Disk full on DB-1", "critical");
        var web = await OpenAsync(server, "nginx 50%_down", "warning");
        var memory = await OpenAsync(server, "Memory low", "critical");
        (await server.Admin.PostAsync($"/api/v1/incidents/{memory}/resolve", Json.Raw("{}"))).StatusCode.ShouldBe(HttpStatusCode.OK);

        Listed(await admin.GetPageAsync("/incidents")).ShouldBe([memory, web, disk]);
        Listed(await admin.GetPageAsync("/incidents?text=disk")).ShouldBe([disk]);
        // LIKE's wildcards in the text are taken literally.
        Listed(await admin.GetPageAsync("/incidents?text=" + Uri.EscapeDataString("0%_d"))).ShouldBe([web]);
        Listed(await admin.GetPageAsync("/incidents?text=" + Uri.EscapeDataString("%"))).ShouldBe([web]);
        Listed(await admin.GetPageAsync("/incidents?text=" + Uri.EscapeDataString("l_w"))).ShouldBeEmpty();
        Listed(await admin.GetPageAsync("/incidents?status=active&severity=critical")).ShouldBe([disk]);
        Listed(await admin.GetPageAsync("/incidents?status=resolved")).ShouldBe([memory]);
        var none = await admin.GetPageAsync("/incidents?text=nothing-like-this");
        Listed(none).ShouldBeEmpty();
        none.ShouldContain("No incident matches these filters.");

        var wrong = await admin.GetPageAsync("/incidents?severity=bogus");
        wrong.ShouldContain("role=\"alert\"");
        wrong.ShouldContain("bogus");
        wrong.ShouldContain("is not one of: critical, warning, info.");

        // The API takes the same text filter.
        using var api = await server.Admin.GetAsync("/api/v1/incidents?text=DISK");
        (await api.ReadAsync(MedicJson.Default.IncidentPage)).Items.Select(i => i.Id).ShouldBe([disk]);

        // Case folds beyond ASCII on both dialects (SQLite's own LOWER leaves "Ü" as it is).
        var umlaut = await OpenAsync(server, "Dienst ÜBERLASTET auf Straße 7", "warning");
        Listed(await admin.GetPageAsync("/incidents?text=" + Uri.EscapeDataString("überlastet"))).ShouldBe([umlaut]);
        using var folded = await server.Admin.GetAsync("/api/v1/incidents?text=" + Uri.EscapeDataString("AUF STRAßE"));
        (await folded.ReadAsync(MedicJson.Default.IncidentPage)).Items.Select(i => i.Id).ShouldBe([umlaut]);
    }

    private static async Task<string> OpenAsync(MedicServer server, string title, string severity)
    {
        using var opened = await server.Admin.PostAsync("/api/v1/incidents", Json.Raw($$"""{"title":"{{title}}","severity":"{{severity}}"}"""));
        return (await opened.ReadAsync(MedicJson.Default.IncidentResponse, HttpStatusCode.Created)).Id;
    }

    private static List<string> Listed(string html) => [.. IncidentRow().Matches(html).Select(m => m.Groups[1].Value)];

    [GeneratedRegex("<tr data-incident=\"([^\"]+)\"")]
    private static partial Regex IncidentRow();
}
