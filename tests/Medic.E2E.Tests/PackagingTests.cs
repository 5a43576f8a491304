using System.Diagnostics;
using System.Text;
using Xunit.Abstractions;

namespace Medic.E2E.Tests;

/// <summary>
/// One run of <c>packaging/release.sh</c> shared by the packaging tests: the Native AOT agent, the
/// self-contained single-file <c>medic</c>, both .deb packages and SHA256SUMS, in a temp directory.
/// The two publishes take minutes on a 2-core machine; <see cref="Took"/> says how long.
/// </summary>
public sealed class ReleaseBuild : IAsyncLifetime
{
    public string Dir { get; } = Directory.CreateTempSubdirectory("medic-release-").FullName;

    public string Version { get; } = typeof(Medic.Agent.AgentProgram).Assembly.GetName().Version!.ToString(3);

    public TimeSpan Took { get; private set; }

    public string Log { get; private set; } = "";

    public string Path(string name) => System.IO.Path.Combine(Dir, name);

    public async Task InitializeAsync()
    {
        var watch = Stopwatch.StartNew();
        var run = await Shell.RunAsync(TimeSpan.FromMinutes(30), "bash", System.IO.Path.Combine(Shell.RepoRoot, "packaging", "release.sh"), "--out", Dir, "--no-arm64", "--compression", "gzip");
        Took = watch.Elapsed;
        Log = run.ToString();
        if (run.ExitCode != 0) throw new InvalidOperationException("packaging/release.sh failed:\n" + run);
    }

    public Task DisposeAsync()
    {
        Directory.Delete(Dir, recursive: true);
        return Task.CompletedTask;
    }
}

public sealed class PackagingTests(ReleaseBuild release, ITestOutputHelper output) : IClassFixture<ReleaseBuild>
{
    private string DebMedic => release.Path($"medic_{release.Version}_amd64.deb");

    private string DebAgent => release.Path($"medic-agent_{release.Version}_amd64.deb");

    [Fact]
    public async Task The_release_holds_both_binaries_both_packages_and_checksums_that_verify()
    {
        output.WriteLine($"packaging/release.sh took {release.Took.TotalSeconds:F0} s");
        var sums = await Shell.RunInAsync(release.Dir, "sha256sum", "-c", "SHA256SUMS");
        sums.ExitCode.ShouldBe(0, sums.ToString());
        sums.Stdout.ShouldContain($"medic-{release.Version}-linux-x64.tar.gz: OK");
        sums.Stdout.ShouldContain($"medic-agent-{release.Version}-linux-x64: OK");
        sums.Stdout.ShouldContain($"medic_{release.Version}_amd64.deb: OK");
        sums.Stdout.ShouldContain($"medic-agent_{release.Version}_amd64.deb: OK");

        // Native AOT: one native executable that needs glibc and nothing from .NET.
        var agent = release.Path($"medic-agent-{release.Version}-linux-x64");
        (await Shell.RunAsync("file", agent)).Stdout.ShouldContain("ELF 64-bit LSB");
        var links = await Shell.RunAsync("ldd", agent);
        links.Stdout.ShouldNotContain("libstdc++");
        links.Stdout.ShouldNotContain("not found");
        Directory.EnumerateFiles(release.Dir).Select(System.IO.Path.GetFileName).ShouldNotContain(n => n!.EndsWith(".dbg", StringComparison.Ordinal));
        (await Shell.RunAsync(agent, "--version")).Stdout.Trim().ShouldBe("medic-agent " + release.Version);
    }

    [Fact]
    public async Task The_single_file_medic_serves_the_consoles_static_files_from_its_own_directory()
    {
        var unpacked = Directory.CreateTempSubdirectory("medic-unpacked-").FullName;
        try
        {
            var tar = await Shell.RunAsync("tar", "-xzf", release.Path($"medic-{release.Version}-linux-x64.tar.gz"), "-C", unpacked);
            tar.ExitCode.ShouldBe(0, tar.ToString());
            var exe = System.IO.Path.Combine(unpacked, $"medic-{release.Version}-linux-x64", "medic");
            // Started from another directory, as systemd does (WorkingDirectory is /).
            await ServeAndFetchAssetsAsync(exe, unpacked, asUser: null);
        }
        finally
        {
            Directory.Delete(unpacked, recursive: true);
        }
    }

