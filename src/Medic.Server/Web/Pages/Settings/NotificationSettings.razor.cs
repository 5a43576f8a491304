using Medic.Contracts;
using Medic.Server.Notifications;
using Medic.Server.Web.Shared;
using Microsoft.AspNetCore.Components;

namespace Medic.Server.Web.Pages.Settings;

/// <summary>
/// Notification channels: list, add (every kind the API takes, e-mail with its SMTP settings),
/// remove, and send a test message through the API; secrets are typed into password fields, sent
/// once and dropped from the page. The routing rules are <see cref="NotificationRules"/>.
/// </summary>
public partial class NotificationSettings : ConsolePage
{
    private static readonly string[] Kinds = ["slack", "teams", "discord", "webhook", "telegram", "pagerduty", "email"];

    /// <summary>The fields the form shows the API's answers under.</summary>
    private static readonly string[] ShownFields = ["name", "url", "chat_id", "smtp_host", "smtp_port", "smtp_username", "from", "to", "secret"];

    private readonly Dictionary<string, NotificationTestResponse> _tests = [];
    private IReadOnlyList<NotificationChannelResponse> _channels = [];
    private string? _problem;
    private bool _busy;
    private string _name = "", _kind = "slack", _url = "", _secret = "", _chatId = "";
    private string _smtpHost = "", _smtpPort = "", _smtpUser = "", _from = "", _to = "";
    private bool _startTls;
    private IReadOnlyDictionary<string, string[]> _errors = new Dictionary<string, string[]>();

    [Inject] private NotificationStore Store { get; set; } = default!;
    [Inject] private ConsoleApi Api { get; set; } = default!;

    private bool UsesUrl => _kind is "slack" or "teams" or "discord" or "webhook";

    private string SecretLabel => _kind switch
    {
        "telegram" => "Bot token",
        "pagerduty" => "Routing key",
        "email" => "SMTP password (optional)",
        _ => "Signing secret (optional)",
    };

    private protected override async Task LoadAsync() =>
        _channels = [.. (await Store.ChannelsAsync(Caller.TenantId, default)).Select(c => c.ToResponse()).OrderBy(c => c.Name, StringComparer.Ordinal)];

    private void KindChanged() => _errors = new Dictionary<string, string[]>();

    private async Task AddAsync()
    {
        var email = _kind == "email";
        int? port = null;
        if (email && !string.IsNullOrWhiteSpace(_smtpPort))
        {
            if (!int.TryParse(_smtpPort.Trim(), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var p))
            {
                _errors = new Dictionary<string, string[]> { ["smtp_port"] = [$"'{_smtpPort.Trim()}' is not a port number"] };
                _problem = null;
                return;
            }

            port = p;
        }

        _busy = true;
        var request = new CreateNotificationChannelRequest(
            _name.Trim(), _kind,
            Url: UsesUrl ? _url.Trim() : null,
            Secret: string.IsNullOrEmpty(_secret) || _kind is "slack" or "teams" or "discord" ? null : _secret,
            ChatId: _kind == "telegram" ? _chatId.Trim() : null,
            SmtpHost: email ? _smtpHost.Trim() : null,
            SmtpPort: port,
            SmtpUsername: email && !string.IsNullOrWhiteSpace(_smtpUser) ? _smtpUser.Trim() : null,
            StartTls: email ? _startTls : null,
            From: email ? _from.Trim() : null,
            To: email ? [.. _to.Split([',', ' ', ';', '\n'], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)] : null);
        var outcome = await Api.PostAsync("/api/v1/notification-channels", request);
        _busy = false;
        _errors = outcome.FieldErrors;
        _problem = outcome.Succeeded ? null : outcome.MessageExcept(ShownFields);
        if (!outcome.Succeeded) return;
        // The secrets leave the page's memory once the server has them.
        _name = _url = _secret = _chatId = _smtpHost = _smtpPort = _smtpUser = _from = _to = "";
        _startTls = false;
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
