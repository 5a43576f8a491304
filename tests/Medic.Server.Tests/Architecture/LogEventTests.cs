using System.Reflection;
using System.Text.RegularExpressions;
using Medic.Server.Hosting;
using Medic.Server.Tests.Infrastructure;
using Microsoft.Extensions.Logging;

namespace Medic.Server.Tests.Architecture;

/// <summary>
/// Every log event of the control plane has its own id, listed in docs/logging.md with its level
/// and message, so an operator can grep for it and look up what to do.
/// </summary>
public sealed partial class LogEventTests
{
    private const BindingFlags Declared = BindingFlags.NonPublic | BindingFlags.Public | BindingFlags.Static | BindingFlags.Instance | BindingFlags.DeclaredOnly;

    [Fact]
    public void Every_log_event_has_an_explicit_id()
    {
        var unnumbered = Events().Where(e => e.Attribute.EventId <= 0).Select(e => e.Method).ToList();

        unnumbered.ShouldBeEmpty("give each [LoggerMessage] an id in its capability's range (docs/logging.md)");
    }

    [Fact]
    public void No_two_log_events_share_an_id()
    {
        var shared = Events().GroupBy(e => e.Attribute.EventId)
            .Where(g => g.Count() > 1)
            .Select(g => $"{g.Key}: {string.Join(", ", g.Select(e => e.Method))}")
            .ToList();

        shared.ShouldBeEmpty("each id names one event; take a free one in the capability's range (docs/logging.md)");
    }

    [Fact]
    public void Every_log_event_is_documented_with_its_level_and_message()
    {
        var rows = DocumentedEvents();
        var missing = new List<string>();
        foreach (var (method, attribute) in Events())
        {
            if (!rows.TryGetValue(attribute.EventId, out var row))
            {
                missing.Add($"{attribute.EventId} ({method}) has no row");
            }
            else if (row.Level != attribute.Level.ToString() || row.Message != attribute.Message)
            {
                missing.Add($"{attribute.EventId} ({method}) is documented as {row.Level} `{row.Message}` but logs {attribute.Level} `{attribute.Message}`");
            }
        }

        missing.ShouldBeEmpty("docs/logging.md lists every event: id, level, category, message template, what to do");
    }

    [Fact]
    public void The_docs_list_no_event_the_server_does_not_log()
    {
        var ids = Events().Select(e => e.Attribute.EventId).ToHashSet();

        DocumentedEvents().Keys.Where(id => !ids.Contains(id)).ShouldBeEmpty("remove the rows of events that are gone from docs/logging.md");
    }

    private static List<(string Method, LoggerMessageAttribute Attribute)> Events()
    {
        var events = typeof(MedicApp).Assembly.GetTypes()
            .SelectMany(t => t.GetMethods(Declared).Select(m => (Method: $"{t.FullName}.{m.Name}", Attribute: m.GetCustomAttribute<LoggerMessageAttribute>())))
            .Where(e => e.Attribute is not null)
            .Select(e => (e.Method, e.Attribute!))
            .ToList();
        events.ShouldNotBeEmpty("the server's [LoggerMessage] methods are read by reflection");
        return events;
    }

    /// <summary>The rows of the event table: <c>| id | level | category | `message` | what to do |</c>.</summary>
    private static Dictionary<int, (string Level, string Message)> DocumentedEvents()
    {
        var doc = File.ReadAllText(Path.Combine(Repository.Root(), "docs", "logging.md"));
        var rows = new Dictionary<int, (string Level, string Message)>();
        foreach (Match row in EventRow().Matches(doc))
        {
            var id = int.Parse(row.Groups["id"].Value, System.Globalization.CultureInfo.InvariantCulture);
            rows.TryAdd(id, (row.Groups["level"].Value, row.Groups["message"].Value)).ShouldBeTrue($"docs/logging.md lists {id} twice");
        }

        return rows;
    }

    [GeneratedRegex(@"^\|\s*(?<id>\d+)\s*\|\s*(?<level>\w+)\s*\|[^|\n]*\|\s*`(?<message>[^`\n]*)`\s*\|", RegexOptions.Multiline)]
    private static partial Regex EventRow();
}
