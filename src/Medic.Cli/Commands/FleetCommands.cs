using System.CommandLine;
using System.Globalization;
using Medic.Contracts;

namespace Medic.Cli.Commands;

/// <summary><c>enroll-token</c> and <c>servers</c>.</summary>
internal static class FleetCommands
{
    public static Command EnrollToken()
    {
        var tags = new Option<string?>("--tags") { Description = "Tags every server enrolled with this token gets, e.g. env=prod,role=web" };
        var expires = new Option<string?>("--expires") { Description = "Lifetime, e.g. 24h (default 24h, at most 365d)" };
        var uses = new Option<int?>("--uses") { Description = "How many servers may enroll with it (default 1)" };
        var createJson = Shared.JsonOption();
        var create = new Command("create", "Create an enrollment token for new agents; the secret is printed once") { tags, expires, uses, createJson };
        create.SetAction(async (parse, ct) =>
        {
            var session = Shared.RequireSession(parse);
            using var client = session.Client();
            var created = await client.SendAsync(HttpMethod.Post, "/api/v1/enrollment-tokens",
                new CreateEnrollmentTokenRequest(ParseTags(parse.GetValue(tags)), parse.GetValue(expires), parse.GetValue(uses)),
                Medic.Contracts.MedicJson.Default.CreateEnrollmentTokenRequest, ApiClient.Json.EnrollmentTokenCreatedResponse, ct);
            if (parse.GetValue(createJson))
            {
                Output.Json(created, ApiClient.Json.EnrollmentTokenCreatedResponse);
                return ExitCodes.Ok;
            }

            var t = created.Token;
            Console.Out.WriteLine($"Created enrollment token {t.Id} ({t.UsesAllowed} use(s), expires {Output.Time(t.ExpiresAt)} UTC, tags {FormatTags(t.Tags)}).");
            Console.Out.WriteLine("On each new server, run as root (the token is shown once):");
            Console.Out.WriteLine("  " + AgentInstall.Command(session.Context.Server, created.Secret));
            return ExitCodes.Ok;
        });

        var json = Shared.JsonOption();
        var list = new Command("list", "List enrollment tokens (never their secrets)") { json };
        list.SetAction(async (parse, ct) =>
        {
            using var client = Shared.RequireSession(parse).Client();
            var tokens = await client.GetAsync("/api/v1/enrollment-tokens", ApiClient.Json.IReadOnlyListEnrollmentTokenResponse, ct);
            if (parse.GetValue(json))
            {
                Output.Json(tokens, ApiClient.Json.IReadOnlyListEnrollmentTokenResponse);
                return ExitCodes.Ok;
            }

            var now = DateTimeOffset.UtcNow;
            Output.Table(["ID", "PREFIX", "TAGS", "USES", "CREATED BY", "EXPIRES", "STATE"], tokens.Select(t => (IReadOnlyList<string?>)
            [
                t.Id, t.Prefix + "…", FormatTags(t.Tags), $"{t.Uses}/{t.UsesAllowed}", t.CreatedBy, Output.Time(t.ExpiresAt),
                t.RevokedAt is not null ? "revoked" : t.ExpiresAt <= now ? "expired" : t.Uses >= t.UsesAllowed ? "used up" : "active",
            ]));
            return ExitCodes.Ok;
        });

        var id = new Argument<string>("id") { Description = "Enrollment token id (enr_…)" };
        var revoke = new Command("revoke", "Revoke an enrollment token; servers already enrolled stay") { id };
        revoke.SetAction(async (parse, ct) =>
        {
            using var client = Shared.RequireSession(parse).Client();
            var token = await client.SendAsync(new HttpRequestMessage(HttpMethod.Delete, "/api/v1/enrollment-tokens/" + Shared.Escape(parse.GetValue(id)!)),
                ApiClient.Json.EnrollmentTokenResponse, ct);
            Console.Out.WriteLine($"Revoked enrollment token {token.Id}.");
            return ExitCodes.Ok;
        });
        return new Command("enroll-token", "Manage enrollment tokens for new agents (admins)") { create, list, revoke };
    }

