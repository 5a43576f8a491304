using System.Text.Encodings.Web;
using Medic.Contracts;
using Medic.Server.Common;
using Microsoft.AspNetCore.Authentication;
using Microsoft.Extensions.Options;

namespace Medic.Server.Auth;

/// <summary>Authenticates <c>Authorization: Bearer mdk_…</c> API tokens against their stored hashes.</summary>
internal sealed class TokenAuthenticationHandler(
    IOptionsMonitor<AuthenticationSchemeOptions> options,
    ILoggerFactory logger,
    UrlEncoder encoder,
    TokenStore tokens,
    TimeProvider time)
    : AuthenticationHandler<AuthenticationSchemeOptions>(options, logger, encoder)
{
    public const string SchemeName = "token";

    /// <summary>Where the Prometheus exposition is served: the one path a <c>metrics</c> token opens.</summary>
    public const string MetricsPath = "/metrics";

    protected override async Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        var header = Request.Headers.Authorization.ToString();
        if (string.IsNullOrEmpty(header))
        {
            return AuthenticateResult.NoResult();
        }

        if (!header.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase))
        {
            return AuthenticateResult.Fail("The Authorization header is not 'Bearer <token>'.");
        }

        var secret = header["Bearer ".Length..].Trim();
        if (!secret.StartsWith(TokenStore.Scheme, StringComparison.Ordinal) || secret.Length > 200)
        {
            return AuthenticateResult.Fail("The bearer token is not a Medic API token.");
        }

        var identity = await tokens.ResolveAsync(secret, Context.RequestAborted);
        var now = time.GetUtcNow();
        if (identity is null) return AuthenticateResult.Fail("The API token is not known.");
        if (identity.RevokedAt is not null) return AuthenticateResult.Fail("The API token was revoked.");
        if (identity.ExpiresAt <= now) return AuthenticateResult.Fail($"The API token expired at {identity.ExpiresAt:u}.");
        if (identity.UserDisabled) return AuthenticateResult.Fail($"User '{identity.Username}' is disabled.");
        if (!RoleNames.TryParse(identity.Role, out var role) || !RoleNames.TryParse(identity.UserRole, out var userRole)
            || !(role == Role.Metrics ? Permissions.MayMintMetrics(userRole, identity.IsSuperadmin) : Permissions.Covers(userRole, role)))
        {
            return AuthenticateResult.Fail($"The token's role ({identity.Role}) is beyond its owner's current role ({identity.UserRole}{(identity.IsSuperadmin ? ", superadmin" : "")}).");
        }

        // Checked here, before any endpoint's policy: an endpoint that only asks for a signed-in caller must not serve a scraper.
        if (role == Role.Metrics && !Request.Path.Equals(MetricsPath, StringComparison.Ordinal))
        {
            return AuthenticateResult.Fail($"A metrics token only scrapes {MetricsPath}.");
        }

        if (identity.LastUsedAt is null || now - identity.LastUsedAt > TimeSpan.FromMinutes(1))
        {
            await tokens.TouchAsync(identity.Id, now, Context.RequestAborted);
        }

        var caller = new Caller(identity.UserId, identity.Username, identity.TenantId, identity.TenantSlug, role,
            identity.IsSuperadmin && role is Role.Admin or Role.Metrics, Caller.TokenMethod, identity.Id, identity.ExpiresAt);
        return AuthenticateResult.Success(new AuthenticationTicket(caller.ToPrincipal(SchemeName), SchemeName));
    }

    protected override async Task HandleChallengeAsync(AuthenticationProperties properties)
    {
        var result = await HandleAuthenticateOnceSafeAsync();
        Response.Headers.WWWAuthenticate = "Bearer";
        var detail = result.Failure?.Message ?? "This call needs an API token or a console session.";
        await Problems.WriteAsync(Context, StatusCodes.Status401Unauthorized, "Not authenticated", detail,
            "run 'medic login --server URL' (or create a token with 'medic tokens create') and send it as 'Authorization: Bearer <token>'");
    }
}
