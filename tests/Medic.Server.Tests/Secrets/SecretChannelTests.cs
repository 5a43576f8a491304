using System.Net;
using Medic.Contracts;
using Medic.Server.Tests.Infrastructure;
using Medic.Server.Tests.Notifications;

namespace Medic.Server.Tests.Secrets;

/// <summary>A notification channel whose URL or token is <c>secret:NAME</c>: read when a message goes out.</summary>
public sealed class SecretChannelTests
{
    [Theory]
    [MemberData(nameof(Dialects.Both), MemberType = typeof(Dialects))]
    public async Task A_channel_naming_a_secret_sends_with_its_current_value_and_fails_clearly_once_it_is_deleted(string dialect)
    {
        await using var receiver = await RecordingReceiver.StartAsync();
        await using var server = await MedicServer.StartAsync(dialect);
        async Task SetAsync(string value) =>
            (await server.Admin.PutAsync("/api/v1/secrets/tg-token", Json.Body(new SetSecretRequest(value), SecretsJson.Default.SetSecretRequest))).IsSuccessStatusCode.ShouldBeTrue();
        await SetAsync("42:first-bot-token");

        using var add = await server.Admin.PostAsync("/api/v1/notification-channels",
            Json.Raw($$"""{"name":"tg","kind":"telegram","secret":"secret:tg-token","chat_id":"1001","api_url":"{{receiver.Address}}"}"""));
        add.StatusCode.ShouldBe(HttpStatusCode.Created);

        async Task<NotificationTestResponse> TestAsync()
        {
            using var response = await server.Admin.PostAsync("/api/v1/notification-channels/tg/test", null);
            return await response.ReadAsync(MedicJson.Default.NotificationTestResponse);
        }

        (await TestAsync()).Delivered.ShouldBeTrue();
        await SetAsync("42:rotated-bot-token");
        (await TestAsync()).Delivered.ShouldBeTrue();
        receiver.Requests.Select(r => r.Path).ShouldBe(["/bot42:first-bot-token/sendMessage", "/bot42:rotated-bot-token/sendMessage"]);

        (await server.Admin.DeleteAsync("/api/v1/secrets/tg-token")).StatusCode.ShouldBe(HttpStatusCode.NoContent);
        var failed = await TestAsync();
        failed.Delivered.ShouldBeFalse();
        failed.Detail.ShouldBe("the secret 'tg-token' this channel names does not exist in this tenant; set it with 'medic secrets set tg-token'");
        receiver.Requests.Count.ShouldBe(2);
    }

    [Fact]
    public async Task A_webhook_channel_takes_secret_NAME_as_its_url_and_a_bad_name_is_refused()
    {
        await using var receiver = await RecordingReceiver.StartAsync();
        await using var server = await MedicServer.StartAsync(TestDatabase.Sqlite);
        (await server.Admin.PutAsync("/api/v1/secrets/hook-url", Json.Body(new SetSecretRequest(receiver.Address + "hooks/abc"), SecretsJson.Default.SetSecretRequest)))
            .StatusCode.ShouldBe(HttpStatusCode.Created);
        using var add = await server.Admin.PostAsync("/api/v1/notification-channels", Json.Raw("""{"name":"hook","kind":"webhook","url":"secret:hook-url"}"""));
        (await add.ReadAsync(MedicJson.Default.NotificationChannelResponse, HttpStatusCode.Created)).Target.ShouldBe("secret:hook-url");
        using var sent = await server.Admin.PostAsync("/api/v1/notification-channels/hook/test", null);
        (await sent.ReadAsync(MedicJson.Default.NotificationTestResponse)).Delivered.ShouldBeTrue();
        receiver.Requests.ShouldHaveSingleItem().Path.ShouldBe("/hooks/abc");

        using var bad = await server.Admin.PostAsync("/api/v1/notification-channels", Json.Raw("""{"name":"bad","kind":"slack","url":"secret:Not A Name"}"""));
        (await bad.ShouldBeProblemAsync(HttpStatusCode.BadRequest)).Detail().ShouldContain("secret:NAME");
    }
}
