using Medic.Agent.Execution;
using TaskStatus = Medic.Contracts.Agent.TaskStatus;

namespace Medic.Agent.Diagnostics;

/// <summary>Packages with updates pending, from whichever package manager this distribution has.</summary>
internal static class PackageUpdates
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(120);

    public static DiagnosticVerb Verb { get; } = new()
    {
        Name = "updates",
        Description = "Packages with updates pending (apt list --upgradable, or dnf check-update), from the last refreshed index.",
        Run = async run =>
        {
            if (Executables.IsInstalled("apt"))
            {
                // apt reads the package index as last refreshed; it does not fetch (that would not be read-only).
                await run.WriteLineAsync("$ apt list --upgradable   (as of the last apt-get update)");
                return await run.ExecAsync(["apt", "list", "--upgradable"], Timeout);
            }
            if (Executables.IsInstalled("dnf"))
            {
                await run.WriteLineAsync("apt is not installed; using dnf.");
                await run.WriteLineAsync("$ dnf check-update");
                var outcome = await run.ExecAsync(["dnf", "check-update"], Timeout);
                // dnf check-update exits 100 when updates are pending, 0 when none, 1 on error.
                if (outcome is { Status: TaskStatus.Completed, ExitCode: 100 or 0 })
                {
                    await run.WriteLineAsync(outcome.ExitCode == 100 ? "(dnf: updates are pending)" : "(dnf: no updates pending)");
                }
                return outcome;
            }
            return await run.UnavailableAsync("neither apt (Debian, Ubuntu) nor dnf (Fedora, RHEL) is installed; pending updates cannot be listed.");
        },
    };
}
