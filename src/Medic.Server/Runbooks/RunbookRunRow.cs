using Medic.Contracts;

namespace Medic.Server.Runbooks;

internal sealed class RunbookRunRow
{
    public string Id { get; set; } = "";
    public string TenantId { get; set; } = "";
    public string Runbook { get; set; } = "";
    public int Version { get; set; }
    public string Source { get; set; } = "";
    public string ContentHash { get; set; } = "";
    public string Actor { get; set; } = "";
    public string? IdempotencyKey { get; set; }
    public string Params { get; set; } = "{}";
    public string Targets { get; set; } = "[]";
    /// <summary>The stored text of <see cref="StatusValue"/>, for Dapper: unknown text fails the read.</summary>
    public string Status { get => StatusValue.ToText(); set => StatusValue = StateText.Parse<RunbookRunStatus>(value); }

    public RunbookRunStatus StatusValue { get; set; }
    public string? Error { get; set; }
    public DateTimeOffset CreatedAt { get; set; }
    public DateTimeOffset? FinishedAt { get; set; }
}