    public static Command Servers()
    {
        var status = new Option<string?>("--status") { Description = "online or offline" };
        var tag = new Option<string[]>("--tag") { Description = "Only servers with this tag (k=v); repeat to require several", AllowMultipleArgumentsPerToken = false };
        var json = Shared.JsonOption();
        var list = new Command("list", "List servers with their status") { status, tag, json };
        list.SetAction(async (parse, ct) =>
        {
            var query = new List<string>();
            if (parse.GetValue(status) is { } s) query.Add("status=" + Uri.EscapeDataString(s));
            foreach (var t in parse.GetValue(tag) ?? []) query.Add("tag=" + Uri.EscapeDataString(t));
            using var client = Shared.RequireSession(parse).Client();
            var servers = await client.GetAsync("/api/v1/servers" + (query.Count > 0 ? "?" + string.Join('&', query) : ""), ApiClient.Json.IReadOnlyListServerResponse, ct);
            if (parse.GetValue(json))
            {
                Output.Json(servers, ApiClient.Json.IReadOnlyListServerResponse);
                return ExitCodes.Ok;
            }

            Output.Table(["NAME", "KIND", "STATUS", "OS", "CPU%", "MEM%", "LOAD1", "LAST SEEN", "TAGS"], servers.Select(n => (IReadOnlyList<string?>)
            [
                n.Name, n.Kind, n.Status.ToText() + (n.Drained ? " (drained)" : ""), n.Facts?.Distribution,
                n.Metrics is { } m ? m.CpuPercent.ToString("0", CultureInfo.InvariantCulture) : null,
                n.Metrics is { MemoryTotalBytes: > 0 } mm ? (100.0 * mm.MemoryUsedBytes / mm.MemoryTotalBytes).ToString("0", CultureInfo.InvariantCulture) : null,
                n.Metrics?.Load1.ToString("0.00", CultureInfo.InvariantCulture), Output.Time(n.LastSeenAt), FormatTags(n.Tags),
            ]));
            return ExitCodes.Ok;
        });

        var showId = new Argument<string>("server") { Description = "Server name or id" };
        var showJson = Shared.JsonOption();
        var show = new Command("show", "Show a server's facts, status and latest metrics") { showId, showJson };
        show.SetAction(async (parse, ct) =>
        {
            using var client = Shared.RequireSession(parse).Client();
            var n = await client.GetAsync("/api/v1/servers/" + Shared.Escape(parse.GetValue(showId)!), ApiClient.Json.ServerResponse, ct);
            if (parse.GetValue(showJson))
            {
                Output.Json(n, ApiClient.Json.ServerResponse);
                return ExitCodes.Ok;
            }

            Console.Out.WriteLine($"name:         {n.Name} ({n.Id})");
            Console.Out.WriteLine($"status:       {n.Status.ToText()}{(n.Drained ? ", drained" : "")}, last seen {Output.Time(n.LastSeenAt)} UTC");
            Console.Out.WriteLine($"tags:         {FormatTags(n.Tags)}");
            if (n.Ssh is { } ssh)
            {
                Console.Out.WriteLine($"kind:         agentless, reached over ssh as {ssh.User}@{ssh.Address} with key '{ssh.Key}'");
                Console.Out.WriteLine($"host key:     {ssh.HostKey ?? "not pinned yet: the first one the server shows will be (accept-new)"}");
            }
            if (n.Facts is { } f)
            {
                Console.Out.WriteLine($"host:         {f.Hostname}, {f.Distribution}, kernel {f.Kernel}, {f.Architecture}");
                Console.Out.WriteLine($"hardware:     {f.Cpus} CPUs, {f.MemoryBytes / (1024 * 1024)} MiB memory");
                Console.Out.WriteLine($"addresses:    {string.Join(", ", f.Addresses)}");
                Console.Out.WriteLine($"services:     {f.ServiceManager}; agent {f.AgentVersion}; booted {Output.Time(f.BootTime)} UTC");
            }

            if (n.Metrics is { } m)
            {
                Console.Out.WriteLine($"cpu/load:     {m.CpuPercent:0.0}% / {m.Load1:0.00} {m.Load5:0.00} {m.Load15:0.00}");
                Console.Out.WriteLine($"memory:       {m.MemoryUsedBytes / (1024 * 1024)} of {m.MemoryTotalBytes / (1024 * 1024)} MiB; swap {m.SwapUsedBytes / (1024 * 1024)} of {m.SwapTotalBytes / (1024 * 1024)} MiB");
                foreach (var mount in m.Mounts)
                {
                    Console.Out.WriteLine($"disk {mount.Mount,-8} {Percent(mount.BytesUsed, mount.BytesTotal)} of {mount.BytesTotal / (1024 * 1024 * 1024.0):0.0} GiB, inodes {Percent(mount.InodesUsed, mount.InodesTotal)}");
                }
            }

            return ExitCodes.Ok;
        });

        var tagServer = new Argument<string>("server");
        var tagPairs = new Argument<string[]>("tags") { Description = "k=v to set, k= to remove", Arity = ArgumentArity.OneOrMore };
        var tagCommand = new Command("tag", "Set or remove tags on a server") { tagServer, tagPairs };
        tagCommand.SetAction(async (parse, ct) =>
        {
            var changes = new Dictionary<string, string?>(StringComparer.Ordinal);
            foreach (var pair in parse.GetValue(tagPairs)!)
            {
                var parts = pair.Split('=', 2);
                if (parts.Length != 2 || parts[0].Length == 0) throw new CliException($"'{pair}' is not k=v", "write tags as env=prod, or env= to remove one");
                changes[parts[0]] = parts[1].Length == 0 ? null : parts[1];
            }

            using var client = Shared.RequireSession(parse).Client();
            var n = await client.SendAsync(HttpMethod.Put, $"/api/v1/servers/{Shared.Escape(parse.GetValue(tagServer)!)}/tags",
                new SetTagsRequest(changes), Medic.Contracts.MedicJson.Default.SetTagsRequest, ApiClient.Json.ServerResponse, ct);
            Console.Out.WriteLine($"{n.Name}: {FormatTags(n.Tags)}");
            return ExitCodes.Ok;
        });

        var metricsServer = new Argument<string>("server") { Description = "Server name or id" };
        var since = new Option<string?>("--since") { Description = "From this long ago (e.g. 1h) or this timestamp; default the whole 24 h kept" };
        var metricsJson = Shared.JsonOption();
        var metrics = new Command("metrics", "A server's metrics history: one point per minute, last 24 h") { metricsServer, since, metricsJson };
        metrics.SetAction(async (parse, ct) =>
        {
            using var client = Shared.RequireSession(parse).Client();
            var query = parse.GetValue(since) is { } s ? "?since=" + Uri.EscapeDataString(s) : "";
            var history = await client.GetAsync($"/api/v1/servers/{Shared.Escape(parse.GetValue(metricsServer)!)}/metrics{query}", ApiClient.Json.MetricsHistoryResponse, ct);
            if (parse.GetValue(metricsJson))
            {
                Output.Json(history, ApiClient.Json.MetricsHistoryResponse);
                return ExitCodes.Ok;
            }

            Output.Table(["MINUTE (UTC)", "CPU%", "MEM%", "LOAD1", "PROCS", "DISK / %"], history.Points.Select(p => (IReadOnlyList<string?>)
            [
                p.Minute.UtcDateTime.ToString("yyyy-MM-dd HH:mm", CultureInfo.InvariantCulture),
                p.Metrics.CpuPercent.ToString("0", CultureInfo.InvariantCulture),
                Percent(p.Metrics.MemoryUsedBytes, p.Metrics.MemoryTotalBytes),
                p.Metrics.Load1.ToString("0.00", CultureInfo.InvariantCulture),
                p.Metrics.ProcessCount.ToString(CultureInfo.InvariantCulture),
                p.Metrics.Mounts.FirstOrDefault(m => m.Mount == "/") is { } root ? Percent(root.BytesUsed, root.BytesTotal) : null,
            ]));
            return ExitCodes.Ok;
        });

        return new Command("servers", "Managed servers") { list, show, Add(), metrics, tagCommand, StateCommand("drain", "Stop sending new tasks to a server"), StateCommand("undrain", "Send tasks to a drained server again"), Remove() };
    }

