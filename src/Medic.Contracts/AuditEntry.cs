namespace Medic.Contracts;

/// <summary>
/// One entry of a tamper-evident audit chain. <see cref="Hash"/> is
/// SHA-256(<see cref="PrevHash"/> + <see cref="AuditChain.Canonical"/>), hex, so editing,
/// deleting or reordering any entry breaks every hash after it.
/// </summary>
public sealed record AuditEntry(
    string Chain,
    long Seq,
    string Id,
    string? TenantId,
    DateTimeOffset At,
    string Actor,
    string Action,
    string Target,
    string Outcome,
    string? ClientAddress,
    IReadOnlyDictionary<string, string> Details,
    string PrevHash,
    string Hash);

public static class AuditOutcomes
{
    public const string Success = "success";
    public const string Denied = "denied";
    public const string Rejected = "rejected";
    public const string Failed = "failed";
}