    [Fact]
    public async Task Both_packages_install_with_dpkg_run_pass_systemd_analyze_and_purge_without_a_trace()
    {
        Environment.UserName.ShouldBe("root", "installing packages with dpkg needs root (CI runs as root)");
        await PurgeAsync(); // a run killed half-way must not fail the next one
        try
        {
            var install = await Shell.RunAsync(TimeSpan.FromMinutes(2), "dpkg", "-i", DebMedic, DebAgent);
            output.WriteLine(install.ToString());
            install.ExitCode.ShouldBe(0, install.ToString());
            // No systemd runs here: the maintainer scripts say how to start by hand instead of failing.
            install.Stdout.ShouldContain("sudo -u medic medic server --config /etc/medic/medic.yaml");
            install.Stdout.ShouldContain("medic-agent enroll --server URL --token TOKEN");

            var status = await Shell.RunAsync("dpkg-query", "-W", "-f=${Package} ${Version} ${Status}\n", "medic", "medic-agent");
            status.Stdout.ShouldContain($"medic {release.Version} install ok installed");
            status.Stdout.ShouldContain($"medic-agent {release.Version} install ok installed");

            File.Exists("/usr/lib/medic/medic").ShouldBeTrue();
            File.ResolveLinkTarget("/usr/bin/medic", returnFinalTarget: true)!.FullName.ShouldBe("/usr/lib/medic/medic");
            File.Exists("/usr/lib/medic/wwwroot/app.css").ShouldBeTrue();
            File.Exists("/lib/systemd/system/medic-server.service").ShouldBeTrue();
            File.Exists("/lib/systemd/system/medic-agent.service").ShouldBeTrue();
            File.ReadAllText("/etc/medic/agent-policy.yaml").ShouldContain("exec: false");
            (await Shell.RunAsync("stat", "-c", "%U:%G %a", "/etc/medic/medic.yaml")).Stdout.Trim().ShouldBe("root:medic 640");
            (await Shell.RunAsync("stat", "-c", "%U:%G %a", "/var/lib/medic")).Stdout.Trim().ShouldBe("medic:medic 700");
            (await Shell.RunAsync("getent", "passwd", "medic")).Stdout.ShouldContain(":/var/lib/medic:/usr/sbin/nologin");
            // Enabled for the next boot although systemd is not running.
            File.Exists("/etc/systemd/system/multi-user.target.wants/medic-server.service").ShouldBeTrue();
            File.Exists("/etc/systemd/system/multi-user.target.wants/medic-agent.service").ShouldBeTrue();

            (await Shell.RunAsync("/usr/bin/medic", "--version")).Stdout.ShouldStartWith(release.Version);
            (await Shell.RunAsync("/usr/bin/medic-agent", "--version")).Stdout.Trim().ShouldBe("medic-agent " + release.Version);

            var verify = await Shell.RunAsync("/usr/bin/systemd-analyze", "verify", "/lib/systemd/system/medic-server.service", "/lib/systemd/system/medic-agent.service");
            verify.ExitCode.ShouldBe(0, verify.ToString());
            verify.Stderr.ShouldNotContain("medic", customMessage: verify.ToString());

            // The installed server, as its unit runs it: the medic user, through the /usr/bin symlink.
            await ServeAndFetchAssetsAsync("/usr/bin/medic", "/", asUser: "medic");
        }
        finally
        {
            await PurgeAsync();
        }

        foreach (var path in new[] { "/usr/bin/medic", "/usr/lib/medic", "/usr/bin/medic-agent", "/lib/systemd/system/medic-server.service",
                     "/lib/systemd/system/medic-agent.service", "/etc/medic", "/var/lib/medic", "/var/lib/medic-agent",
                     "/etc/systemd/system/multi-user.target.wants/medic-server.service", "/etc/systemd/system/multi-user.target.wants/medic-agent.service" })
        {
            Path.Exists(path).ShouldBeFalse(path + " is left after dpkg --purge");
        }

        (await Shell.RunAsync("getent", "passwd", "medic")).ExitCode.ShouldBe(2, "the medic user is left after dpkg --purge");
    }

    private static async Task PurgeAsync()
    {
        var purge = await Shell.RunAsync(TimeSpan.FromMinutes(2), "dpkg", "--purge", "medic", "medic-agent");
        purge.ExitCode.ShouldBe(0, purge.ToString());
    }

