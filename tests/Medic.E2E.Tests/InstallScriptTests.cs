using System.Diagnostics;
using System.Net;
using System.Runtime.InteropServices;
using System.Security.Cryptography;
using System.Text;
using System.Text.RegularExpressions;

namespace Medic.E2E.Tests;

/// <summary>
/// The agent binary the install script downloads: src/Medic.Agent published once per test run as a
/// framework-dependent single file (the release build is Native AOT; what the script does with the
/// file is the same), named as the control plane serves it.
/// </summary>
public sealed class PublishedAgent : IAsyncLifetime
{
    private readonly string _root = System.IO.Directory.CreateTempSubdirectory("medic-agent-publish-").FullName;

    public static string Arch { get; } = RuntimeInformation.OSArchitecture == Architecture.Arm64 ? "arm64" : "x64";

    /// <summary>The directory the control plane is pointed at (<c>MEDIC_AGENT_BINARIES</c>).</summary>
    public string Directory => Path.Combine(_root, "binaries");

    public string FileName => "medic-agent-linux-" + Arch;

    public async Task InitializeAsync()
    {
        var repo = new DirectoryInfo(AppContext.BaseDirectory);
        while (repo is not null && !File.Exists(Path.Combine(repo.FullName, "Medic.slnx"))) repo = repo.Parent;
        if (repo is null) throw new InvalidOperationException("Cannot find the repository root (Medic.slnx) above " + AppContext.BaseDirectory);
        var output = Path.Combine(_root, "publish");
        var psi = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in new[]
                 {
                     "publish", Path.Combine(repo.FullName, "src", "Medic.Agent"), "-c", "Release", "-r", "linux-" + Arch, "--self-contained", "false",
                     "-p:PublishSingleFile=true", "-p:PublishAot=false", "-o", output, "--nologo",
                     // Its own obj/ and bin/: the packaging tests publish the same project at the same time.
                     "--artifacts-path", Path.Combine(_root, "artifacts"),
                 })
        {
            psi.ArgumentList.Add(a);
        }

        using var process = Process.Start(psi)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        if (process.ExitCode != 0) throw new InvalidOperationException($"dotnet publish src/Medic.Agent failed:\n{await stdout}\n{await stderr}");
        System.IO.Directory.CreateDirectory(Directory);
        File.Copy(Path.Combine(output, "medic-agent"), Path.Combine(Directory, FileName));
    }

    public Task DisposeAsync()
    {
        System.IO.Directory.Delete(_root, recursive: true);
        return Task.CompletedTask;
    }
}

/// <summary>
/// <c>curl -fsSL URL/install.sh | sh -s -- --token ...</c> against a real <c>medic up</c>, as root,
/// into a prefix and without systemd (CI has none): the installed agent enrolls and connects, a second
/// run changes nothing, <c>--uninstall</c> leaves the prefix empty, and an altered binary is refused.
/// </summary>
public sealed partial class InstallScriptTests(PublishedAgent agent) : IClassFixture<PublishedAgent>, IDisposable
{
    private readonly MedicHome _home = new();
    private readonly string _prefix = Directory.CreateTempSubdirectory("medic-install-root-").FullName;

    [GeneratedRegex(@"curl -fsSL (?<server>\S+)/install\.sh \| sudo sh -s -- --token (?<token>mde_\S+)")]
    private static partial Regex InstallLine();

    private async Task<RunningServer> StartUpAsync()
    {
        _home.Environment["MEDIC_AGENT_BINARIES"] = agent.Directory;
        // The published agent is framework-dependent: it runs on the runtime these tests run on.
        _home.Environment["DOTNET_ROOT"] = Path.GetFullPath(Path.Combine(Path.GetDirectoryName(typeof(object).Assembly.Location)!, "..", "..", ".."));
        return await RunningServer.StartAsync(_home, "up");
    }