    private static Command Add()
    {
        var name = new Argument<string>("name") { Description = "Name of the server in Medic" };
        var address = new Option<string>("--address") { Description = "host or host:port ([v6]:port) the ssh server listens on", Required = true };
        var user = new Option<string>("--user") { Description = "Login user on the server", Required = true };
        var key = new Option<string>("--key")
        {
            Description = "Name of a private key file in the control plane's DATA/ssh/keys/TENANT/ folder (0600, no passphrase)",
            Required = true,
        };
        var tags = new Option<string?>("--tags") { Description = "Tags, e.g. env=prod,role=db" };
        var hostKey = new Option<string?>("--host-key") { Description = "The server's host key: a known_hosts line or 'TYPE BASE64' (ssh-keyscan -t ed25519 HOST)" };
        var acceptNew = new Option<bool>("--accept-new-host-key") { Description = "Trust the host key the server shows on first contact, then pin it" };
        var json = Shared.JsonOption();
        var command = new Command("add", "Register an agentless server, reached through ssh (admins)") { name, address, user, key, tags, hostKey, acceptNew, json };
        command.SetAction(async (parse, ct) =>
        {
            if (parse.GetValue(hostKey) is null == !parse.GetValue(acceptNew))
            {
                throw new CliException("give either --host-key or --accept-new-host-key", "pin the key with --host-key \"$(ssh-keyscan -t ed25519 HOST)\", or trust the first one seen with --accept-new-host-key");
            }

            using var client = Shared.RequireSession(parse).Client();
            var n = await client.SendAsync(HttpMethod.Post, "/api/v1/servers",
                new CreateServerRequest(parse.GetValue(name)!, parse.GetValue(address)!, parse.GetValue(user)!, parse.GetValue(key)!, ParseTags(parse.GetValue(tags)),
                    parse.GetValue(hostKey), parse.GetValue(acceptNew)),
                Medic.Contracts.MedicJson.Default.CreateServerRequest, ApiClient.Json.ServerResponse, ct);
            if (parse.GetValue(json))
            {
                Output.Json(n, ApiClient.Json.ServerResponse);
                return ExitCodes.Ok;
            }

            Console.Out.WriteLine($"Added agentless server {n.Name} ({n.Id}): {n.Ssh!.User}@{n.Ssh.Address}, key '{n.Ssh.Key}', tags {FormatTags(n.Tags)}.");
            Console.Out.WriteLine($"Try it: medic exec --server {n.Name} uptime");
            return ExitCodes.Ok;
        });
        return command;
    }

