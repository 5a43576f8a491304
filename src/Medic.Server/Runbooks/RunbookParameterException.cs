namespace Medic.Server.Runbooks;

/// <summary>Parameter values that fail the runbook's schema: nothing ran.</summary>
internal sealed class RunbookParameterException(IReadOnlyDictionary<string, string> errors)
    : Exception("invalid parameters: " + string.Join("; ", errors.Select(e => $"{e.Key}: {e.Value}")))
{
    public IReadOnlyDictionary<string, string> Errors { get; } = errors;
}
