using System.Security.Claims;
using Medic.Server.Auth;
using Microsoft.AspNetCore.Components.Authorization;
using Microsoft.AspNetCore.Components.Server;

namespace Medic.Server.Web;

/// <summary>
/// A console page stays open for hours over one circuit, while the cookie is checked only on HTTP
/// requests. This re-checks the session every <see cref="RevalidationInterval"/> as the cookie
/// check does (<see cref="SessionCookie"/>): a signed-out, disabled or re-roled user loses the page
/// and is sent to sign in again.
/// </summary>
internal sealed class SessionRevalidation(ILoggerFactory loggers, IServiceScopeFactory scopes)
    : RevalidatingServerAuthenticationStateProvider(loggers)
{
    protected override TimeSpan RevalidationInterval => TimeSpan.FromSeconds(30);

    protected override async Task<bool> ValidateAuthenticationStateAsync(AuthenticationState state, CancellationToken ct)
    {
        var caller = Caller.From(state.User);
        var sessionId = SessionCookie.SessionId(state.User);
        if (caller is null || sessionId is null) return false;
        await using var scope = scopes.CreateAsyncScope();
        var user = await scope.ServiceProvider.GetRequiredService<UserStore>().FindAsync(caller.TenantId, caller.UserId, ct);
        return user is { Disabled: false } && user.RoleValue == caller.Role && user.IsSuperadmin == caller.Superadmin
            && await scope.ServiceProvider.GetRequiredService<SessionStore>().IsActiveAsync(sessionId, user.Id, ct);
    }
}
