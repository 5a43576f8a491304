using System.Diagnostics;
using System.Text;
using System.Text.Json;
using Medic.Server.Tests.Infrastructure;

namespace Medic.Server.Tests.Audit;

/// <summary>Result of one finished <c>medic</c> command.</summary>
public sealed record CliResult(int ExitCode, string Stdout, string Stderr)
{
    public override string ToString() => $"exit {ExitCode}\n--- stdout\n{Stdout}\n--- stderr\n{Stderr}";
}

/// <summary>
/// The real <c>medic</c> CLI (src/Medic.Cli's build output) run as a child process against a test
/// server, with its own config file holding the admin's token.
/// </summary>
public sealed class MedicCli : IDisposable
{
    private readonly TempDirectory _home = new();
    private readonly string _config;

    public MedicCli(MedicServer server, string token)
    {
        _config = Path.Combine(_home.Path, "config.json");
        var config = new Dictionary<string, object>
        {
            ["current_context"] = "test",
            ["contexts"] = new Dictionary<string, object> { ["test"] = new Dictionary<string, string> { ["server"] = server.BaseAddress.ToString().TrimEnd('/'), ["token"] = token } },
        };
        File.WriteAllText(_config, JsonSerializer.Serialize(config));
        File.SetUnixFileMode(_config, UnixFileMode.UserRead | UnixFileMode.UserWrite);
    }

    public string Home => _home.Path;

    public static string Dll { get; } = Find();

    private static string Find()
    {
        // tests/Medic.Server.Tests/bin/<Configuration>/net10.0/ -> src/Medic.Cli/bin/<Configuration>/net10.0/medic.dll
        var configuration = new DirectoryInfo(AppContext.BaseDirectory).Parent!.Name;
        var dll = Path.Combine(Repository.Root(), "src", "Medic.Cli", "bin", configuration, "net10.0", "medic.dll");
        return File.Exists(dll) ? dll : throw new InvalidOperationException($"{dll} is missing; build tests/Medic.Server.Tests first");
    }

    public async Task<CliResult> RunAsync(params string[] args)
    {
        var psi = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            StandardOutputEncoding = Encoding.UTF8,
            StandardErrorEncoding = Encoding.UTF8,
            WorkingDirectory = _home.Path,
        };
        psi.ArgumentList.Add(Dll);
        foreach (var a in args) psi.ArgumentList.Add(a);
        psi.Environment["MEDIC_CLI_CONFIG"] = _config;
        psi.Environment.Remove("MEDIC_CONTEXT");
        psi.Environment["DOTNET_NOLOGO"] = "1";
        using var process = Process.Start(psi)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(120));
        try
        {
            await process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"medic {string.Join(' ', args)} did not finish within 120 s");
        }

        return new CliResult(process.ExitCode, await stdout, await stderr);
    }

    public void Dispose() => _home.Dispose();
}
