using Medic.Contracts;
using Microsoft.AspNetCore.Authorization;

namespace Medic.Server.Auth;

internal enum Permission
{
    /// <summary>See the tenant's servers, incidents and history.</summary>
    Read,

    /// <summary>Run commands, runbooks and diagnostics; manage servers and monitors.</summary>
    Operate,

    /// <summary>Approve or reject remediations waiting on a person.</summary>
    Approve,

    /// <summary>Manage the tenant's users, tokens, settings and audit log.</summary>
    Administer,

    /// <summary>Create and list tenants (superadmins only).</summary>
    ManageTenants,

    /// <summary>
    /// Scrape <c>/metrics</c>: the whole control plane's operational data, every tenant's series, so
    /// only a <c>metrics</c> token a superadmin created; no user's session or ordinary token scrapes.
    /// </summary>
    ScrapeMetrics,
}

/// <summary>
/// What each role may do. Roles are not a ladder: an approver can approve but not operate, an
/// operator can operate but not approve; an admin can do both.
/// </summary>
internal static class Permissions
{
    public static bool Allows(Role role, bool superadmin, Permission permission) => permission switch
    {
        Permission.Read => role is not Role.Metrics,
        Permission.Operate => role is Role.Operator or Role.Admin,
        Permission.Approve => role is Role.Approver or Role.Admin,
        Permission.Administer => role is Role.Admin,
        Permission.ManageTenants => superadmin && role is Role.Admin,
        Permission.ScrapeMetrics => superadmin && role is Role.Metrics,
        _ => false,
    };

    /// <summary>
    /// Whether a holder of <paramref name="holder"/> may hand out <paramref name="wanted"/> (to a token, say).
    /// No user role covers <c>metrics</c>: only a superadmin admin mints one (<see cref="MayMintMetrics"/>).
    /// </summary>
    public static bool Covers(Role holder, Role wanted) => wanted != Role.Metrics && (holder == wanted || holder == Role.Admin || wanted == Role.Viewer);

    /// <summary>Whether a user with this role and flag may create (and keep alive) a <c>metrics</c> token.</summary>
    public static bool MayMintMetrics(Role holder, bool superadmin) => superadmin && holder == Role.Admin;

    public static string PolicyName(Permission p) => "medic:" + p.ToString().ToLowerInvariant();

    public static void AddMedicPolicies(this AuthorizationOptions options)
    {
        foreach (var p in Enum.GetValues<Permission>())
        {
            options.AddPolicy(PolicyName(p), b => b.RequireAuthenticatedUser().AddRequirements(new PermissionRequirement(p)));
        }

        // Deny by default: an endpoint that forgets to declare its permission still needs a signed-in caller.
        options.FallbackPolicy = new AuthorizationPolicyBuilder().RequireAuthenticatedUser().Build();
    }

    public static TBuilder Requires<TBuilder>(this TBuilder builder, Permission permission)
        where TBuilder : IEndpointConventionBuilder => builder.RequireAuthorization(PolicyName(permission));
}

internal sealed record PermissionRequirement(Permission Permission) : IAuthorizationRequirement;

internal sealed class PermissionHandler : AuthorizationHandler<PermissionRequirement>
{
    protected override Task HandleRequirementAsync(AuthorizationHandlerContext context, PermissionRequirement requirement)
    {
        if (Caller.From(context.User) is { } caller && Permissions.Allows(caller.Role, caller.Superadmin, requirement.Permission))
        {
            context.Succeed(requirement);
        }

        return Task.CompletedTask;
    }
}
