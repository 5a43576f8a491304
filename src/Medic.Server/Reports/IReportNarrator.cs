using Medic.Contracts;

namespace Medic.Server.Reports;

/// <summary>
/// Writes the narrative section of an incident's report. The AI layer implements it when an agent
/// holds the <c>report</c> role; it returns null when none does (or no model is configured), and the
/// report is built from the record alone.
/// </summary>
internal interface IReportNarrator
{
    Task<ReportNarrative?> NarrateAsync(string tenantId, IncidentReport report, CancellationToken ct);
}
