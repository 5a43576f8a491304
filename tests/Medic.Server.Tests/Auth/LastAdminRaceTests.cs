using System.Data.Common;
using System.Net;
using Dapper;
using Medic.Contracts;
using Medic.Server.Tests.Infrastructure;

namespace Medic.Server.Tests.Auth;

/// <summary>
/// Two admins demoting (or disabling) each other at the same moment on PostgreSQL, where requests
/// run in parallel transactions: one must win and the other must be told it would remove the last
/// admin. The test makes the race certain by holding both user rows locked until both requests
/// are waiting on them.
/// </summary>
public sealed class LastAdminRaceTests
{
    /// <summary>
    /// Waits until <paramref name="count"/> other sessions wait on a lock. Polls from a connection of
    /// its own: inside a transaction pg_stat_activity keeps showing the snapshot it first took.
    /// </summary>
    private static async Task WaitForLockWaitersAsync(TestDatabase db, int count)
    {
        var deadline = DateTime.UtcNow.AddSeconds(20);
        while (true)
        {
            await using (var c = await db.Database.OpenAsync())
            {
                var waiting = await c.ExecuteScalarAsync<long>(
                    "SELECT COUNT(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'");
                if (waiting >= count)
                {
                    return;
                }

                if (DateTime.UtcNow > deadline)
                {
                    throw new TimeoutException($"only {waiting} of {count} requests reached the locked rows");
                }
            }

            await Task.Delay(20);
        }
    }

    [Theory]
    [InlineData("role")]
    [InlineData("disable")]
    public async Task Two_admins_removing_each_other_at_once_leave_one_admin(string how)
    {
        await using var server = await MedicServer.StartAsync(TestDatabase.Postgres);
        var ida = await server.ClientForNewUserAsync(server.Admin, "ida", Role.Admin);
        (await server.Admin.GetAsync("/api/v1/whoami")).StatusCode.ShouldBe(HttpStatusCode.OK);
        (await ida.GetAsync("/api/v1/whoami")).StatusCode.ShouldBe(HttpStatusCode.OK);

        HttpRequestMessage Remove(string username) => how == "role"
            ? new HttpRequestMessage(HttpMethod.Put, $"/api/v1/users/{username}/role") { Content = Json.Raw("""{"role":"viewer"}""") }
            : new HttpRequestMessage(HttpMethod.Post, $"/api/v1/users/{username}/disable");

        Task<HttpResponseMessage> first, second;
        await using (var holder = await server.Database.Database.OpenAsync())
        {
            await using var tx = await holder.BeginTransactionAsync();
            await holder.ExecuteAsync("SELECT id FROM users WHERE username IN ('admin', 'ida') FOR UPDATE", transaction: tx);

            using var adminRemovesIda = Remove("ida");
            using var idaRemovesAdmin = Remove("admin");
            first = server.Admin.SendAsync(adminRemovesIda);
            second = ida.SendAsync(idaRemovesAdmin);
            await WaitForLockWaitersAsync(server.Database, 2);
            await tx.CommitAsync();
            await Task.WhenAll(first, second);
        }

        using var a = await first;
        using var b = await second;
        var statuses = new[] { a.StatusCode, b.StatusCode }.Order().ToList();
        var admins = await server.Database.ScalarAsync<long>("SELECT COUNT(*) FROM users WHERE role = 'admin' AND disabled = false");
        admins.ShouldBe(1, $"answers were {(int)a.StatusCode} and {(int)b.StatusCode}");
        statuses.ShouldBe([HttpStatusCode.OK, HttpStatusCode.Conflict]);
    }
}
