using Medic.Contracts;
using Medic.Server.Detection.Webhooks;
using Medic.Server.Web.Shared;
using Microsoft.AspNetCore.Components;

namespace Medic.Server.Web.Pages.Settings;

/// <summary>
/// Alert webhooks: each source's delivery log, read on every view; the URLs and the tenant's
/// credentials only on request, through the webhooks API, which records that they were shown.
/// </summary>
public partial class WebhookSettings : ConsolePage
{
    private static readonly IReadOnlyList<string> Sources = [.. WebhookAdapters.BySource.Keys.Order(StringComparer.Ordinal)];

    private WebhooksResponse? _shown;
    private WebhookDeliveriesResponse? _deliveries;
    private string _source = Sources.Contains("alertmanager") ? "alertmanager" : Sources[0];
    private string? _problem;
    private bool _busy;

    [Inject] private WebhookDeliveryLog Log { get; set; } = default!;
    [Inject] private ConsoleApi Api { get; set; } = default!;

    private protected override LiveOptions LiveOptions() => new(TimeSpan.FromSeconds(15));

    private protected override async Task LoadAsync() => _deliveries = await Log.ReadAsync(Caller.TenantId, _source, 50, default);

    private async Task SelectAsync(ChangeEventArgs e)
    {
        if (e.Value is string source && Sources.Contains(source))
        {
            _source = source;
            await LoadAsync();
        }
    }

    private async Task ShowAsync()
    {
        _busy = true;
        var outcome = await Api.GetAsync("/api/v1/webhooks");
        _busy = false;
        _problem = outcome.Succeeded ? null : outcome.Message;
        if (outcome.Succeeded) _shown = outcome.Read<WebhooksResponse>();
    }

    private async Task RotateAsync()
    {
        _busy = true;
        var outcome = await Api.PostAsync("/api/v1/webhooks/rotate", new RotateWebhooksRequest());
        _busy = false;
        _problem = outcome.Succeeded ? null : outcome.Message;
        if (outcome.Succeeded) _shown = outcome.Read<WebhooksResponse>();
    }
}