    /// <summary>Pipes <c>BASE/install.sh</c> from curl into sh with the given options, as the printed line does (without sudo: the tests run as root).</summary>
    private async Task<CliRun> CurlPipeShAsync(string baseUrl, params string[] options)
    {
        var psi = _home.StartInfo();
        psi.FileName = "sh";
        psi.ArgumentList.Clear();
        psi.ArgumentList.Add("-c");
        psi.ArgumentList.Add("curl -fsSL \"$0/install.sh\" | sh -s -- \"$@\"");
        psi.ArgumentList.Add(baseUrl);
        foreach (var o in options) psi.ArgumentList.Add(o);
        using var process = Process.Start(psi)!;
        process.StandardInput.Close();
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(120));
        await process.WaitForExitAsync(timeout.Token);
        return new CliRun(process.ExitCode, await stdout, await stderr);
    }

    private async Task<(string Server, string Token)> CreateTokenAsync(params string[] options)
    {
        var created = await _home.RunAsync(["enroll-token", "create", .. options]);
        created.ExitCode.ShouldBe(0, created.ToString());
        var line = InstallLine().Match(created.Stdout);
        line.Success.ShouldBeTrue("enroll-token create prints the curl | sudo sh line:\n" + created);
        return (line.Groups["server"].Value, line.Groups["token"].Value);
    }

    [Fact]
    public async Task The_printed_line_installs_and_enrolls_an_agent_that_connects_a_rerun_changes_nothing_and_uninstall_leaves_nothing()
    {
        await using var server = await StartUpAsync();
        var (url, token) = await CreateTokenAsync("--tags", "role=installed");
        url.ShouldBe(server.Url);
        var name = "installed-" + Guid.NewGuid().ToString("N")[..6];

        var install = await CurlPipeShAsync(url, "--token", token, "--name", name, "--prefix", _prefix, "--no-start");
        install.ExitCode.ShouldBe(0, install.ToString());
        install.Stdout.ShouldContain("signature checked");
        var bin = Path.Combine(_prefix, "usr", "local", "bin", "medic-agent");
        File.GetUnixFileMode(bin).ShouldBe((UnixFileMode)Convert.ToInt32("755", 8));
        var config = Path.Combine(_prefix, "etc", "medic", "agent.json");
        File.GetUnixFileMode(config).ShouldBe(UnixFileMode.UserRead | UnixFileMode.UserWrite);
        var policy = await File.ReadAllTextAsync(Path.Combine(_prefix, "etc", "medic", "agent-policy.yaml"));
        policy.ShouldContain("exec: false");
        policy.ShouldContain("service: true");
        File.Exists(Path.Combine(_prefix, "etc", "systemd", "system", "medic-agent.service")).ShouldBeTrue();

        // Started the way the script says, it connects and is listed with the token's tags.
        var start = install.Stdout.Split('\n').Select(l => l.Trim()).Single(l => l.StartsWith("Start it with: ", StringComparison.Ordinal))["Start it with: ".Length..];
        var argv = start.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        argv[0].ShouldBe(bin);
        await using (var running = MedicDaemon.StartProgram(_home, argv[0], argv[1..]))
        {
            await running.WaitForOutputAsync("medic-agent: connected to", TimeSpan.FromSeconds(30));
            running.Output.ShouldContain("exec=False");
            var listed = await _home.WaitForStatusAsync(name, "online", TimeSpan.FromSeconds(30));
            listed.GetProperty("tags").GetProperty("role").GetString().ShouldBe("installed");

            var again = await CurlPipeShAsync(url, "--token", token, "--name", name, "--prefix", _prefix, "--no-start");
            again.ExitCode.ShouldBe(0, again.ToString());
            again.Stdout.ShouldContain("Nothing changed");
            again.Stdout.ShouldNotContain("installed:");
            (await running.StopAsync(TimeSpan.FromSeconds(15))).ShouldBe(0, running.Output);
        }

        var uninstall = await CurlPipeShAsync(url, "--uninstall", "--prefix", _prefix);
        uninstall.ExitCode.ShouldBe(0, uninstall.ToString());
        uninstall.Stdout.ShouldContain("uninstalled");
        Directory.EnumerateFileSystemEntries(_prefix).ShouldBeEmpty();
    }

    [Theory]
    [InlineData("digest published with the altered file", "signature does not match")]
    [InlineData("digest of the genuine file", "SHA-256")]
    public async Task A_binary_with_one_byte_changed_on_the_way_is_refused_and_nothing_is_installed(string digest, string refusal)
    {
        await using var server = await StartUpAsync();
        var (url, token) = await CreateTokenAsync();
        using var http = new HttpClient { BaseAddress = new Uri(url) };
        var genuine = await http.GetByteArrayAsync("/agent/" + agent.FileName);
        var altered = (byte[])genuine.Clone();
        altered[altered.Length / 2] ^= 0x01;

        // A mirror (a cache, a proxy) between the server and the control plane serves the script,
        // pointed at itself, with the altered binary and the control plane's real signature.
        await using var mirror = new Mirror();
        var script = (await http.GetStringAsync("/install.sh")).Replace($"MEDIC_URL='{url}'", $"MEDIC_URL='{mirror.Url}'", StringComparison.Ordinal);
        script.ShouldContain(mirror.Url);
        mirror.Files["/install.sh"] = Encoding.UTF8.GetBytes(script);
        mirror.Files["/agent/" + agent.FileName] = altered;
        mirror.Files["/agent/" + agent.FileName + ".sig"] = await http.GetByteArrayAsync("/agent/" + agent.FileName + ".sig");
        mirror.Files["/agent/" + agent.FileName + ".sha256"] = digest.Contains("altered", StringComparison.Ordinal)
            ? Encoding.ASCII.GetBytes($"{Convert.ToHexStringLower(SHA256.HashData(altered))}  {agent.FileName}\n")
            : await http.GetByteArrayAsync("/agent/" + agent.FileName + ".sha256");

        var run = await CurlPipeShAsync(mirror.Url, "--token", token, "--name", "tampered", "--prefix", _prefix, "--no-start");
        run.ExitCode.ShouldBe(1, run.ToString());
        run.Stderr.ShouldContain(refusal);
        run.Stderr.ShouldContain("nothing was installed");
        Directory.EnumerateFileSystemEntries(_prefix).ShouldBeEmpty();
        (await _home.TryFindServerAsync("tampered")).ShouldBeNull();
    }

    public void Dispose()
    {
        Directory.Delete(_prefix, recursive: true);
        _home.Dispose();
    }

    /// <summary>A plain HTTP file server on a loopback port: serves <see cref="Files"/> by path, 404 otherwise.</summary>
    private sealed class Mirror : IAsyncDisposable
    {
        private readonly HttpListener _listener = new();
        private readonly Task _serving;

        public Mirror()
        {
            Url = $"http://127.0.0.1:{MedicHome.FreePort()}";
            _listener.Prefixes.Add(Url + "/");
            _listener.Start();
            _serving = ServeAsync();
        }

        public string Url { get; }

        public System.Collections.Concurrent.ConcurrentDictionary<string, byte[]> Files { get; } = new(StringComparer.Ordinal);

        private async Task ServeAsync()
        {
            while (_listener.IsListening)
            {
                HttpListenerContext context;
                try
                {
                    context = await _listener.GetContextAsync();
                }
                catch (Exception e) when (e is HttpListenerException or ObjectDisposedException)
                {
                    return;
                }

                using var response = context.Response;
                if (Files.TryGetValue(context.Request.Url!.AbsolutePath, out var body))
                {
                    response.ContentLength64 = body.Length;
                    await response.OutputStream.WriteAsync(body);
                }
                else
                {
                    response.StatusCode = 404;
                }
            }
        }

        public async ValueTask DisposeAsync()
        {
            _listener.Stop();
            _listener.Close();
            await _serving;
        }
    }
}
