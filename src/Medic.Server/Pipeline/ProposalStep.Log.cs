namespace Medic.Server.Pipeline;

internal sealed partial class ProposalStep
{
    [LoggerMessage(601, LogLevel.Information, "Incident {IncidentId}: {Runbook} proposed; gate {Gate}: {Reason}")]
    private partial void LogProposed(string incidentId, string runbook, string gate, string reason);
}
