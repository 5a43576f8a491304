using Medic.Contracts;
using Medic.Server.Secrets;
using Medic.Server.Web.Shared;
using Microsoft.AspNetCore.Components;

namespace Medic.Server.Web.Pages.Settings;

/// <summary>Named secrets: names and metadata only; the value goes from a password field to the secrets API and is dropped from the page at once.</summary>
public partial class SecretSettings : ConsolePage
{
    private IReadOnlyList<SecretResponse> _secrets = [];
    private string? _problem, _saved;
    private bool _busy;
    private string _name = "", _value = "", _description = "";

    [Inject] private SecretStore Store { get; set; } = default!;
    [Inject] private ConsoleApi Api { get; set; } = default!;

    private protected override async Task LoadAsync() =>
        _secrets = [.. (await Store.ListAsync(Caller.TenantId, default)).Select(r => r.ToResponse()).OrderBy(s => s.Name, StringComparer.Ordinal)];

    private async Task SetAsync()
    {
        _busy = true;
        _saved = null;
        var name = _name.Trim();
        var value = _value;
        _value = "";
        var outcome = await Api.PutAsync("/api/v1/secrets/" + Uri.EscapeDataString(name), new SetSecretRequest(value, string.IsNullOrWhiteSpace(_description) ? null : _description.Trim()));
        _busy = false;
        _problem = outcome.Succeeded ? null : outcome.Message;
        if (!outcome.Succeeded) return;
        _saved = name;
        _name = _description = "";
        await LoadAsync();
    }

    private async Task DeleteAsync(SecretResponse secret)
    {
        var outcome = await Api.DeleteAsync("/api/v1/secrets/" + Uri.EscapeDataString(secret.Name));
        _problem = outcome.Succeeded ? null : outcome.Message;
        _saved = null;
        await LoadAsync();
    }
}
