using Medic.Contracts;
using Medic.Server.Notifications;

namespace Medic.Server.Web.Pages.Settings;

/// <summary>The "add a routing rule" form as typed, read into the API's <see cref="CreateNotificationRuleRequest"/>.</summary>
internal sealed class RuleDraft
{
    public string Name { get; set; } = "";
    public List<string> Channels { get; } = [];
    public string MinSeverity { get; set; } = "info";
    public List<string> Events { get; } = [.. NotificationEvents.Routable];
    public string Source { get; set; } = "";
    public string Server { get; set; } = "";

    /// <summary><c>key=value</c> pairs separated by spaces or commas; an incident must carry all of them.</summary>
    public string Labels { get; set; } = "";
    public string RenotifyEvery { get; set; } = "";
    public string RenotifySeverity { get; set; } = "critical";

    /// <summary>The request, or null with the answer for a field that cannot be read (a label that is not key=value).</summary>
    public (CreateNotificationRuleRequest? Request, IReadOnlyDictionary<string, string[]> Errors) ToRequest()
    {
        // The API stores a rule without events, which would never send anything.
        if (Events.Count == 0) return (null, new Dictionary<string, string[]> { ["events"] = ["tick at least one event to send"] });
        var labels = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var pair in Labels.Split([',', ' ', '\t', '\n', '\r'], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var eq = pair.IndexOf('=', StringComparison.Ordinal);
            if (eq <= 0) return (null, new Dictionary<string, string[]> { ["labels"] = [$"'{pair}' is not key=value: write labels like team=payments env=prod"] });
            labels[pair[..eq]] = pair[(eq + 1)..];
        }

        return (new CreateNotificationRuleRequest(
            Name.Trim(), [.. Channels], MinSeverity, labels.Count > 0 ? labels : null, Blank(Source), Blank(Server),
            // In the order the API lists them, so the stored rule reads the same whatever order they were ticked in.
            [.. NotificationEvents.Routable.Where(Events.Contains)], Blank(RenotifyEvery), RenotifySeverity), new Dictionary<string, string[]>());
    }

    private static string? Blank(string text) => string.IsNullOrWhiteSpace(text) ? null : text.Trim();
}
