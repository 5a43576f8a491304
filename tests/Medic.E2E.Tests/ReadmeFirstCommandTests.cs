using System.Diagnostics;
using System.Text;

namespace Medic.E2E.Tests;

/// <summary>
/// The README's first command as a user runs it: <c>./medic up</c> from the checkout builds the
/// CLI (src/Medic.Cli and the three projects it references, in the Quick configuration), starts
/// Medic, serves <c>/healthz</c>, prints how to sign in and logs the CLI in, so <c>./medic whoami</c>
/// works. Timing is not asserted here (the suite runs on a busy machine); <c>bench/cold-start.sh</c>
/// measures it.
/// </summary>
public sealed class ReadmeFirstCommandTests : IDisposable
{
    private readonly DirectoryInfo _work = Directory.CreateTempSubdirectory("medic-readme-");

    private static string RepositoryRoot()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "Medic.slnx"))) dir = dir.Parent;
        return dir?.FullName ?? throw new InvalidOperationException("Cannot find the repository root (Medic.slnx) above " + AppContext.BaseDirectory);
    }

    /// <summary>
    /// <c>./medic ARGS</c> with its own CLI config and TMPDIR, and MSBuild nodes that exit with the build, so
    /// nothing this test starts outlives it (the compiler server is shut down in Dispose).
    /// </summary>
    private ProcessStartInfo Medic(params string[] args)
    {
        var psi = new ProcessStartInfo("bash") { RedirectStandardOutput = true, RedirectStandardError = true, RedirectStandardInput = true, UseShellExecute = false };
        psi.ArgumentList.Add(Path.Combine(RepositoryRoot(), "medic"));
        foreach (var a in args) psi.ArgumentList.Add(a);
        Environment(psi);
        return psi;
    }

    private void Environment(ProcessStartInfo psi)
    {
        // HOME stays the user's (NuGet's package source and cache are configured there); the CLI's
        // config goes to a file of this test's own.
        Directory.CreateDirectory(Path.Combine(_work.FullName, "tmp"));
        psi.Environment["MEDIC_CLI_CONFIG"] = Path.Combine(_work.FullName, "cli.json");
        psi.Environment["TMPDIR"] = Path.Combine(_work.FullName, "tmp");
        psi.Environment["MSBUILDDISABLENODEREUSE"] = "1";
        psi.Environment["DOTNET_NOLOGO"] = "1";
        foreach (var name in new[] { "MEDIC_CONTEXT", "MEDIC_ADMIN_PASSWORD", "MEDIC_DATABASE" }) psi.Environment.Remove(name);
    }

    /// <summary>
    /// Whether <c>./medic</c> will build: as it decides, when no published build newer than the sources
    /// is present (artifacts/medic/) and there is no Quick build yet or a file under src/ (or a build
    /// setting) is newer than it. On a checkout where <c>./medic</c> already ran and nothing changed
    /// since, the first command starts without building, and that is right too.
    /// </summary>
    private static bool WillBuild()
    {
        var root = RepositoryRoot();
        IEnumerable<FileInfo> Sources(DirectoryInfo dir) =>
            dir.EnumerateFiles().Concat(dir.EnumerateDirectories().Where(d => d.Name is not ("bin" or "obj")).SelectMany(Sources));
        var inputs = Sources(new DirectoryInfo(Path.Combine(root, "src")))
            .Concat(new DirectoryInfo(root).EnumerateFiles("Directory.Build.*"))
            .Concat([new FileInfo(Path.Combine(root, "Directory.Packages.props")), new FileInfo(Path.Combine(root, "global.json"))])
            .Where(f => f.Exists).ToList();
        bool OlderThanSources(FileInfo dll) => !dll.Exists || inputs.Any(f => f.LastWriteTimeUtc > dll.LastWriteTimeUtc);
        var published = new FileInfo(Path.Combine(root, "artifacts", "medic", "medic.dll"));
        if (published.Exists && !OlderThanSources(published)) return false;
        return OlderThanSources(new FileInfo(Path.Combine(root, "src", "Medic.Cli", "bin", "Quick", "net10.0", "medic.dll")));
    }

    [Fact]
    public async Task Dot_slash_medic_up_builds_serves_healthz_prints_how_to_sign_in_and_logs_the_cli_in()
    {
        var willBuild = WillBuild();
        var port = MedicHome.FreePort();
        var url = $"http://127.0.0.1:{port}";
        var output = new StringBuilder();
        using var up = Process.Start(Medic("up", "--data", Path.Combine(_work.FullName, "data"), "--listen", url))!;
        void Collect(object _, DataReceivedEventArgs e)
        {
            if (e.Data is null) return;
            lock (output) output.AppendLine(e.Data);
        }

        up.OutputDataReceived += Collect;
        up.ErrorDataReceived += Collect;
        up.BeginOutputReadLine();
        up.BeginErrorReadLine();
        string Output()
        {
            lock (output) return output.ToString();
        }

        try
        {
            using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(2) };
            var deadline = DateTime.UtcNow.AddMinutes(4); // a cold build on a machine busy with the rest of the suite
            while (true)
            {
                up.HasExited.ShouldBeFalse("./medic up exited: " + Output());
                try
                {
                    using var health = await http.GetAsync(url + "/healthz");
                    if (health.IsSuccessStatusCode) break;
                }
                catch (HttpRequestException)
                {
                }
                catch (TaskCanceledException)
                {
                }

                DateTime.UtcNow.ShouldBeLessThan(deadline, "no /healthz: " + Output());
                await Task.Delay(200);
            }

            var signIn = DateTime.UtcNow.AddSeconds(30);
            // The banner arrives line by line: wait for its last line, not only the sign-in one.
            while (!Output().Contains("First run: sign in as 'admin' with password", StringComparison.Ordinal) || !Output().Contains("Stop with Ctrl-C.", StringComparison.Ordinal))
            {
                DateTime.UtcNow.ShouldBeLessThan(signIn, "no sign-in line: " + Output());
                await Task.Delay(100);
            }

            if (willBuild)
            {
                // Each stage of a build says what it does, and the build says when it is done.
                Output().ShouldContain("medic: building: compiled Medic.Cli");
                Output().ShouldMatch(@"medic: built in \d+ s; starting\.\.\.");
            }
            else
            {
                Output().ShouldNotContain("medic: building", Case.Sensitive, "the build was up to date before the test");
            }

            Output().ShouldContain($"try: {Path.Combine(RepositoryRoot(), "medic")} whoami");

            using var whoami = Process.Start(Medic("whoami"))!;
            var stdout = await whoami.StandardOutput.ReadToEndAsync();
            var stderr = await whoami.StandardError.ReadToEndAsync();
            await whoami.WaitForExitAsync().WaitAsync(TimeSpan.FromMinutes(1));
            whoami.ExitCode.ShouldBe(0, stdout + stderr);
            stdout.ShouldContain("admin (superadmin)");
            stderr.ShouldNotContain("building", Case.Sensitive, "the second call finds the build up to date");
        }
        finally
        {
            if (!up.HasExited)
            {
                using (var term = Process.Start("kill", ["-TERM", up.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)])) await term.WaitForExitAsync();
                if (!up.WaitForExit(TimeSpan.FromSeconds(20))) up.Kill(entireProcessTree: true);
            }
        }
    }

    public void Dispose()
    {
        // The compiler server that ./medic's build started listens under this test's TMPDIR: stop it.
        var psi = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        psi.ArgumentList.Add("build-server");
        psi.ArgumentList.Add("shutdown");
        Environment(psi);
        using (var shutdown = Process.Start(psi)!)
        {
            shutdown.StandardOutput.ReadToEnd();
            shutdown.StandardError.ReadToEnd();
            shutdown.WaitForExit(TimeSpan.FromSeconds(60));
        }

        _work.Delete(recursive: true);
    }
}
