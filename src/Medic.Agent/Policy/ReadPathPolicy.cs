using Medic.Agent.Diagnostics;
using Medic.Agent.Execution;
using Microsoft.Win32.SafeHandles;

namespace Medic.Agent.Policy;

/// <summary>
/// The one rule for every file the agent reads on someone else's behalf (the file-tail verb, the
/// <c>log</c> and <c>file_age</c> monitors): the path, once every symlink and <c>..</c> is resolved,
/// must lie under one of the policy's <c>read_paths</c>.
/// </summary>
internal sealed class ReadPathPolicy(IReadOnlyList<string> roots)
{
    public static ReadPathPolicy From(AgentPolicy policy) => new(policy.ReadPaths);

    public IReadOnlyList<string> Roots { get; } = roots;

    public DiagnosticOptions DiagnosticOptions => new(Roots);

    /// <summary>
    /// Why <paramref name="path"/> may not be read, or null. A path that does not exist yet is judged
    /// by its nearest existing parent, resolved, plus the rest as written.
    /// </summary>
    public string? Refusal(string path)
    {
        if (path is not ['/', ..]) return $"'{path}' is not an absolute path";
        var resolved = Resolve(path);
        return Roots.Any(root => DiagnosticOptions.IsUnder(resolved, Libc.ResolveRealPath(root) ?? root))
            ? null
            : $"policy: '{path}'{(resolved == path ? "" : $" (resolves to '{resolved}')")} is outside this node's read_paths ({string.Join(", ", Roots)})";
    }

    /// <summary>Opens a regular file for reading if the file actually opened lies under the roots (checked on the open descriptor, so a symlink swapped in after the check does not help).</summary>
    public (SafeFileHandle? Handle, string? Refusal) Open(string path)
    {
        if (Refusal(path) is { } refusal) return (null, refusal);
        return FileTail.OpenAllowed(path, DiagnosticOptions);
    }

    private static string Resolve(string path)
    {
        var full = Path.GetFullPath(path);
        if (Libc.ResolveRealPath(full) is { } real) return real;
        var parent = Path.GetDirectoryName(full);
        return parent is null || parent == full ? full : Path.Combine(Resolve(parent), Path.GetFileName(full));
    }
}
