namespace Medic.Agent.Execution;

/// <summary>Finds programs the way a shell would, plus the system directories a service's PATH often lacks.</summary>
internal static class Executables
{
    // An agent started with a minimal PATH (cron, some init scripts) would otherwise miss ss, dmesg or
    // journalctl on distributions that keep them in sbin.
    private static readonly string[] SystemDirectories =
        ["/usr/local/sbin", "/usr/local/bin", "/usr/sbin", "/usr/bin", "/sbin", "/bin"];

    /// <summary>The absolute path of <paramref name="name"/>, or null when it is not installed or not executable.</summary>
    /// <param name="name">A bare program name searched on PATH, or a path containing '/' used as is.</param>
    /// <param name="searchPath">The PATH to search; the agent's own when null.</param>
    public static string? Find(string name, string? searchPath = null)
    {
        if (string.IsNullOrEmpty(name))
        {
            return null;
        }
        if (name.Contains('/'))
        {
            return File.Exists(name) && Libc.IsExecutable(name) ? name : null;
        }
        searchPath ??= Environment.GetEnvironmentVariable("PATH") ?? "";
        foreach (var directory in searchPath.Split(':', StringSplitOptions.RemoveEmptyEntries).Concat(SystemDirectories))
        {
            if (!directory.StartsWith('/'))
            {
                continue; // A relative PATH entry would depend on the working directory.
            }
            var candidate = Path.Join(directory, name);
            if (File.Exists(candidate) && Libc.IsExecutable(candidate))
            {
                return candidate;
            }
        }
        return null;
    }

    public static bool IsInstalled(string name) => Find(name) is not null;
}