    private static Command StateCommand(string verb, string description)
    {
        var server = new Argument<string>("server");
        var command = new Command(verb, description) { server };
        command.SetAction(async (parse, ct) =>
        {
            using var client = Shared.RequireSession(parse).Client();
            var n = await client.SendAsync(new HttpRequestMessage(HttpMethod.Post, $"/api/v1/servers/{Shared.Escape(parse.GetValue(server)!)}/{verb}"), ApiClient.Json.ServerResponse, ct);
            Console.Out.WriteLine($"{n.Name} is {(n.Drained ? "drained: no new tasks" : "taking tasks")}.");
            return ExitCodes.Ok;
        });
        return command;
    }

    private static Command Remove()
    {
        var server = new Argument<string>("server");
        var command = new Command("remove", "Remove a server: its agent's credential stops working at once (admins)") { server };
        command.SetAction(async (parse, ct) =>
        {
            using var client = Shared.RequireSession(parse).Client();
            var n = await client.SendAsync(new HttpRequestMessage(HttpMethod.Delete, "/api/v1/servers/" + Shared.Escape(parse.GetValue(server)!)), ApiClient.Json.ServerResponse, ct);
            Console.Out.WriteLine($"Removed {n.Name}; its credential is revoked. Enroll it again to bring it back.");
            return ExitCodes.Ok;
        });
        return command;
    }

    public static Command Diag()
    {
        var server = new Argument<string>("server") { Description = "Server name or id" };
        var verb = new Argument<string>("verb") { Description = "Diagnostic verb: system, disk, largest-dirs, top-cpu, top-mem, service-status, journal, file-tail, ports, tcp-probe, http-probe, dns, updates, oom-kills, tls-expiry" };
        var args = new Argument<string[]>("args") { Description = "Arguments as name=value, e.g. unit=nginx lines=100", Arity = ArgumentArity.ZeroOrMore };
        var timeout = new Option<int?>("--timeout") { Description = "Seconds to wait for the result (default 60)" };
        var json = Shared.JsonOption();
        var command = new Command("diag", "Run a read-only diagnostic verb on a server through its agent") { server, verb, args, timeout, json };
        command.SetAction(async (parse, ct) =>
        {
            var parsed = new Dictionary<string, string>(StringComparer.Ordinal);
            foreach (var pair in parse.GetValue(args) ?? [])
            {
                var parts = pair.Split('=', 2);
                if (parts.Length != 2 || parts[0].Length == 0) throw new CliException($"'{pair}' is not name=value", "pass arguments as name=value, e.g. unit=nginx");
                parsed[parts[0]] = parts[1];
            }

            using var client = Shared.RequireSession(parse).Client(TimeSpan.FromSeconds((parse.GetValue(timeout) ?? 60) + 30));
            var result = await client.SendAsync(HttpMethod.Post, $"/api/v1/servers/{Shared.Escape(parse.GetValue(server)!)}/diag",
                new DiagRequest(parse.GetValue(verb)!, parsed, parse.GetValue(timeout)), Medic.Contracts.MedicJson.Default.DiagRequest, ApiClient.Json.TaskRunResponse, ct);
            return PrintTask(result, parse.GetValue(json));
        });
        return command;
    }

