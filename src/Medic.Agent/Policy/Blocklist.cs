namespace Medic.Agent.Policy;

/// <summary>
/// Commands the agent refuses whatever the control plane says: the always-on blocklist. Checked
/// against the argv and, when the argv runs a shell (<c>sh -c SCRIPT</c>), against the script.
/// </summary>
public static class Blocklist
{
    private static readonly string[] Shells = ["sh", "bash", "dash", "zsh", "ash", "ksh", "busybox"];
    private static readonly string[] Wrappers = ["sudo", "doas", "env", "nice", "nohup", "timeout", "stdbuf", "ionice", "setsid", "chrt", "taskset", "xargs", "exec", "command", "busybox"];
    private static readonly string[] PowerCommands = ["shutdown", "reboot", "halt", "poweroff"];
    private static readonly string[] BlockDevices = ["/dev/sd", "/dev/hd", "/dev/vd", "/dev/xvd", "/dev/nvme", "/dev/mmcblk", "/dev/dm-", "/dev/mapper/"];

    /// <summary>The rule that refuses <paramref name="argv"/>, or null when it may run.</summary>
    public static string? Check(IReadOnlyList<string> argv, AgentPolicy policy)
    {
        if (argv.Count == 0) return "empty command";
        var commands = new List<string[]> { argv.ToArray() };
        var program = Path.GetFileName(argv[0]);
        var dashC = argv.ToList().IndexOf("-c");
        if (Shells.Contains(program) && dashC >= 1 && dashC + 1 < argv.Count)
        {
            var script = argv[dashC + 1];
            if (script.Replace(" ", "", StringComparison.Ordinal).Contains(":(){", StringComparison.Ordinal) || script.Contains(":|:&", StringComparison.Ordinal))
            {
                return "blocklist: fork bomb";
            }

            foreach (var part in script.Split([';', '&', '|', '\n', '(', ')', '`', '$'], StringSplitOptions.RemoveEmptyEntries))
            {
                commands.Add(part.Split([' ', '\t'], StringSplitOptions.RemoveEmptyEntries));
            }

            foreach (var extra in policy.Blocklist.Where(e => script.Contains(e, StringComparison.Ordinal)))
            {
                return $"blocklist (local policy): '{extra}'";
            }
        }

        var joined = string.Join(' ', argv);
        foreach (var extra in policy.Blocklist.Where(e => joined.Contains(e, StringComparison.Ordinal)))
        {
            return $"blocklist (local policy): '{extra}'";
        }

        foreach (var words in commands.Where(w => w.Length > 0))
        {
            var name = Path.GetFileName(words[0]);
            // A wrapper's own options take values ('timeout -s KILL 5 CMD', 'sudo -u root CMD'), so
            // rather than parse each wrapper, check the command that could start at every later word.
            if (Wrappers.Contains(name))
            {
                for (var start = 1; start < words.Length; start++)
                {
                    if (Check(words[start..], policy) is { } inner) return inner;
                }
            }

            if (name == "rm" && IsRecursive(words) && words.Skip(1).Any(w => w is "/" or "/*" or "/." || w == "--no-preserve-root"))
            {
                return "blocklist: rm -rf of the root filesystem";
            }

            if (name.StartsWith("mkfs", StringComparison.Ordinal) || name is "mke2fs" or "mkswap" or "wipefs")
            {
                return $"blocklist: {name} formats a filesystem";
            }

            if (name == "dd" && words.Any(w => w.StartsWith("of=", StringComparison.Ordinal) && BlockDevices.Any(d => w[3..].StartsWith(d, StringComparison.Ordinal))))
            {
                return "blocklist: dd onto a block device";
            }

            if (!policy.Reboot && (PowerCommands.Contains(name) || (name is "init" or "telinit" && words.Length > 1 && words[1] is "0" or "6")
                || (name == "systemctl" && words.Skip(1).Any(w => w is "reboot" or "poweroff" or "halt" or "kexec"))))
            {
                return $"blocklist: {name} stops or restarts the machine (grant 'reboot: true' in the agent policy to allow it)";
            }
        }

        return null;
    }

    private static bool IsRecursive(string[] words)
    {
        var flags = string.Concat(words.Skip(1).Where(w => w.StartsWith('-') && !w.StartsWith("--", StringComparison.Ordinal)).Select(w => w[1..]));
        return flags.Contains('r', StringComparison.Ordinal) || flags.Contains('R', StringComparison.Ordinal) || words.Contains("--recursive");
    }
}
