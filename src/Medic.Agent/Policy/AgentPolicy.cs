using System.Globalization;

namespace Medic.Agent.Policy;

/// <summary>
/// The node's own word on what the control plane may make it do. It is the last word: a
/// compromised control plane cannot exceed it. Read from <c>/etc/medic/agent-policy.yaml</c>
/// (or <c>--policy</c>); a missing file means the defaults.
/// </summary>
public sealed record AgentPolicy
{
    public const string DefaultPath = "/etc/medic/agent-policy.yaml";

    /// <summary>Read-only diagnostic verbs.</summary>
    public bool Diag { get; init; } = true;

    /// <summary>Start, stop and restart services.</summary>
    public bool Service { get; init; } = true;

    /// <summary>Arbitrary commands (off unless the node's owner turns it on).</summary>
    public bool Exec { get; init; }

    /// <summary>Lets shutdown/reboot/halt/poweroff through the blocklist.</summary>
    public bool Reboot { get; init; }

    public int MaxTimeoutSeconds { get; init; } = 3600;

    public long MaxOutputBytes { get; init; } = 1024 * 1024;

    /// <summary>Extra refused substrings, on top of the built-in blocklist.</summary>
    public IReadOnlyList<string> Blocklist { get; init; } = [];

    /// <summary>
    /// The directories whose files the agent may read for anyone else: the file-tail verb and the
    /// <c>log</c> and <c>file_age</c> monitors. Checked on the resolved path (symlinks and <c>..</c>).
    /// </summary>
    public IReadOnlyList<string> ReadPaths { get; init; } = DefaultReadPaths;

    public static IReadOnlyList<string> DefaultReadPaths { get; } = ["/var/log", "/tmp"];

    /// <summary>
    /// When not empty, exec runs only these commands: each an argv written with spaces, exact, or a
    /// prefix when its last word is <c>*</c>. The blocklist still applies on top.
    /// </summary>
    public IReadOnlyList<string> ExecAllow { get; init; } = [];

    public static AgentPolicy Load(string? path)
    {
        path ??= DefaultPath;
        return File.Exists(path) ? Parse(File.ReadAllText(path), path) : new AgentPolicy();
    }

    /// <summary>
    /// Parses the small YAML subset a policy needs: <c>key: value</c> lines and lists
    /// (<c>blocklist:</c>, <c>read_paths:</c>, <c>exec_allow:</c> followed by <c>- item</c> lines), with
    /// comments. Anything else is an error naming its line, because a policy that silently means
    /// something else is worse than none.
    /// </summary>
    public static AgentPolicy Parse(string text, string source)
    {
        var policy = new AgentPolicy();
        var lists = new Dictionary<string, List<string>>(StringComparer.Ordinal);
        string? list = null;
        var lineNumber = 0;
        foreach (var raw in text.Split('\n'))
        {
            lineNumber++;
            var line = StripComment(raw).TrimEnd();
            if (line.Trim().Length == 0) continue;
            var trimmed = line.TrimStart();
            if (trimmed.StartsWith("- ", StringComparison.Ordinal) || trimmed == "-")
            {
                if (list is null) throw Error(source, lineNumber, "a list item outside 'blocklist:', 'read_paths:' or 'exec_allow:'");
                var item = Unquote(trimmed[1..].Trim());
                if (item.Length == 0) throw Error(source, lineNumber, $"an empty {list} item");
                if (list == "read_paths" && (item[0] != '/' || item.Split('/').Any(part => part is "." or "..")))
                {
                    throw Error(source, lineNumber, $"'{item}' is not an absolute path without '.' or '..'");
                }

                if (list == "exec_allow" && item.Split(' ', StringSplitOptions.RemoveEmptyEntries) is ["*", ..])
                {
                    throw Error(source, lineNumber, "an exec_allow entry must name a command before '*'");
                }

                lists[list].Add(item);
                continue;
            }

            if (line[0] == ' ') throw Error(source, lineNumber, "unexpected indentation");
            var colon = line.IndexOf(':', StringComparison.Ordinal);
            if (colon <= 0) throw Error(source, lineNumber, "expected 'key: value'");
            var key = line[..colon].Trim();
            var value = Unquote(line[(colon + 1)..].Trim());
            list = null;
            policy = key switch
            {
                "diag" => policy with { Diag = Bool(value, source, lineNumber) },
                "service" => policy with { Service = Bool(value, source, lineNumber) },
                "exec" => policy with { Exec = Bool(value, source, lineNumber) },
                "reboot" => policy with { Reboot = Bool(value, source, lineNumber) },
                "max_timeout_seconds" => policy with { MaxTimeoutSeconds = (int)Number(value, 1, 86_400, source, lineNumber) },
                "max_output_bytes" => policy with { MaxOutputBytes = Number(value, 1024, 64L * 1024 * 1024, source, lineNumber) },
                "blocklist" or "read_paths" or "exec_allow" when value.Length == 0 => policy,
                "blocklist" or "read_paths" or "exec_allow" => throw Error(source, lineNumber, $"'{key}' takes a list: '- item' lines below it"),
                _ => throw Error(source, lineNumber, $"unknown setting '{key}' (known: diag, service, exec, reboot, max_timeout_seconds, max_output_bytes, blocklist, read_paths, exec_allow)"),
            };
            if (key is "blocklist" or "read_paths" or "exec_allow")
            {
                if (lists.ContainsKey(key)) throw Error(source, lineNumber, $"'{key}' is given twice");
                lists[key] = [];
                list = key;
            }
        }

        return policy with
        {
            Blocklist = lists.GetValueOrDefault("blocklist") ?? [],
            ReadPaths = lists.TryGetValue("read_paths", out var read) ? read : DefaultReadPaths,
            ExecAllow = lists.GetValueOrDefault("exec_allow") ?? [],
        };
    }

    private static string StripComment(string line)
    {
        var inQuote = false;
        for (var i = 0; i < line.Length; i++)
        {
            if (line[i] == '"') inQuote = !inQuote;
            if (line[i] == '#' && !inQuote && (i == 0 || char.IsWhiteSpace(line[i - 1]))) return line[..i];
        }

        return line.TrimEnd('\r');
    }

    private static string Unquote(string s) =>
        s.Length >= 2 && ((s[0] == '"' && s[^1] == '"') || (s[0] == '\'' && s[^1] == '\'')) ? s[1..^1] : s;

    private static bool Bool(string value, string source, int line) => value switch
    {
        "true" or "yes" or "on" => true,
        "false" or "no" or "off" => false,
        _ => throw Error(source, line, $"'{value}' is not true or false"),
    };

    private static long Number(string value, long min, long max, string source, int line) =>
        long.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var n) && n >= min && n <= max
            ? n
            : throw Error(source, line, $"'{value}' is not a whole number from {min} to {max}");

    private static AgentException Error(string source, int line, string what) =>
        new($"{source}, line {line}: {what}", "fix that line; the format is in docs/agent.md");
}
