using Medic.Contracts;

namespace Medic.Server.Runbooks;

internal sealed class RunbookStepRow
{
    public int Seq { get; set; }
    public string Server { get; set; } = "";
    public int Step { get; set; }
    public string Name { get; set; } = "";
    public string Type { get; set; } = "";
    public string Phase { get; set; } = "";
    /// <summary>The stored text of <see cref="StatusValue"/>, for Dapper: unknown text fails the read.</summary>
    public string Status { get => StatusValue.ToText(); set => StatusValue = StateText.Parse<RunbookStepStatus>(value); }

    public RunbookStepStatus StatusValue { get; set; }
    public int? ExitCode { get; set; }
    public long DurationMs { get; set; }
    public string Stdout { get; set; } = "";
    public string Stderr { get; set; } = "";
    public bool Truncated { get; set; }
    public string? Reason { get; set; }
    public DateTimeOffset StartedAt { get; set; }

    public RunbookStepResponse ToResponse() => new(Seq, Server, Step, Name, Type, Phase, StatusValue, ExitCode, DurationMs, Stdout, Stderr, Truncated, Reason, StartedAt);
}
