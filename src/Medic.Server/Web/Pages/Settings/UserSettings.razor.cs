using Medic.Contracts;
using Medic.Server.Auth;
using Medic.Server.Web.Shared;
using Microsoft.AspNetCore.Components;

namespace Medic.Server.Web.Pages.Settings;

/// <summary>The tenant's users; admins add them, change roles, disable them and reset their passwords through the users API.</summary>
public partial class UserSettings : ConsolePage
{
    private IReadOnlyList<UserResponse> _users = [];
    private UserCreatedResponse? _created;
    private UserCreatedResponse? _reset;
    private string? _confirmReset;
    private string? _problem;
    private bool _busy;
    private string _username = "", _displayName = "";
    private Role _role = Role.Viewer;

    [Inject] private UserStore Users { get; set; } = default!;
    [Inject] private ConsoleApi Api { get; set; } = default!;

    private protected override async Task LoadAsync() =>
        _users = [.. (await Users.ListAsync(Caller.TenantId)).Select(u => u.ToResponse()).OrderBy(u => u.Username, StringComparer.Ordinal)];

    private async Task AddAsync()
    {
        _busy = true;
        var outcome = await Api.PostAsync("/api/v1/users", new CreateUserRequest(_username.Trim(), _role, null, string.IsNullOrWhiteSpace(_displayName) ? null : _displayName.Trim()));
        _busy = false;
        _problem = outcome.Succeeded ? null : outcome.Message;
        if (!outcome.Succeeded) return;
        _created = outcome.Read<UserCreatedResponse>();
        _username = _displayName = "";
        await LoadAsync();
    }

    private async Task SetRoleAsync(UserResponse user, string? value)
    {
        if (!Enum.TryParse<Role>(value, out var role) || role == user.Role) return;
        await AfterAsync(await Api.PutAsync($"/api/v1/users/{Uri.EscapeDataString(user.Id)}/role", new SetRoleRequest(role)));
    }

    private async Task SetDisabledAsync(UserResponse user, bool disable) =>
        await AfterAsync(await Api.PostAsync($"/api/v1/users/{Uri.EscapeDataString(user.Id)}/{(disable ? "disable" : "enable")}"));

    /// <summary>The API generates the new password and answers it once; the page shows it until "Done" and never reads it back.</summary>
    private async Task ResetPasswordAsync(UserResponse user)
    {
        _busy = true;
        var outcome = await Api.PostAsync($"/api/v1/users/{Uri.EscapeDataString(user.Id)}/password", new ResetPasswordRequest());
        _busy = false;
        _confirmReset = null;
        _reset = outcome.Succeeded ? outcome.Read<UserCreatedResponse>() : null;
        await AfterAsync(outcome);
    }

    private async Task AfterAsync(ApiOutcome outcome)
    {
        _problem = outcome.Succeeded ? null : outcome.Message;
        // Reload either way: a refused role change puts the select back to the stored role.
        await LoadAsync();
    }
}
