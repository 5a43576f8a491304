namespace Medic.Agent.Execution;

/// <summary>What to run: an argv (never a shell line), how long it may take and how much output it may produce.</summary>
/// <param name="Argv">The program (a bare name searched on PATH, or a path) and its arguments.</param>
/// <param name="Timeout">Past it the whole process group is killed and the outcome is a timeout.</param>
internal sealed record ProcessRequest(IReadOnlyList<string> Argv, TimeSpan Timeout)
{
    public const long DefaultOutputCapBytes = 1024 * 1024;

    /// <summary>Total bytes of stdout and stderr passed on; the rest is read and discarded.</summary>
    public long OutputCapBytes { get; init; } = DefaultOutputCapBytes;

    /// <summary>Variables added to (or replacing those of) the agent's own environment.</summary>
    public IReadOnlyDictionary<string, string>? Environment { get; init; }

    /// <summary>The directory the process starts in; the agent's own when null.</summary>
    public string? WorkingDirectory { get; init; }
}
