using Medic.Contracts;

namespace Medic.Server.Pipeline;

/// <summary>Why a proposal could not be turned into a remediation (nothing was written).</summary>
internal sealed class ProposalException(string message, string remedy, int status = StatusCodes.Status422UnprocessableEntity, IReadOnlyDictionary<string, string>? errors = null) : Exception(message)
{
    public string Remedy { get; } = remedy;
    public int Status { get; } = status;
    public IReadOnlyDictionary<string, string>? Errors { get; } = errors;
}

/// <summary>What a proposal became: the remediation and where the incident stands.</summary>
internal sealed record ProposalOutcome(RemediationRow Remediation, IncidentResponse Incident, string? ApprovalId);
