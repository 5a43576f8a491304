using System.Diagnostics;

namespace Medic.Agent.Tests.Diagnostics;

/// <summary>Reads a verb's <c>finding KEY=VALUE</c> lines the way triage does, and starts the real processes the tests inspect.</summary>
internal static class FindingsHarness
{
    public static Dictionary<string, string> Parse(string output) =>
        output.Split('\n')
            .Where(l => l.StartsWith("finding ", StringComparison.Ordinal) && l.Contains('=', StringComparison.Ordinal))
            .Select(l => l["finding ".Length..].Split('=', 2))
            .ToDictionary(p => p[0], p => p[1], StringComparer.Ordinal);

    /// <summary>Starts <c>sh -c SCRIPT</c> and waits until it prints its first line (its "ready").</summary>
    public static async Task<Process> StartShellAsync(string script, params string[] args)
    {
        var start = new ProcessStartInfo("sh") { RedirectStandardOutput = true, ArgumentList = { "-c", script, "sh" } };
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }
        var process = Process.Start(start)!;
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        (await process.StandardOutput.ReadLineAsync(timeout.Token)).ShouldBe("ready");
        return process;
    }

    public static async Task StopAsync(Process process)
    {
        if (!process.HasExited)
        {
            process.Kill(entireProcessTree: true);
        }
        await process.WaitForExitAsync();
        process.Dispose();
    }

    public static void Age(string path, int days) =>
        File.SetLastWriteTimeUtc(path, DateTime.UtcNow.AddDays(-days));
}
