using Medic.Agent.Monitors;

namespace Medic.Agent.Policy;

/// <summary>
/// The node's own word on what the control plane may make it do. It is the last word: a
/// compromised control plane cannot exceed it. Read from <c>/etc/medic/agent-policy.yaml</c>
/// (or <c>--policy</c>); a missing file means the defaults.
/// </summary>
public sealed record AgentPolicy
{
    public const string DefaultPath = "/etc/medic/agent-policy.yaml";

    private const string Docs = "docs/agent.md";

    private static readonly string[] Settings = ["diag", "service", "exec", "reboot", "max_timeout_seconds", "max_output_bytes"];

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
    /// Reads a policy file: <c>key: value</c> settings and the lists <c>blocklist</c>, <c>read_paths</c>
    /// and <c>exec_allow</c>, through <see cref="StrictYaml"/>. Anything else (an unknown or repeated
    /// key, a key without a value, a boolean that is not one of the six words) is an error naming its
    /// line, because a policy that silently means something else is worse than none.
    /// </summary>
    public static AgentPolicy Parse(string text, string source)
    {
        YamlNode? root;
        try
        {
            root = StrictYaml.Parse(text);
        }
        catch (YamlSyntaxException ex)
        {
            throw YamlFields.Error(source, ex.Line, ex.Message, Docs);
        }

        switch (root)
        {
            case YamlList list:
                throw YamlFields.Error(source, list.Line, "a list item outside 'blocklist:', 'read_paths:' or 'exec_allow:'", Docs);
            case YamlScalar scalar:
                throw YamlFields.Error(source, scalar.Line, "expected 'key: value'", Docs);
        }

        var f = new YamlFields(root, source, Docs, "a policy file");
        foreach (var key in Settings)
        {
            if (f.Has(key) && f.Node(key) is null) throw f.Error(f.LineOf(key), $"'{key}' has no value");
        }

        var policy = new AgentPolicy
        {
            Diag = f.Bool("diag") ?? true,
            Service = f.Bool("service") ?? true,
            Exec = f.Bool("exec") ?? false,
            Reboot = f.Bool("reboot") ?? false,
            MaxTimeoutSeconds = f.Integer("max_timeout_seconds", 1, 86_400) ?? 3600,
            MaxOutputBytes = f.Integer("max_output_bytes", 1024, 64 * 1024 * 1024) ?? 1024 * 1024,
            Blocklist = Items(f, "blocklist") ?? [],
            ReadPaths = Items(f, "read_paths") ?? DefaultReadPaths,
            ExecAllow = Items(f, "exec_allow") ?? [],
        };
        f.Done("a policy file", [.. Settings, "blocklist", "read_paths", "exec_allow"]);
        return policy;
    }

    /// <summary>A list setting; a bare <c>key:</c> is an empty list, an absent key null.</summary>
    private static List<string>? Items(YamlFields f, string key)
    {
        if (!f.Has(key)) return null;
        var node = f.Node(key);
        if (node is null) return [];
        if (node is not YamlList list) throw f.Error(f.LineOf(key), $"'{key}' takes a list: '- item' lines below it");
        var items = new List<string>();
        foreach (var item in list.Items)
        {
            var value = item is YamlScalar scalar ? scalar.Value : throw f.Error(item.Line, $"each {key} item must be a single value");
            if (value.Length == 0) throw f.Error(item.Line, $"an empty {key} item");
            if (key == "read_paths" && (value[0] != '/' || value.Split('/').Any(part => part is "." or "..")))
            {
                throw f.Error(item.Line, $"'{value}' is not an absolute path without '.' or '..'");
            }

            if (key == "exec_allow" && value.Split(' ', StringSplitOptions.RemoveEmptyEntries) is ["*", ..])
            {
                throw f.Error(item.Line, "an exec_allow entry must name a command before '*'");
            }

            items.Add(value);
        }

        return items;
    }
}
