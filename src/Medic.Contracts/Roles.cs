using System.Text.Json.Serialization;

namespace Medic.Contracts;

/// <summary>A user's or token's role inside one tenant. Superadmin is a flag on the user, not a role.</summary>
[JsonConverter(typeof(RoleJsonConverter))]
public enum Role
{
    [JsonStringEnumMemberName("viewer")] Viewer,
    [JsonStringEnumMemberName("approver")] Approver,
    [JsonStringEnumMemberName("operator")] Operator,
    [JsonStringEnumMemberName("admin")] Admin,

    /// <summary>API tokens only, never a user: scrapes <c>/metrics</c> and nothing else (docs/metrics.md).</summary>
    [JsonStringEnumMemberName("metrics")] Metrics,
}

/// <summary>Roles travel by name only: a number would be read as whatever role has that index, or as no role at all.</summary>
public sealed class RoleJsonConverter() : JsonStringEnumConverter<Role>(namingPolicy: null, allowIntegerValues: false);

public static class RoleNames
{
    public static string ToWire(this Role role) => role switch
    {
        Role.Viewer => "viewer",
        Role.Approver => "approver",
        Role.Operator => "operator",
        Role.Admin => "admin",
        Role.Metrics => "metrics",
        _ => throw new ArgumentOutOfRangeException(nameof(role)),
    };

    public static bool TryParse(string? text, out Role role)
    {
        switch (text?.Trim().ToLowerInvariant())
        {
            case "viewer": role = Role.Viewer; return true;
            case "approver": role = Role.Approver; return true;
            case "operator": role = Role.Operator; return true;
            case "admin": role = Role.Admin; return true;
            case "metrics": role = Role.Metrics; return true;
            default: role = default; return false;
        }
    }

    /// <summary>The roles a user can hold.</summary>
    public const string All = "viewer, approver, operator, admin";

    /// <summary>The roles a token can carry: a user's, or <c>metrics</c>.</summary>
    public const string ForTokens = All + ", metrics";
}