    /// <summary>Starts <c>medic server</c> from <paramref name="exe"/> and fetches Blazor's script, the console's stylesheet and the agent's digest.</summary>
    private async Task ServeAndFetchAssetsAsync(string exe, string workingDirectory, string? asUser)
    {
        var agentSha256 = Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(File.ReadAllBytes(release.Path($"medic-agent-{release.Version}-linux-x64"))));
        var data = Directory.CreateTempSubdirectory("medic-pkg-data-").FullName;
        var url = $"http://127.0.0.1:{MedicHome.FreePort()}";
        string[] command = [exe, "server", "--data", System.IO.Path.Combine(data, "d"), "--listen", url];
        if (asUser is not null)
        {
            (await Shell.RunAsync("chown", asUser, data)).ExitCode.ShouldBe(0);
            command = ["runuser", "-u", asUser, "--", .. command];
        }

        var psi = new ProcessStartInfo(command[0]) { WorkingDirectory = workingDirectory, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var arg in command.Skip(1)) psi.ArgumentList.Add(arg);
        psi.Environment["MEDIC_ADMIN_PASSWORD"] = "packaging-test-1";
        psi.Environment["HOME"] = data;
        using var server = Process.Start(psi)!;
        var log = new StringBuilder();
        var ready = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        server.OutputDataReceived += (_, e) =>
        {
            if (e.Data is null) return;
            lock (log) log.AppendLine(e.Data);
            if (e.Data.Contains("Stop with Ctrl-C", StringComparison.Ordinal)) ready.TrySetResult();
        };
        server.ErrorDataReceived += (_, e) => { if (e.Data is not null) lock (log) log.AppendLine(e.Data); };
        server.BeginOutputReadLine();
        server.BeginErrorReadLine();
        try
        {
            await Task.WhenAny(ready.Task, server.WaitForExitAsync(), Task.Delay(TimeSpan.FromSeconds(90)));
            ready.Task.IsCompleted.ShouldBeTrue("medic server did not get ready:\n" + log);
            using var http = new HttpClient { BaseAddress = new Uri(url) };
            foreach (var (path, type, marker) in new[] { ("/_framework/blazor.web.js", "text/javascript", "Blazor"), ("/app.css", "text/css", "{") })
            {
                using var response = await http.GetAsync(path);
                response.StatusCode.ShouldBe(System.Net.HttpStatusCode.OK, $"{path} from {exe}\n{log}");
                response.Content.Headers.ContentType!.MediaType.ShouldBe(type);
                (await response.Content.ReadAsStringAsync()).ShouldContain(marker);
            }

            // The AOT agent it carries in agent/ is what /install.sh downloads.
            using var digest = await http.GetAsync("/agent/medic-agent-linux-x64.sha256");
            digest.StatusCode.ShouldBe(System.Net.HttpStatusCode.OK, $"the agent binary from {exe}\n{log}");
            (await digest.Content.ReadAsStringAsync()).Split(' ')[0].ShouldBe(agentSha256);
        }
        finally
        {
            if (!server.HasExited) server.Kill(entireProcessTree: true);
            await server.WaitForExitAsync();
            Directory.Delete(data, recursive: true);
        }
    }
}

/// <summary>Runs a program to completion with a time limit; output captured.</summary>
internal static class Shell
{
    public static string RepoRoot { get; } = FindRoot();

    public static Task<CliRun> RunAsync(string file, params string[] args) => RunCoreAsync(TimeSpan.FromSeconds(60), null, file, args);

    public static Task<CliRun> RunAsync(TimeSpan timeout, string file, params string[] args) => RunCoreAsync(timeout, null, file, args);

    public static Task<CliRun> RunInAsync(string directory, string file, params string[] args) => RunCoreAsync(TimeSpan.FromSeconds(60), directory, file, args);

    private static async Task<CliRun> RunCoreAsync(TimeSpan timeout, string? directory, string file, string[] args)
    {
        var psi = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = directory ?? RepoRoot };
        foreach (var arg in args) psi.ArgumentList.Add(arg);
        using var process = Process.Start(psi)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var cts = new CancellationTokenSource(timeout);
        try
        {
            await process.WaitForExitAsync(cts.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"{file} {string.Join(' ', args)} did not finish within {timeout.TotalSeconds:F0} s");
        }

        return new CliRun(process.ExitCode, await stdout, await stderr);
    }

    private static string FindRoot()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(System.IO.Path.Combine(dir.FullName, "Medic.slnx"))) dir = dir.Parent;
        return dir?.FullName ?? throw new InvalidOperationException("Cannot find the repository root (Medic.slnx) above " + AppContext.BaseDirectory);
    }
}
