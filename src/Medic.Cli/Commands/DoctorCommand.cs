using System.CommandLine;
using System.Diagnostics;
using System.Net.Http.Json;
using Medic.Contracts;

namespace Medic.Cli.Commands;

/// <summary><c>medic doctor</c>: checks the path from this CLI to the server's database, one line each.</summary>
internal static class DoctorCommand
{
    internal sealed record Check(string Name, bool Ok, string Detail, string? Remedy);

    public static Command Create()
    {
        var json = Shared.JsonOption();
        var command = new Command("doctor", "Check the CLI config, the server, versions, database, migrations and credential") { json };
        command.SetAction(async (parse, ct) =>
        {
            var checks = await RunAsync(parse, ct);
            if (parse.GetValue(json))
            {
                Console.Out.WriteLine(System.Text.Json.JsonSerializer.Serialize(checks, DoctorJson.Default.ListCheck));
            }
            else
            {
                foreach (var c in checks)
                {
                    Console.Out.WriteLine($"{(c.Ok ? "PASS" : "FAIL")}  {c.Name,-11} {c.Detail}");
                    if (!c.Ok && c.Remedy is not null) Console.Out.WriteLine($"      {"",-11} fix: {c.Remedy}");
                }
            }

            return checks.All(c => c.Ok) ? ExitCodes.Ok : ExitCodes.CheckFailed;
        });
        return command;
    }

    private static async Task<List<Check>> RunAsync(ParseResult parse, CancellationToken ct)
    {
        var checks = new List<Check>();
        var path = CliConfig.DefaultPath();
        CliConfig config;
        try
        {
            config = CliConfig.Load(path);
        }
        catch (CliException ex)
        {
            checks.Add(new Check("config", false, ex.Message, ex.Remedy));
            return checks;
        }

        var name = Shared.ContextName(parse, config);
        if (!File.Exists(path) || name is null || !config.Contexts.TryGetValue(name, out var context))
        {
            checks.Add(new Check("config", false, File.Exists(path) ? $"{path} has no context '{name}'" : $"{path} does not exist",
                "run 'medic login --server URL' (or 'medic up' on this machine)"));
            return checks;
        }

        var mode = File.GetUnixFileMode(path);
        var tooOpen = (mode & (UnixFileMode.GroupRead | UnixFileMode.GroupWrite | UnixFileMode.OtherRead | UnixFileMode.OtherWrite)) != 0;
        checks.Add(tooOpen
            ? new Check("config", false, $"{path} is readable by others (mode {Convert.ToString((int)mode, 8)}); it holds your token", $"chmod 600 {path}")
            : new Check("config", true, $"{path}, context '{name}'", null));

        using var anonymous = new ApiClient(context.Server, null, TimeSpan.FromSeconds(10));
        HealthResponse health;
        var watch = Stopwatch.StartNew();
        try
        {
            health = await anonymous.GetAsync("/healthz", ApiClient.Json.HealthResponse, ct);
            checks.Add(new Check("server", true, $"{context.Server} answers ({watch.Elapsed.TotalMilliseconds:0} ms)", null));
        }
        catch (CliException ex)
        {
            // The client's own remedy would be "run medic doctor": say what doctor itself suggests.
            checks.Add(new Check("server", false, ex.Message, $"start the server ('medic up' on this machine, or 'medic server'), or fix the URL of context '{name}' in {path} ('medic login --server URL')"));
            return checks;
        }

        checks.Add(health.Version == MedicCli.Version
            ? new Check("version", true, $"server and CLI are both {health.Version}", null)
            : new Check("version", false, $"server is {health.Version}, this CLI is {MedicCli.Version}", "upgrade the older one so both run the same version"));

        try
        {
            using var http = new HttpClient { BaseAddress = new Uri(context.Server), Timeout = TimeSpan.FromSeconds(10) };
            using var response = await http.GetAsync("/readyz", ct);
            var ready = await response.Content.ReadFromJsonAsync(ApiClient.Json.ReadinessResponse, ct);
            if (ready is null) throw new CliException("empty /readyz answer", "check the server log");
            checks.Add(ready.DatabaseReachable
                ? new Check("database", true, $"{ready.Dialect} reachable", null)
                : new Check("database", false, $"{ready.Dialect} unreachable: {ready.Problem}", "check the server's 'database' setting and that the database runs"));
            checks.Add(ready.MigrationsApplied >= ready.MigrationsKnown
                ? new Check("migrations", true, $"{ready.MigrationsApplied} of {ready.MigrationsKnown} applied", null)
                : new Check("migrations", false, $"{ready.MigrationsApplied} of {ready.MigrationsKnown} applied", "restart the server; it applies migrations at start-up"));
        }
        catch (Exception ex) when (ex is HttpRequestException or System.Text.Json.JsonException or TaskCanceledException or CliException)
        {
            checks.Add(new Check("database", false, $"readiness unknown: {ex.Message}", "check the server log"));
        }

        try
        {
            using var client = new ApiClient(context.Server, context.Token, TimeSpan.FromSeconds(10));
            var me = await client.GetAsync("/api/v1/whoami", ApiClient.Json.WhoAmIResponse, ct);
            var expiry = me.TokenExpiresAt is { } exp ? exp - DateTimeOffset.UtcNow : (TimeSpan?)null;
            var detail = $"{me.Username} in tenant {me.TenantSlug} (role {me.Role.ToWire()})" + (expiry is { } left ? $", token expires in {Math.Max(0, (int)left.TotalDays)} days" : "");
            checks.Add(expiry is { TotalDays: < 7 }
                ? new Check("credential", false, detail, "log in again soon: medic login --server " + context.Server)
                : new Check("credential", true, detail, null));
        }
        catch (CliException ex)
        {
            checks.Add(new Check("credential", false, ex.Message, ex.Remedy));
        }

        return checks;
    }
}

[System.Text.Json.Serialization.JsonSourceGenerationOptions(PropertyNamingPolicy = System.Text.Json.Serialization.JsonKnownNamingPolicy.SnakeCaseLower, WriteIndented = true)]
[System.Text.Json.Serialization.JsonSerializable(typeof(List<DoctorCommand.Check>))]
internal sealed partial class DoctorJson : System.Text.Json.Serialization.JsonSerializerContext;
