using System.CommandLine;
using System.Text;
using System.Text.Json;
using Medic.Contracts;

namespace Medic.Cli.Commands;

/// <summary><c>audit checkpoint</c> and <c>audit checkpoints</c>: signed chain heads, and the file they are kept in off the machine.</summary>
internal static class AuditCheckpointCommands
{
    internal static Command Checkpoint()
    {
        var all = AuditCommands.AllChains();
        var output = new Option<string?>("--output", "-o") { Description = "Also append the checkpoints, as JSON lines, to this file (keep it off this machine)" };
        var json = Shared.JsonOption();
        var command = new Command("checkpoint", "Sign the audit chain's head now, with the key kept outside the database") { all, output, json };
        command.SetAction(async (parse, ct) =>
        {
            using var client = Shared.RequireSession(parse).Client(TimeSpan.FromMinutes(30));
            var checkpoints = await client.SendAsync(new HttpRequestMessage(HttpMethod.Post, "/api/v1/audit/checkpoints" + (parse.GetValue(all) ? "?all=true" : "")),
                ApiClient.Json.IReadOnlyListAuditCheckpoint, ct);
            if (parse.GetValue(output) is { } path)
            {
                CheckpointFile.Append(path, checkpoints);
                Console.Error.WriteLine($"Appended {checkpoints.Count} checkpoints to {path}.");
            }

            PrintCheckpoints(checkpoints, parse.GetValue(json));
            return ExitCodes.Ok;
        });
        return command;
    }

    private static void PrintCheckpoints(IReadOnlyList<AuditCheckpoint> checkpoints, bool json)
    {
        if (json)
        {
            Output.Json(checkpoints, ApiClient.Json.IReadOnlyListAuditCheckpoint);
            return;
        }

        Output.Table(["CHAIN", "SEQ", "SIGNED (UTC)", "HASH", "KEY"], checkpoints.Select(c => (IReadOnlyList<string?>)
            [c.Chain, c.Seq.ToString(System.Globalization.CultureInfo.InvariantCulture), c.At.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss"), c.Hash[..16], AuditCheckpoints.Fingerprint(c.PublicKey)]));
    }

    internal static Command Checkpoints()
    {
        var listJson = Shared.JsonOption();
        var list = new Command("list", "List the chain's signed checkpoints, oldest first") { listJson };
        list.SetAction(async (parse, ct) =>
        {
            using var client = Shared.RequireSession(parse).Client();
            PrintCheckpoints(await client.GetAsync("/api/v1/audit/checkpoints", ApiClient.Json.IReadOnlyListAuditCheckpoint, ct), parse.GetValue(listJson));
            return ExitCodes.Ok;
        });

        var all = AuditCommands.AllChains();
        var output = new Option<string?>("--output", "-o") { Description = "Write to this file instead of standard output" };
        var export = new Command("export", "Export the signed checkpoints as JSON lines, each with its public key") { all, output };
        export.SetAction(async (parse, ct) =>
        {
            using var client = Shared.RequireSession(parse).Client(TimeSpan.FromMinutes(5));
            using var response = await client.SendRawAsync(new HttpRequestMessage(HttpMethod.Get, "/api/v1/audit/checkpoints/export" + (parse.GetValue(all) ? "?all=true" : "")), ct);
            var text = await response.Content.ReadAsStringAsync(ct);
            if (parse.GetValue(output) is { } path)
            {
                try
                {
                    await File.WriteAllTextAsync(path, text, ct);
                }
                catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
                {
                    throw new CliException($"cannot write {path}: {ex.Message}", "choose a path in a directory you can write to");
                }

                Console.Error.WriteLine($"Exported {AuditCommands.CountLines(path)} checkpoints to {path}.");
            }
            else
            {
                Console.Out.Write(text);
            }

            return ExitCodes.Ok;
        });

        var keyJson = Shared.JsonOption();
        var key = new Command("key", "Print the public key that signs checkpoints, to pin with 'audit verify --public-key'") { keyJson };
        key.SetAction(async (parse, ct) =>
        {
            using var client = Shared.RequireSession(parse).Client();
            var response = await client.GetAsync("/api/v1/audit/checkpoints/key", ApiClient.Json.AuditCheckpointKeyResponse, ct);
            if (parse.GetValue(keyJson))
            {
                Output.Json(response, ApiClient.Json.AuditCheckpointKeyResponse);
            }
            else
            {
                Console.Out.WriteLine(response.PublicKey);
                Console.Error.WriteLine($"fingerprint {response.Fingerprint}");
            }

            return ExitCodes.Ok;
        });

        return new Command("checkpoints", "List, export and show the key of signed audit checkpoints") { list, export, key };
    }
}

internal static class CheckpointFile
{
    public static IReadOnlyList<AuditCheckpoint> Read(string path)
    {
        if (!File.Exists(path))
        {
            throw new CliException($"checkpoint file '{path}' does not exist", "pass the file written by 'medic audit checkpoints export --output FILE' or 'medic audit checkpoint --output FILE'");
        }

        var checkpoints = new List<AuditCheckpoint>();
        var lineNumber = 0;
        foreach (var line in File.ReadLines(path, Encoding.UTF8))
        {
            lineNumber++;
            if (line.Trim().Length == 0) continue;
            try
            {
                checkpoints.Add(JsonSerializer.Deserialize(line, ApiClient.Json.AuditCheckpoint) ?? throw new JsonException("empty checkpoint"));
            }
            catch (JsonException ex)
            {
                throw new CliException($"{path} line {lineNumber} is not an audit checkpoint: {ex.Message}", "pass a file written by 'medic audit checkpoints export'", ExitCodes.Usage);
            }
        }

        return checkpoints;
    }

    public static void Append(string path, IEnumerable<AuditCheckpoint> checkpoints)
    {
        try
        {
            using var writer = new StreamWriter(path, append: true, new UTF8Encoding(false));
            foreach (var checkpoint in checkpoints)
            {
                writer.Write(JsonSerializer.Serialize(checkpoint, ApiClient.Json.AuditCheckpoint));
                writer.Write('\n');
            }
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new CliException($"cannot write {path}: {ex.Message}", "choose a path in a directory you can write to");
        }
    }

    /// <summary>The entries of an export stream, read one line at a time so a long chain never sits in memory.</summary>
    public static IEnumerable<AuditEntry> Entries(Stream export)
    {
        using var reader = new StreamReader(export, Encoding.UTF8, leaveOpen: true);
        while (reader.ReadLine() is { } line)
        {
            if (line.Length == 0) continue;
            yield return JsonSerializer.Deserialize(line, ApiClient.Json.AuditEntry)
                ?? throw new CliException("the server's export holds an empty entry", "run 'medic audit verify' without --checkpoints", ExitCodes.ServerError);
        }
    }
}