    public static Command Service()
    {
        var action = new Argument<string>("action") { Description = "start, stop, restart or status" };
        var server = new Argument<string>("server") { Description = "Server name or id" };
        var unit = new Argument<string>("unit") { Description = "systemd unit, e.g. nginx" };
        var timeout = new Option<int?>("--timeout") { Description = "Seconds to wait for the result (default 60)" };
        var json = Shared.JsonOption();
        var command = new Command("service", "Start, stop, restart or show a systemd unit on a server through its agent (its policy must grant service)") { action, server, unit, timeout, json };
        command.SetAction(async (parse, ct) =>
        {
            using var client = Shared.RequireSession(parse).Client(TimeSpan.FromSeconds((parse.GetValue(timeout) ?? 60) + 30));
            var result = await client.SendAsync(HttpMethod.Post, $"/api/v1/servers/{Shared.Escape(parse.GetValue(server)!)}/service",
                new ServiceRequest(parse.GetValue(unit)!, parse.GetValue(action)!, parse.GetValue(timeout)), Medic.Contracts.MedicJson.Default.ServiceRequest, ApiClient.Json.TaskRunResponse, ct);
            return PrintTask(result, parse.GetValue(json));
        });
        return command;
    }

    /// <summary>A single-server task's answer: as JSON, or its output as it came; then <see cref="ReportTask"/>.</summary>
    private static int PrintTask(TaskRunResponse result, bool json)
    {
        if (json)
        {
            Output.Json(result, ApiClient.Json.TaskRunResponse);
        }
        else
        {
            Console.Out.Write(result.Stdout);
            Console.Error.Write(result.Stderr);
        }

        return ReportTask(result);
    }

    /// <summary>Prints why a task did not complete cleanly, and turns that into the exit code.</summary>
    internal static int ReportTask(TaskRunResponse result)
    {
        if (result.Status == TaskRunStatus.Completed && result.ExitCode is 0 or null)
        {
            return ExitCodes.Ok;
        }

        var cause = result.Status == TaskRunStatus.Completed ? $"{result.Server}: exited with {result.ExitCode}" : $"{result.Server}: {result.Status.ToText()}: {result.Reason}";
        var remedy = result.Status switch
        {
            TaskRunStatus.Offline when result.Reason?.StartsWith("ssh", StringComparison.Ordinal) == true => "the reason is ssh's own; check the server's address, user, key and host key (medic servers show " + result.Server + ")",
            TaskRunStatus.Offline => "check the agent on that server: systemctl status medic-agent",
            TaskRunStatus.Refused => "the reason names the rule: a drained server (medic servers undrain), the agent's local policy or its signature checks (docs/agent.md)",
            TaskRunStatus.Timeout => "raise --timeout, or check what the command waits on",
            _ => "see the output above",
        };
        Shared.PrintError(cause, remedy);
        return ExitCodes.CheckFailed;
    }

    private static string Percent(long used, long total) => total > 0 ? (100.0 * used / total).ToString("0", CultureInfo.InvariantCulture) + "%" : "-";

    internal static string FormatTags(IReadOnlyDictionary<string, string> tags) =>
        tags.Count == 0 ? "-" : string.Join(",", tags.OrderBy(t => t.Key, StringComparer.Ordinal).Select(t => $"{t.Key}={t.Value}"));

    internal static Dictionary<string, string> ParseTags(string? text)
    {
        try
        {
            return Medic.Agent.Enrollment.ParseTags(text);
        }
        catch (Medic.Agent.AgentException ex)
        {
            throw new CliException(ex.Message, ex.Remedy);
        }
    }
}
