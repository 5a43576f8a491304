using Medic.Contracts;
using Medic.Server.Notifications;
using Medic.Server.Web.Shared;
using Microsoft.AspNetCore.Components;

namespace Medic.Server.Web.Pages.Settings;

/// <summary>Notification channels: list, add (the kinds set with a URL or a token), remove, and send a test message through the API.</summary>
public partial class NotificationSettings : ConsolePage
{
    private static readonly string[] Kinds = ["slack", "teams", "discord", "webhook", "telegram", "pagerduty"];

    private readonly Dictionary<string, NotificationTestResponse> _tests = [];
    private IReadOnlyList<NotificationChannelResponse> _channels = [];
    private string? _problem;
    private bool _busy;
    private string _name = "", _kind = "slack", _url = "", _secret = "", _chatId = "";

    [Inject] private NotificationStore Store { get; set; } = default!;
    [Inject] private ConsoleApi Api { get; set; } = default!;

    private bool UsesUrl => _kind is "slack" or "teams" or "discord" or "webhook";

    private string SecretLabel => _kind switch
    {
        "telegram" => "Bot token",
        "pagerduty" => "Routing key",
        _ => "Signing secret (optional)",
    };

    private protected override async Task LoadAsync() =>
        _channels = [.. (await Store.ChannelsAsync(Caller.TenantId, default)).Select(c => c.ToResponse()).OrderBy(c => c.Name, StringComparer.Ordinal)];

    private async Task AddAsync()
    {
        _busy = true;
        var request = new CreateNotificationChannelRequest(
            _name.Trim(), _kind,
            Url: UsesUrl ? _url.Trim() : null,
            Secret: string.IsNullOrEmpty(_secret) || _kind is "slack" or "teams" or "discord" ? null : _secret,
            ChatId: _kind == "telegram" ? _chatId.Trim() : null);
        var outcome = await Api.PostAsync("/api/v1/notification-channels", request);
        _busy = false;
        _problem = outcome.Succeeded ? null : outcome.Message;
        if (!outcome.Succeeded) return;
        // The secrets leave the page's memory once the server has them.
        _name = _url = _secret = _chatId = "";
        await LoadAsync();
    }

    private async Task TestAsync(NotificationChannelResponse channel)
    {
        _busy = true;
        var outcome = await Api.PostAsync($"/api/v1/notification-channels/{Uri.EscapeDataString(channel.Id)}/test");
        _busy = false;
        _problem = outcome.Succeeded ? null : outcome.Message;
        if (outcome.Succeeded) _tests[channel.Id] = outcome.Read<NotificationTestResponse>();
    }

    private async Task RemoveAsync(NotificationChannelResponse channel)
    {
        var outcome = await Api.DeleteAsync("/api/v1/notification-channels/" + Uri.EscapeDataString(channel.Id));
        _problem = outcome.Succeeded ? null : outcome.Message;
        _tests.Remove(channel.Id);
        await LoadAsync();
    }
}
