using System.Globalization;
using System.Security.Claims;
using Medic.Contracts;

namespace Medic.Server.Auth;

/// <summary>Who is calling, in which tenant, with which role: built once by authentication, read by every endpoint.</summary>
public sealed record Caller : WhoAmIResponse
{
    public const string SessionMethod = "session";
    public const string TokenMethod = "token";

    public Caller(string userId, string username, string tenantId, string tenantSlug, Role role, bool superadmin, string authMethod, string? tokenId, DateTimeOffset? tokenExpiresAt)
        : base(userId, username, tenantId, tenantSlug, role, superadmin, authMethod, tokenId, tokenExpiresAt)
    {
    }

    public string Actor => "user:" + Username;

    public ClaimsPrincipal ToPrincipal(string scheme)
    {
        var claims = new List<Claim>
        {
            new(ClaimTypes.NameIdentifier, UserId),
            new(ClaimTypes.Name, Username),
            new("medic:tenant_id", TenantId),
            new("medic:tenant_slug", TenantSlug),
            new(ClaimTypes.Role, Role.ToWire()),
            new("medic:superadmin", Superadmin ? "true" : "false"),
            new("medic:auth", AuthMethod),
        };
        if (TokenId is not null) claims.Add(new Claim("medic:token_id", TokenId));
        if (TokenExpiresAt is { } exp) claims.Add(new Claim("medic:token_expires", exp.ToString("O")));
        return new ClaimsPrincipal(new ClaimsIdentity(claims, scheme, ClaimTypes.Name, ClaimTypes.Role));
    }

    public static Caller? From(ClaimsPrincipal? principal)
    {
        if (principal?.Identity?.IsAuthenticated != true)
        {
            return null;
        }

        string? Get(string type) => principal.FindFirst(type)?.Value;
        if (Get(ClaimTypes.NameIdentifier) is not { } userId || Get("medic:tenant_id") is not { } tenantId
            || !RoleNames.TryParse(Get(ClaimTypes.Role), out var role))
        {
            return null;
        }

        return new Caller(
            userId,
            Get(ClaimTypes.Name) ?? "",
            tenantId,
            Get("medic:tenant_slug") ?? "",
            role,
            Get("medic:superadmin") == "true",
            Get("medic:auth") ?? SessionMethod,
            Get("medic:token_id"),
            Get("medic:token_expires") is { } exp ? DateTimeOffset.Parse(exp, CultureInfo.InvariantCulture) : null);
    }
}

internal static class HttpContextCallerExtensions
{
    /// <summary>The authenticated caller; endpoints that call this require authorization, so it is always there.</summary>
    public static Caller Caller(this HttpContext context) =>
        Auth.Caller.From(context.User) ?? throw new InvalidOperationException("Endpoint reached without an authenticated caller.");

    public static string? ClientAddress(this HttpContext context) => context.Connection.RemoteIpAddress?.ToString();
}
