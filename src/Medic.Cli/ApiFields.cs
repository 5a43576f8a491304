namespace Medic.Cli;

/// <summary>
/// The one place that turns the API's validation field names into the flags a CLI user types:
/// <c>timeout_seconds</c> is <c>--timeout</c>, <c>strategy.batch_size</c> is <c>--batch-size</c>,
/// and an empty server selector names the flags that choose servers.
/// </summary>
internal static class ApiFields
{
    private static readonly Dictionary<string, string> Flags = new(StringComparer.Ordinal)
    {
        ["names"] = "--server",
        ["targets"] = "--server",
        ["node_id"] = "--server",
        ["environment"] = "--env",
        ["groups"] = "--group",
        ["tags"] = "--tag",
        ["parameters"] = "--param",
        ["batch_size"] = "--batch",
        ["max"] = "--max",
    };

    public static string Describe(string field, IEnumerable<string> messages)
    {
        var what = string.Join(", ", messages).TrimEnd('.');
        return field is "selector" or "target" or "targets.selector"
            ? "no servers chosen: name them with --server, --tag, --env, --group or --all"
            : $"{Flag(field)} {what}";
    }

    public static string Flag(string field)
    {
        // A runbook's parameters are set with --param NAME=VALUE.
        foreach (var prefix in new[] { "params.", "parameters." })
        {
            if (field.StartsWith(prefix, StringComparison.Ordinal)) return "--param " + field[prefix.Length..];
        }

        var last = field[(field.LastIndexOf('.') + 1)..];
        if (Flags.TryGetValue(last, out var flag)) return flag;
        if (last.EndsWith("_seconds", StringComparison.Ordinal)) last = last[..^"_seconds".Length];
        return "--" + last.Replace('_', '-');
    }
}
