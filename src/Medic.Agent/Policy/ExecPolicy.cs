using Medic.Contracts;

namespace Medic.Agent.Policy;

/// <summary>
/// Whether this node runs a command for the control plane (an exec task, a pushed command
/// monitor, a supervised process): <c>exec</c> must be granted, the command must be on the
/// <c>exec_allow</c> list when the policy has one, and the blocklist must let it through.
/// </summary>
public static class ExecPolicy
{
    /// <summary>The rule that refuses <paramref name="argv"/>, or null when it may run.</summary>
    public static string? Refusal(IReadOnlyList<string> argv, AgentPolicy policy)
    {
        if (!policy.Exec) return "policy: this node does not grant 'exec' (set exec: true in its agent policy)";
        if (argv.Count == 0) return "empty command";
        if (policy.ExecAllow.Count > 0 && !policy.ExecAllow.Any(entry => Allows(entry, argv)))
        {
            return $"policy: '{Describe(argv)}' is not on this node's exec_allow list (add it to the agent policy to allow it)";
        }

        return Blocklist.Check(argv, policy);
    }

    /// <summary>An entry is an argv written with spaces: exact, or a prefix when its last word is <c>*</c>.</summary>
    internal static bool Allows(string entry, IReadOnlyList<string> argv)
    {
        var words = entry.Split([' ', '\t'], StringSplitOptions.RemoveEmptyEntries);
        var prefix = words is [.., "*"];
        if (prefix) words = words[..^1];
        if (prefix ? argv.Count < words.Length : argv.Count != words.Length) return false;
        for (var i = 0; i < words.Length; i++)
        {
            if (!string.Equals(words[i], argv[i], StringComparison.Ordinal)) return false;
        }

        return true;
    }

    private static string Describe(IReadOnlyList<string> argv)
    {
        var text = string.Join(' ', argv);
        return Texts.Truncate(text, 120);
    }
}
