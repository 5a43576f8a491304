using System.Net;
using Medic.Contracts;
using Medic.Contracts.Agent;
using Medic.Server.Tests.Infrastructure;

namespace Medic.Server.Tests.Detection;

/// <summary>Monitors set through the API: what is omitted takes the same defaults as 'medic monitors add'; what no agent would accept is refused here.</summary>
public sealed class MonitorsApiTests
{
    [Theory]
    [MemberData(nameof(Dialects.Both), MemberType = typeof(Dialects))]
    public async Task A_monitor_created_through_the_api_gets_the_cli_defaults_for_what_it_omits(string dialect)
    {
        await using var server = await MedicServer.StartAsync(dialect);

        using var response = await server.Admin.PostAsync("/api/v1/monitors",
            Json.Raw("""{"name":"web","tags":{"role":"web"},"definition":{"name":"web","kind":"tcp","host":"127.0.0.1","port":80}}"""));
        var created = await response.ReadAsync(MedicJson.Default.MonitorResponse, HttpStatusCode.Created);

        // What 'medic monitors add --kind tcp' sends when no option overrides a default.
        var cli = new MonitorDefinition { Name = "web", Kind = MonitorKind.Tcp };
        using var stored = await server.Admin.GetAsync("/api/v1/monitors/web");
        var definition = (await stored.ReadAsync(MedicJson.Default.MonitorResponse)).Definition;
        foreach (var d in new[] { created.Definition, definition })
        {
            d.RecoverAfter.ShouldBe(cli.RecoverAfter);
            d.Severity.ShouldBe(cli.Severity);
            d.TimeoutSeconds.ShouldBe(cli.TimeoutSeconds);
            d.Labels.ShouldNotBeNull().ShouldBeEmpty();
        }

        definition.RecoverAfter.ShouldBe(1);
        definition.Severity.ShouldBe(MonitorSeverity.Critical);
    }

    [Fact]
    public async Task Heal_and_health_limits_omitted_in_the_api_take_the_cli_defaults()
    {
        await using var server = await MedicServer.StartAsync(TestDatabase.Sqlite);

        using var response = await server.Admin.PostAsync("/api/v1/monitors",
            Json.Raw("""{"name":"shop","tags":{"role":"web"},"definition":{"name":"shop","kind":"process","unit":"shop.service","heal":{},"health":{"http":"http://127.0.0.1:8080/"}}}"""));
        var d = (await response.ReadAsync(MedicJson.Default.MonitorResponse, HttpStatusCode.Created)).Definition;

        d.Heal.ShouldBe(new HealDefinition());
        d.Health!.Failures.ShouldBe(new HealthCheckDefinition().Failures);
        d.Health.TimeoutSeconds.ShouldBe(new HealthCheckDefinition().TimeoutSeconds);
    }

    [Theory]
    [InlineData("""{"recover_after":0}""", "recover_after")]
    [InlineData("""{"timeout_seconds":0}""", "timeout_seconds")]
    [InlineData("""{"for_seconds":-5}""", "for_seconds")]
    [InlineData("""{"severity":"urgent"}""", "")]
    public async Task Values_every_agent_would_refuse_are_refused_with_a_problem(string extra, string named)
    {
        await using var server = await MedicServer.StartAsync(TestDatabase.Sqlite);
        var definition = """{"name":"web","kind":"tcp","host":"127.0.0.1","port":80,""" + extra[1..];

        using var response = await server.Admin.PostAsync("/api/v1/monitors", Json.Raw("""{"name":"web","tags":{"role":"web"},"definition":""" + definition + "}"));

        var status = (int)response.StatusCode;
        status.ShouldBeInRange(400, 499);
        (await response.ShouldBeProblemAsync(response.StatusCode)).ToJsonString().ShouldContain(named);
        (await server.Database.ScalarAsync<long>("SELECT COUNT(*) FROM monitors")).ShouldBe(0);
    }
}
