namespace Medic.Server.Runbooks;

/// <summary>What the steps of one run share: its row, its runbook, whether it was confirmed, and the sequence number of its last step result.</summary>
internal sealed class RunState(RunbookRunRow row, Runbook runbook, bool confirmed)
{
    public RunbookRunRow Row { get; } = row;
    public Runbook Runbook { get; } = runbook;
    public bool Confirmed { get; } = confirmed;
    public int Seq { get; set; }
}
