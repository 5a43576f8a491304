using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace Medic.ModelServer;

/// <summary>
/// A deterministic baseline "model" for evaluation runs: it reads only what a real model receives on the
/// wire (the incident text of the first user message, and the tool results so far) and answers with
/// keyword rules. First it runs the diag verb the incident type calls for; then it proposes the recipe the
/// evidence and the <c>finding KEY=VALUE</c> lines point to, with parameters taken from them, or escalates
/// when no rule fits. After a proposal or an escalation it ends with a one-line summary.
/// Works on the OpenAI Chat Completions and the Anthropic Messages request shapes.
/// </summary>
public static partial class RulesResponder
{
    public static ModelReply Answer(ModelRequest request)
    {
        var seen = Read(request);
        if (seen.Acted is { } acted) return ModelReply.ReplyText($"Done: {acted}.");
        var step = Decide(seen);
        return ModelReply.ReplyToolCalls((step.Tool, step.Args));
    }

    private sealed record Seen(string Type, Dictionary<string, string> Evidence, Dictionary<string, string> Findings, string Outputs, HashSet<string> Verbs, string? Acted);

    private sealed record Step(string Tool, JsonObject Args);

    private static Step Diag(string verb, params (string Key, string? Value)[] args) =>
        new("diag", new JsonObject { ["verb"] = verb, ["args"] = Map(args) });

    private static Step Propose(string recipe, string why, params (string Key, string? Value)[] args) =>
        new("propose_remediation", new JsonObject { ["recipe"] = recipe, ["params"] = Map(args), ["rationale"] = why });

    private static Step Escalate(string why) => new("escalate", new JsonObject { ["reason"] = why });

    private static JsonObject Map((string Key, string? Value)[] args)
    {
        var map = new JsonObject();
        foreach (var (key, value) in args.Where(a => a.Value is { Length: > 0 })) map[key] = value;
        return map;
    }

    /// <summary>The rules: one diag verb per incident type, then a recipe by the cause it reports.</summary>
    private static Step Decide(Seen s)
    {
        string? E(string key) => s.Evidence.GetValueOrDefault(key);
        string? F(string key) => s.Findings.GetValueOrDefault(key);
        bool Ran(string verb) => s.Verbs.Contains(verb);
        bool Says(string text) => s.Outputs.Contains(text, StringComparison.OrdinalIgnoreCase);
        var cause = F("cause");
        switch (s.Type)
        {
            case "disk_full":
                if (!Ran("disk-usage")) return Diag("disk-usage", ("path", E("mount") ?? "/"));
                return cause switch
                {
                    "journal" => Propose("vacuum-journal", "the journal fills the disk"),
                    "rotated_logs" => Propose("delete-rotated-logs", "rotated logs fill the disk", ("directory", F("directory"))),
                    "large_logs" => Propose("rotate-large-logs", "large live logs fill the disk", ("directory", F("directory"))),
                    "package_cache" => Propose("clean-package-caches", "package caches fill the disk"),
                    "old_files" => Propose("delete-old-files", "old files fill the disk", ("directory", F("directory"))),
                    "deleted_open" when F("unit") is { } unit => Propose("release-deleted-files", "a unit holds deleted files open", ("unit", unit), ("holder_pid", F("pid"))),
                    "deleted_open" => Propose("truncate-deleted-files", "a process holds deleted files open", ("holder_pid", F("pid")), ("holder_process", F("process"))),
                    _ => Escalate($"disk-usage names no cleanable cause (cause={cause ?? "none"})"),
                };
            case "inodes_full":
                if (!Ran("inode-usage")) return Diag("inode-usage", ("path", E("mount") ?? "/"));
                return cause == "old_files"
                    ? Propose("free-tmp-inodes", "old small files use up the inodes", ("directory", F("directory")))
                    : Escalate($"the files using the inodes are not old (cause={cause ?? "none"})");
            case "service_down":
                if (!Ran("service-status")) return Diag("service-status", ("unit", E("unit")));
                if (Says("address already in use") && E("port") is { } port)
                {
                    if (!Ran("port-holder")) return Diag("port-holder", ("port", port));
                    return F("holder") == "process"
                        ? Propose("free-port", "a stray process holds the unit's port", ("port", port), ("holder_pid", F("pid")), ("holder_process", F("process")))
                        : Escalate("another service holds the port");
                }

                if (E("pid_file") is { } pidFile)
                {
                    if (!Ran("stale-lock")) return Diag("stale-lock", ("path", pidFile));
                    return F("owner_alive") == "false"
                        ? Propose("remove-stale-lock", "the pid file is stale", ("path", F("lock_file") ?? pidFile), ("owner_pid", F("owner_pid")))
                        : Escalate("the pid file's owner is alive");
                }

                return Says("test failed") || Says("syntax error") || Says("configuration error")
                    ? Escalate("the unit's configuration is broken; a restart fails again")
                    : Propose("restart-service", "the unit failed", ("unit", E("unit")));
            case "process_runaway" or "process_leaking" or "process_stuck":
                if (!Ran("processes")) return E("pid") is { } pid ? Diag("processes", ("pid", pid)) : Diag("processes", ("name", E("process")));
                if (E("unit") is { } owner) return Propose("restart-service-of-process", "the process belongs to a unit", ("unit", owner), ("pid", E("pid")), ("process", E("process")));
                return s.Type == "process_stuck"
                    ? Propose("restart-process", "the process is stuck", ("process", E("process")), ("pid", E("pid")))
                    : Propose("kill-process", "the process has no unit to restart", ("pid", E("pid")), ("process", E("process")));
            case "endpoint_down" or "http_check_failed":
                if (E("port") is not { } endpointPort) return Escalate("no port to examine");
                if (!Ran("port-holder")) return Diag("port-holder", ("port", endpointPort));
                return F("process") is { } holder && F("pid") is { } holderPid
                    ? Propose("restart-process", "the process behind the endpoint does not answer", ("process", holder), ("pid", holderPid))
                    : Escalate("nothing listens on the endpoint's port");
            case "certificate_expiring":
                if (E("host") is not { } host) return Escalate("no host to examine");
                if (!Ran("cert-info")) return Diag("cert-info", ("target", host + ":" + (E("port") ?? "443")));
                return F("managed_by") is "certbot" && F("cert_name") is { } certName
                    ? Propose("renew-certificate", "certbot manages the certificate", ("cert_name", certName), ("reload_unit", F("serving_unit")))
                    : Escalate("no ACME client manages the certificate");
            case "container_down" or "container_unhealthy":
                return E("container") is { } container
                    ? Propose("restart-docker-container", "the container is down or unhealthy", ("container", container))
                    : Escalate("no container named");
            case "security_updates_pending":
                if (!Ran("updates")) return Diag("updates");
                return Propose("apply-security-updates", "security updates are pending");
            case "reboot_required":
                if (!Ran("system")) return Diag("system");
                return Propose("reboot", "a newer kernel is installed");
            case "stale_lock":
                if (E("lock_file") is not { } lockFile) return Escalate("no lock file named");
                if (!Ran("stale-lock")) return Diag("stale-lock", ("path", lockFile), ("program", E("program")));
                return F("owner_alive") == "false" || F("owner_expected") == "false"
                    ? Propose("remove-stale-lock", "the lock's owner is gone or is not the program", ("path", F("lock_file") ?? lockFile), ("owner_pid", F("owner_pid")))
                    : Escalate("the lock's owner is alive and is the program");
            default:
                return Escalate($"no rule for {s.Type} incidents");
        }
    }

