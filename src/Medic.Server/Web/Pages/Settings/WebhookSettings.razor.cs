using Medic.Contracts;
using Medic.Server.Detection.Webhooks;
using Medic.Server.Web.Shared;
using Microsoft.AspNetCore.Components;

namespace Medic.Server.Web.Pages.Settings;

/// <summary>
/// Alert webhooks: each source's delivery log, read on every view; the URLs and the tenant's
/// credentials only on request, through the webhooks API, which records that they were shown; and
/// the credentials set for one source (which ones, never their values), set and cleared through the API.
/// </summary>
public partial class WebhookSettings : ConsolePage
{
    private static readonly IReadOnlyList<string> Sources = [.. WebhookAdapters.BySource.Keys.Order(StringComparer.Ordinal)];

    private WebhooksResponse? _shown;
    private WebhookDeliveriesResponse? _deliveries;
    private string _source = Sources.Contains("alertmanager") ? "alertmanager" : Sources[0];
    private string? _problem;
    private bool _busy;
    private IReadOnlyList<WebhookSourceCredentialResponse> _sourceCredentials = [];
    private string _credentialSource = Sources.Contains("pagerduty") ? "pagerduty" : Sources[0];
    private string _credentialKind = WebhookCredentialStore.SigningSecretKind, _credentialUsername = "", _credentialValue = "";
    private IReadOnlyDictionary<string, string[]> _credentialErrors = NoErrors;

    private static readonly IReadOnlyDictionary<string, string[]> NoErrors = new Dictionary<string, string[]>();
    private static readonly string[] CredentialFields = ["secret", "username", "password"];

    [Inject] private WebhookDeliveryLog Log { get; set; } = default!;
    [Inject] private WebhookCredentialStore Credentials { get; set; } = default!;
    [Inject] private ConsoleApi Api { get; set; } = default!;

    private protected override LiveOptions LiveOptions() => new(TimeSpan.FromSeconds(15));

    private protected override async Task LoadAsync()
    {
        _deliveries = await Log.ReadAsync(Caller.TenantId, _source, 50, default);
        _sourceCredentials = [.. (await Credentials.SourceCredentialsAsync(Caller.TenantId, default)).OrderBy(c => c.Source, StringComparer.Ordinal).ThenBy(c => c.Kind, StringComparer.Ordinal)];
    }

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

    private async Task SetSourceCredentialAsync()
    {
        _busy = true;
        var basic = _credentialKind == WebhookCredentialStore.BasicAuthKind;
        var path = $"/api/v1/webhooks/sources/{Uri.EscapeDataString(_credentialSource)}/{(basic ? "basic-auth" : "secret")}";
        var outcome = basic
            ? await Api.PutAsync(path, new SetWebhookBasicAuthRequest(_credentialUsername.Trim(), _credentialValue))
            : await Api.PutAsync(path, new SetWebhookSecretRequest(_credentialValue));
        _busy = false;
        _credentialErrors = outcome.FieldErrors;
        _problem = outcome.Succeeded ? null : outcome.MessageExcept(CredentialFields);
        if (!outcome.Succeeded) return;
        // The value leaves the page once the server has it; the table shows only that it is set.
        _credentialValue = _credentialUsername = "";
        await LoadAsync();
    }

    private async Task ClearSourceCredentialAsync(WebhookSourceCredentialResponse credential)
    {
        _busy = true;
        var kind = credential.Kind == WebhookCredentialStore.BasicAuthKind ? "basic-auth" : "secret";
        var outcome = await Api.DeleteAsync($"/api/v1/webhooks/sources/{Uri.EscapeDataString(credential.Source)}/{kind}");
        _busy = false;
        _problem = outcome.Succeeded ? null : outcome.Message;
        await LoadAsync();
    }
}
