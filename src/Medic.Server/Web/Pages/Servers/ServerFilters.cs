using Medic.Contracts;
using Medic.Server.Fleet;

namespace Medic.Server.Web.Pages.Servers;

/// <summary>The servers list's filters as the address gives them, checked; a bad one becomes a sentence saying how to fix it.</summary>
internal static class ServerFilters
{
    public static (ServerListQuery Query, string? Problem) Parse(string? text, string? status, string? environment, IReadOnlyList<string> tags)
    {
        var query = new ServerListQuery(Text: string.IsNullOrWhiteSpace(text) ? null : text.Trim(), Environment: string.IsNullOrWhiteSpace(environment) ? null : environment.Trim());
        switch (status)
        {
            case null or "":
                break;
            case "incidents":
                query = query with { WithOpenIncidents = true };
                break;
            default:
                if (!StateText.TryParse<NodeStatus>(status, out var parsed)) return (query, $"Status '{status}' is not known: use online, offline or incidents.");
                query = query with { Status = parsed };
                break;
        }

        var wanted = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var pair in tags)
        {
            var parts = pair.Split('=', 2);
            if (parts.Length != 2 || parts[0].Length == 0) return (query, $"Tag '{pair}' is not key=value: write tags as env=prod role=web, separated by spaces.");
            wanted[parts[0]] = parts[1];
        }

        var checkedTags = wanted.ToDictionary(kv => kv.Key, kv => (string?)kv.Value);
        if (query.Environment is not null) checkedTags[Tags.EnvironmentKey] = query.Environment;
        if (Tags.Problem(checkedTags) is { } problem) return (query, $"Filter: {problem}.");
        return (query with { Tags = wanted.Count > 0 ? wanted : null }, null);
    }
}
