using Medic.Agent.Execution;

namespace Medic.Agent.Diagnostics;

/// <summary>One curated, read-only diagnostic: what it is called, what it shows, what it accepts and how it runs.</summary>
internal sealed class DiagnosticVerb
{
    public required string Name { get; init; }

    /// <summary>One line for a human choosing a verb.</summary>
    public required string Description { get; init; }

    public IReadOnlyList<VerbParameter> Parameters { get; init; } = [];

    internal required Func<VerbRun, Task<ProcessOutcome>> Run { get; init; }
}
