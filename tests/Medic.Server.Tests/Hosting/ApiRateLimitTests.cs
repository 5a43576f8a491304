using System.Net;
using Medic.Server.Tests.Infrastructure;

namespace Medic.Server.Tests.Hosting;

public sealed class ApiRateLimitTests
{
    [Fact]
    public async Task A_token_over_its_per_minute_budget_gets_429_with_Retry_After_while_another_token_does_not()
    {
        await using var server = await MedicServer.StartAsync(TestDatabase.Sqlite, o => o.RateLimits.ApiPerMinute = 5);
        var second = server.Client(await server.LogInAsync(MedicServer.AdminUsername, MedicServer.AdminPassword));

        var answers = new List<HttpStatusCode>();
        for (var i = 0; i < 6; i++)
        {
            using var response = await server.Admin.GetAsync("/api/v1/whoami");
            answers.Add(response.StatusCode);
            if (response.StatusCode == HttpStatusCode.TooManyRequests)
            {
                response.Headers.RetryAfter.ShouldNotBeNull().Delta.ShouldNotBeNull().TotalSeconds.ShouldBeInRange(1, 60);
                await response.ShouldBeProblemAsync(HttpStatusCode.TooManyRequests);
            }
        }

        using var other = await second.GetAsync("/api/v1/whoami");

        answers.ShouldBe([HttpStatusCode.OK, HttpStatusCode.OK, HttpStatusCode.OK, HttpStatusCode.OK, HttpStatusCode.OK, HttpStatusCode.TooManyRequests]);
        other.StatusCode.ShouldBe(HttpStatusCode.OK);
    }
}