    /// <summary>What the request shows: the incident's type and evidence (labels, then evidence), the findings and outputs of the tool results, the verbs run, and whether it already proposed or escalated.</summary>
    private static Seen Read(ModelRequest request)
    {
        var messages = request.Body?["messages"] as JsonArray ?? [];
        var first = messages.FirstOrDefault(m => (string?)m?["role"] == "user");
        var incident = first is null ? "" : Text(first["content"], false);
        var type = IncidentLine().Match(incident) is { Success: true } m ? m.Groups[1].Value : "";
        var evidence = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var prefix in new[] { "Labels: ", "Evidence: " })
        {
            var line = incident.Split('\n').FirstOrDefault(l => l.StartsWith(prefix, StringComparison.Ordinal));
            foreach (var pair in line?[prefix.Length..].Split(", ") ?? [])
            {
                if (pair.Split('=', 2) is [var k, var v]) evidence[k.Trim()] = v.Trim();
            }
        }

        var verbs = new HashSet<string>(StringComparer.Ordinal);
        string? acted = null;
        foreach (var message in messages)
        {
            // OpenAI: tool_calls on the assistant message; Anthropic: tool_use blocks in its content.
            var calls = (message?["tool_calls"] as JsonArray ?? []).Select(c => ((string?)c?["function"]?["name"], Json((string?)c?["function"]?["arguments"])))
                .Concat((message?["content"] as JsonArray ?? []).Where(b => (string?)b?["type"] == "tool_use").Select(b => ((string?)b?["name"], b?["input"])));
            foreach (var (name, args) in calls)
            {
                if (name == "diag" && (string?)args?["verb"] is { } verb) verbs.Add(verb);
                if (name is "propose_remediation" or "escalate") acted = name == "escalate" ? "escalated" : "proposed " + (string?)args?["recipe"];
            }
        }

        var outputs = string.Join("\n", messages.Where(m => (string?)m?["role"] == "tool").Select(m => Text(m!["content"], true))
            .Concat(messages.SelectMany(m => m?["content"] as JsonArray ?? []).Where(b => (string?)b?["type"] == "tool_result").Select(b => Text(b!["content"], true))));
        var findings = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (Match f in FindingLine().Matches(outputs)) findings[f.Groups[1].Value] = f.Groups[2].Value.Trim();
        return new Seen(type, evidence, findings, outputs, verbs, acted);
    }

    /// <summary>A message's text; for a tool result, the "output" inside its JSON when it has one.</summary>
    private static string Text(JsonNode? content, bool toolResult)
    {
        var text = content switch
        {
            JsonValue v when v.TryGetValue<string>(out var s) => s,
            JsonArray parts => string.Join("\n", parts.Select(p => (string?)p?["text"] ?? "")),
            _ => "",
        };
        return toolResult && Json(text) is JsonObject o && (string?)o["output"] is { } output ? output : text;
    }

    private static JsonNode? Json(string? text)
    {
        try
        {
            return text is { Length: > 0 } ? JsonNode.Parse(text) : null;
        }
        catch (JsonException)
        {
            return null;
        }
    }

    [GeneratedRegex(@"^Incident \S+ \(([a-z_]+),", RegexOptions.Multiline)]
    private static partial Regex IncidentLine();

    [GeneratedRegex(@"^\s*finding ([a-z_]+)=(.*)$", RegexOptions.Multiline)]
    private static partial Regex FindingLine();
}
