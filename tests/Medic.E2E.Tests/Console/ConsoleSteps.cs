using System.Text.Json;

namespace Medic.E2E.Tests.Console;

/// <summary>What the incident and approval tests do with the CLI against the shared server.</summary>
internal static class ConsoleSteps
{
    /// <summary>The name <c>medic up</c>'s own agent enrolls this machine under.</summary>
    public static string Host => Environment.MachineName;

    public static string Unique(string prefix) => $"{prefix}-{Guid.NewGuid().ToString("N")[..8]}";

    public static async Task<T> EventuallyAsync<T>(Func<Task<T?>> probe, TimeSpan timeout, Func<string> what)
        where T : class
    {
        var deadline = DateTime.UtcNow + timeout;
        while (DateTime.UtcNow < deadline)
        {
            if (await probe() is { } value) return value;
            await Task.Delay(200);
        }

        throw new TimeoutException(what());
    }

    public static async Task<JsonElement> JsonAsync(this MedicHome home, params string[] args)
    {
        var run = await home.RunAsync([.. args, "--json"]);
        run.ExitCode.ShouldBe(0, run.ToString());
        return JsonDocument.Parse(run.Stdout).RootElement.Clone();
    }

    /// <summary>Adds a user with <paramref name="role"/> and the given password.</summary>
    public static async Task AddUserAsync(this MedicHome home, string name, string role, string password)
    {
        var added = await home.RunWithInputAsync(password + "\n", "users", "add", name, "--role", role, "--password-stdin");
        added.ExitCode.ShouldBe(0, added.ToString());
    }

    /// <summary>
    /// A manual incident on this machine with delete-old-files (medium risk) proposed for
    /// <paramref name="directory"/> by the CLI's admin: an approval another approver must decide.
    /// </summary>
    public static async Task<(string Incident, string Approval)> PendingCleanupAsync(this MedicHome home, string title, string directory)
    {
        var incident = (await home.JsonAsync("incidents", "create", "--title", title, "--server", Host, "--severity", "warning")).GetProperty("id").GetString()!;
        // Triage looks first and escalates what no rule fixes; a person's proposal is taken after that.
        await EventuallyAsync(async () =>
        {
            var run = await home.RunAsync("incidents", "propose", incident, "delete-old-files", "--param", "directory=" + directory, "--param", "days=1");
            return run.ExitCode == 0 ? run.Stdout : null;
        }, TimeSpan.FromSeconds(60), () => $"delete-old-files could not be proposed for {incident}");
        var approval = (await home.JsonAsync("approvals", "--incident", incident)).EnumerateArray().ShouldHaveSingleItem().GetProperty("id").GetString()!;
        return (incident, approval);
    }

    /// <summary>Four 512 KiB files last written ten days ago and a fresh small one.</summary>
    public static string OldFilesDirectory()
    {
        var dir = Directory.CreateTempSubdirectory("medic-console-").FullName;
        var block = new byte[512 * 1024];
        for (var i = 1; i <= 4; i++)
        {
            var path = Path.Combine(dir, $"upload-{i}.bin");
            File.WriteAllBytes(path, block);
            File.SetLastWriteTimeUtc(path, DateTime.UtcNow.AddDays(-10));
        }

        File.WriteAllBytes(Path.Combine(dir, "fresh.bin"), new byte[8 * 1024]);
        return dir;
    }
}
