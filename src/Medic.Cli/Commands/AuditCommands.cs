using System.CommandLine;
using System.Text;
using System.Text.Json;
using Medic.Contracts;

namespace Medic.Cli.Commands;

/// <summary><c>audit list</c>, <c>audit export</c> and <c>audit verify</c>; the checkpoint commands are in <see cref="AuditCheckpointCommands"/>.</summary>
internal static class AuditCommands
{
    public static Command Audit() => new("audit", "Read, export and verify the tamper-evident audit log (admins)") { List(), Export(), Verify(), AuditCheckpointCommands.Checkpoint(), AuditCheckpointCommands.Checkpoints() };

    private static Option<string?> Since() => new("--since") { Description = "From this time: a timestamp (2026-11-21T10:00:00Z) or a duration ago (24h)" };

    private static Option<string?> Until() => new("--until") { Description = "Before this time: a timestamp or a duration ago" };

    private static string Query(params (string Name, string? Value)[] pairs)
    {
        var parts = pairs.Where(p => !string.IsNullOrEmpty(p.Value)).Select(p => $"{p.Name}={Uri.EscapeDataString(p.Value!)}").ToList();
        return parts.Count == 0 ? "" : "?" + string.Join('&', parts);
    }

    private static Command List()
    {
        var since = Since();
        var until = Until();
        var actor = new Option<string?>("--actor") { Description = "Only entries by this actor, e.g. user:admin" };
        var action = new Option<string?>("--action") { Description = "Only this action, e.g. token.create" };
        var limit = new Option<int>("--limit") { Description = "Entries per page (1-500)", DefaultValueFactory = _ => 50 };
        var before = new Option<long?>("--before") { Description = "Page: entries before this sequence number" };
        var json = Shared.JsonOption();
        var command = new Command("list", "List audit entries, newest first") { since, until, actor, action, limit, before, json };
        command.SetAction(async (parse, ct) =>
        {
            using var client = Shared.RequireSession(parse).Client();
            var page = await client.GetAsync("/api/v1/audit" + Query(
                ("since", parse.GetValue(since)), ("until", parse.GetValue(until)), ("actor", parse.GetValue(actor)), ("action", parse.GetValue(action)),
                ("limit", parse.GetValue(limit).ToString(System.Globalization.CultureInfo.InvariantCulture)), ("before", parse.GetValue(before)?.ToString(System.Globalization.CultureInfo.InvariantCulture))),
                ApiClient.Json.AuditPage, ct);
            if (parse.GetValue(json))
            {
                Output.Json(page, ApiClient.Json.AuditPage);
                return ExitCodes.Ok;
            }

            Output.Table(["SEQ", "TIME (UTC)", "ACTOR", "ACTION", "TARGET", "OUTCOME", "ADDRESS"], page.Items.Select(e => (IReadOnlyList<string?>)
                [e.Seq.ToString(System.Globalization.CultureInfo.InvariantCulture), e.At.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss"), e.Actor, e.Action, e.Target, e.Outcome, e.ClientAddress]));
            if (page.NextBefore is { } next)
            {
                Console.Out.WriteLine($"(more: medic audit list --before {next})");
            }

            return ExitCodes.Ok;
        });
        return command;
    }

    private static Command Export()
    {
        var since = Since();
        var until = Until();
        var output = new Option<string?>("--output", "-o") { Description = "Write to this file instead of standard output" };
        var command = new Command("export", "Export the audit chain as JSON lines, oldest first") { since, until, output };
        command.SetAction(async (parse, ct) =>
        {
            using var client = Shared.RequireSession(parse).Client(TimeSpan.FromMinutes(30));
            using var response = await client.SendRawAsync(new HttpRequestMessage(HttpMethod.Get, "/api/v1/audit/export" + Query(("since", parse.GetValue(since)), ("until", parse.GetValue(until)))),
                ct, HttpCompletionOption.ResponseHeadersRead);
            await using var body = await response.Content.ReadAsStreamAsync(ct);
            if (parse.GetValue(output) is { } file)
            {
                try
                {
                    await using (var target = File.Create(file))
                    {
                        await body.CopyToAsync(target, ct);
                    }
                }
                catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
                {
                    throw new CliException($"cannot write {file}: {ex.Message}", "choose a path in a directory you can write to");
                }

                Console.Error.WriteLine($"Exported {CountLines(file)} entries to {file}.");
            }
            else
            {
                await using var stdout = Console.OpenStandardOutput();
                await body.CopyToAsync(stdout, ct);
            }

            return ExitCodes.Ok;
        });
        return command;
    }

    internal static long CountLines(string file) => File.ReadLines(file).LongCount(l => l.Length > 0);

    private static Command Verify()
    {
        var all = new Option<bool>("--all") { Description = "Verify every tenant's chain and the system chain (superadmins)" };
        var file = new Option<string?>("--file") { Description = "Verify an exported JSON-lines file offline instead of asking the server" };
        var partial = new Option<bool>("--partial") { Description = "With --file: the file is an export of a time range (--since/--until), so check it from its first entry" };
        var checkpoints = new Option<string?>("--checkpoints") { Description = "Also check the chain against signed checkpoints in this JSON-lines file (from 'medic audit checkpoints export'): detects rewrites before the latest one" };
        var publicKey = new Option<string[]>("--public-key") { Description = "With --checkpoints: trust checkpoints signed by this key (base64, from 'medic audit checkpoints key'; repeat for rotated keys). Default: the server's current key", AllowMultipleArgumentsPerToken = false };
        var json = Shared.JsonOption();
        var command = new Command("verify", "Recompute the hash chain; exit 1 and name the first broken entry if it was tampered with") { all, file, partial, checkpoints, publicKey, json };
        command.SetAction(async (parse, ct) =>
        {
            if (parse.GetValue(checkpoints) is { } checkpointFile)
            {
                if (parse.GetValue(file) is not null)
                {
                    throw new CliException("--checkpoints checks the server's chain, not an exported file", "drop --file, or drop --checkpoints");
                }

                return await VerifyWithCheckpointsAsync(parse, checkpointFile, parse.GetValue(publicKey) ?? [], parse.GetValue(all), parse.GetValue(json), ct);
            }

            AuditVerificationReport report;
            if (parse.GetValue(file) is { } path)
            {
                report = VerifyFile(path, parse.GetValue(partial));
            }
            else
            {
                using var client = Shared.RequireSession(parse).Client(TimeSpan.FromMinutes(30));
                report = await client.GetAsync("/api/v1/audit/verify" + (parse.GetValue(all) ? "?all=true" : ""), ApiClient.Json.AuditVerificationReport, ct);
            }

            if (parse.GetValue(json))
            {
                Output.Json(report, ApiClient.Json.AuditVerificationReport);
            }
            else
            {
                PrintChains(report.Chains);

                if (parse.GetValue(file) is not null)
                {
                    Console.Out.WriteLine("(offline check of an export: entries removed from its end cannot be detected without the server's chain head)");
                }
            }

            if (!report.Ok)
            {
                Console.Error.WriteLine("error: the audit log was tampered with");
                Console.Error.WriteLine("hint: compare with your last export or backup from before the broken entry, and investigate who had database access");
                return ExitCodes.CheckFailed;
            }

            return ExitCodes.Ok;
        });
        return command;
    }

    private static AuditVerificationReport VerifyFile(string path, bool partial)
    {
        if (!File.Exists(path))
        {
            throw new CliException($"file '{path}' does not exist", "pass the file written by 'medic audit export --output FILE'");
        }

        var chains = new Dictionary<string, List<AuditEntry>>(StringComparer.Ordinal);
        var lineNumber = 0;
        foreach (var line in File.ReadLines(path, Encoding.UTF8))
        {
            lineNumber++;
            if (line.Length == 0) continue;
            AuditEntry entry;
            try
            {
                entry = JsonSerializer.Deserialize(line, ApiClient.Json.AuditEntry) ?? throw new JsonException("empty entry");
            }
            catch (JsonException ex)
            {
                throw new CliException($"{path} line {lineNumber} is not an audit entry: {ex.Message}", "pass a file written by 'medic audit export'", ExitCodes.CheckFailed);
            }

            if (!chains.TryGetValue(entry.Chain, out var list)) chains[entry.Chain] = list = [];
            list.Add(entry);
        }

        // Strict by default: a whole export must start at entry 1, or a deleted first entry would go unnoticed.
        var results = chains.Select(kv => AuditChain.Verify(kv.Key, kv.Value, null, fromFirstEntry: partial)).ToList();
        if (!partial)
        {
            foreach (var (chain, list) in chains.Where(kv => kv.Value[0].Seq > 1))
            {
                Console.Error.WriteLine($"note: chain {chain} starts at entry {list[0].Seq} in this file; if it is an export of a time range (--since/--until), verify it with --partial");
            }
        }
        else
        {
            foreach (var (chain, list) in chains)
            {
                Console.Error.WriteLine($"note: chain {chain} is checked from entry {list[0].Seq}; its link to earlier entries is not");
            }
        }
        return new AuditVerificationReport(results.All(r => r.Ok), results);
    }

    /// <summary>
    /// Downloads the chain and recomputes it here, so the check trusts only the signing key: a
    /// server whose database was rewritten cannot make its own history match the checkpoints.
    /// </summary>
    private static async Task<int> VerifyWithCheckpointsAsync(ParseResult parse, string checkpointFile, string[] pinned, bool all, bool json, CancellationToken ct)
    {
        var checkpoints = CheckpointFile.Read(checkpointFile);
        using var client = Shared.RequireSession(parse).Client(TimeSpan.FromMinutes(30));
        var trusted = pinned.Length > 0
            ? pinned.Select(k => k.Trim()).ToList()
            : [(await client.GetAsync("/api/v1/audit/checkpoints/key", ApiClient.Json.AuditCheckpointKeyResponse, ct)).PublicKey];
        var chains = await client.GetAsync("/api/v1/audit/verify", ApiClient.Json.AuditVerificationReport, ct);
        if (all && checkpoints.Any(c => c.Chain == "system"))
        {
            var system = await client.GetAsync("/api/v1/audit/verify?chain=system", ApiClient.Json.AuditVerificationReport, ct);
            chains = new AuditVerificationReport(chains.Ok && system.Ok, [.. chains.Chains, .. system.Chains]);
        }

        var names = chains.Chains.Select(c => c.Chain).ToList();

        var results = new List<AuditCheckpointCheck>();
        foreach (var chain in names)
        {
            using var response = await client.SendRawAsync(new HttpRequestMessage(HttpMethod.Get, "/api/v1/audit/export" + (chain == "system" ? "?chain=system" : "")), ct, HttpCompletionOption.ResponseHeadersRead);
            await using var body = await response.Content.ReadAsStreamAsync(ct);
            results.Add(AuditCheckpoints.Verify(chain, CheckpointFile.Entries(body), checkpoints, trusted));
        }

        foreach (var other in checkpoints.Select(c => c.Chain).Distinct().Where(c => !names.Contains(c)))
        {
            Console.Error.WriteLine($"note: the file's checkpoints of chain {other} were not checked (not your tenant's chain)");
        }

        var report = new AuditCheckpointReport(chains.Ok && results.All(r => r.Ok), chains, results);
        if (json)
        {
            Output.Json(report, ApiClient.Json.AuditCheckpointReport);
        }
        else
        {
            PrintChains(chains.Chains);

            foreach (var result in results)
            {
                Console.Out.WriteLine(result switch
                {
                    { Ok: true, Checkpoints: 0 } => $"NONE    chain {result.Chain}: the file has no checkpoints of this chain",
                    { Ok: true } => $"OK      chain {result.Chain}: {result.Checkpoints} checkpoints hold, history up to entry {result.LatestSeq} is as signed",
                    _ => $"BROKEN  chain {result.Chain}: checkpoint at entry {result.FirstBad!.Seq} (signed {AuditChain.FormatTime(result.FirstBad.At)}): {result.FirstBad.Reason}",
                });
            }

            Console.Out.WriteLine($"(checkpoints trusted when signed by {string.Join(", ", trusted.Select(AuditCheckpoints.Fingerprint))}{(pinned.Length > 0 ? ", pinned with --public-key" : ", the server's current key")})");
        }

        if (!report.Ok)
        {
            Console.Error.WriteLine("error: the audit log was tampered with");
            Console.Error.WriteLine("hint: compare with your last export or backup from before the first bad checkpoint, and investigate who had database access");
            return ExitCodes.CheckFailed;
        }

        if (results.All(r => r.Checkpoints == 0))
        {
            Console.Error.WriteLine($"error: {checkpointFile} holds no checkpoints of your chain, so nothing was checked against them");
            Console.Error.WriteLine("hint: export them with 'medic audit checkpoints export --output FILE'");
            return ExitCodes.CheckFailed;
        }

        return ExitCodes.Ok;
    }

    internal static Option<bool> AllChains() => new("--all") { Description = "Every tenant's chain and the system chain (superadmins)" };

    /// <summary>One line a chain: OK with the count, or BROKEN with the first bad entry and why.</summary>
    private static void PrintChains(IEnumerable<AuditVerification> chains)
    {
        foreach (var chain in chains)
        {
            Console.Out.WriteLine(chain.Ok
                ? $"OK      chain {chain.Chain}: {chain.Checked} entries verified"
                : $"BROKEN  chain {chain.Chain}: entry {chain.FirstBroken!.Seq}{(chain.FirstBroken.Id is { } id ? $" ({id})" : "")}: {chain.FirstBroken.Reason}");
        }
    }
}
