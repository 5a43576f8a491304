using Medic.Contracts;
using Medic.Server.Auth;
using Medic.Server.Web.Shared;
using Microsoft.AspNetCore.Components;
using Radzen;

namespace Medic.Server.Web.Pages.Settings;

/// <summary>
/// API tokens: admins see the tenant's, others their own (as the tokens API decides). A new token's
/// secret is shown once in a dialog and is nowhere on the page afterwards.
/// </summary>
public partial class TokenSettings : ConsolePage
{
    private IReadOnlyList<TokenResponse> _tokens = [];
    private string? _problem;
    private bool _busy;
    private string _name = "", _expiresIn = "";
    private Role _role;

    [Inject] private TokenStore Tokens { get; set; } = default!;
    [Inject] private ConsoleApi Api { get; set; } = default!;
    [Inject] private DialogService Dialogs { get; set; } = default!;
    [Inject] private TimeProvider Time { get; set; } = default!;
    [Inject] private NavigationManager Navigation { get; set; } = default!;

    protected override async Task OnInitializedAsync()
    {
        await base.OnInitializedAsync();
        _role = Caller.Role;
    }

    private protected override async Task LoadAsync()
    {
        var owner = Can(Permission.Administer) ? null : Caller.UserId;
        _tokens = [.. (await Tokens.ListAsync(Caller.TenantId, owner)).Select(t => t.ToResponse()).OrderByDescending(t => t.CreatedAt)];
    }

    private string State(TokenResponse t) =>
        t.RevokedAt is not null ? "revoked" : t.ExpiresAt <= Time.GetUtcNow() ? "expired" : "active";

    private async Task CreateAsync()
    {
        _busy = true;
        var outcome = await Api.PostAsync("/api/v1/tokens", new CreateTokenRequest(_name.Trim(), _role, string.IsNullOrWhiteSpace(_expiresIn) ? null : _expiresIn.Trim()));
        _busy = false;
        _problem = outcome.Succeeded ? null : outcome.Message;
        if (!outcome.Succeeded) return;
        var created = outcome.Read<TokenCreatedResponse>();
        _name = _expiresIn = "";
        await LoadAsync();
        await Dialogs.OpenAsync<TokenSecret>("Your new API token",
            new Dictionary<string, object?> { ["Name"] = created.Token.Name, ["Secret"] = created.Secret, ["Server"] = Navigation.BaseUri.TrimEnd('/') },
            new DialogOptions { Width = "min(40rem, 95vw)", CloseDialogOnEsc = true });
    }

    private async Task RevokeAsync(TokenResponse token)
    {
        var outcome = await Api.DeleteAsync("/api/v1/tokens/" + Uri.EscapeDataString(token.Id));
        _problem = outcome.Succeeded ? null : outcome.Message;
        await LoadAsync();
    }
}
