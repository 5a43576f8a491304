using Medic.Agent.Execution;

namespace Medic.Agent.Diagnostics;

/// <summary>What the local policy lets diagnostics touch: the directories file-tail may read and the output budget.</summary>
internal sealed record DiagnosticOptions(IReadOnlyList<string> FileTailRoots)
{
    public static DiagnosticOptions Default { get; } = new(["/var/log", "/tmp"]);

    public long OutputCapBytes { get; init; } = ProcessRequest.DefaultOutputCapBytes;

    /// <summary>Whether <paramref name="path"/> (absolute, canonical) names something under an allowed root, by its spelling alone.</summary>
    public bool AllowsFile(string path) => FileTailRoots.Any(root => IsUnder(path, root));

    internal static bool IsUnder(string path, string root)
    {
        var trimmed = root.TrimEnd('/');
        return path.StartsWith(trimmed + "/", StringComparison.Ordinal) && path.Length > trimmed.Length + 1;
    }
}
