using Medic.Contracts;
using Medic.Server.Incidents;

namespace Medic.Server.Notifications;

internal static class ChannelKinds
{
    public const string Slack = "slack";
    public const string Teams = "teams";
    public const string Discord = "discord";
    public const string Telegram = "telegram";
    public const string Email = "email";
    public const string Webhook = "webhook";
    public const string PagerDuty = "pagerduty";

    public static readonly IReadOnlyList<string> All = [Slack, Teams, Discord, Telegram, Email, Webhook, PagerDuty];
}

/// <summary>What a notification tells people. Rules pick among all but <see cref="Reminder"/>, which repeats <see cref="Opened"/>.</summary>
internal static class NotificationEvents
{
    public const string Opened = "opened";
    public const string Escalated = "escalated";
    public const string Resolved = "resolved";
    public const string Acknowledged = "acknowledged";
    public const string ApprovalRequested = "approval_requested";
    public const string Reminder = "reminder";
    public const string Test = "test";

    public static readonly IReadOnlyList<string> Routable = [Opened, Escalated, Resolved, Acknowledged, ApprovalRequested];
}

/// <summary>What the notifier last knew of an incident: its episode (1, then one more per reopening) and whether people were told lately.</summary>
internal sealed class IncidentNotifyState
{
    public string IncidentId { get; set; } = "";
    public string TenantId { get; set; } = "";
    public int Episode { get; set; }
    public DateTimeOffset EpisodeStartedAt { get; set; }
    public string Status { get; set; } = "";
    public bool Acknowledged { get; set; }
    public DateTimeOffset? LastNotifiedAt { get; set; }
    public DateTimeOffset UpdatedAt { get; set; }
}

/// <summary>
/// The pure decisions of notifying: which event an incident change is, which rules it matches,
/// whether a flapping incident is damped, whether a reminder is still due. Functions of their inputs.
/// </summary>
internal static class NotificationRouting
{
    public static int SeverityRank(string severity) => severity switch
    {
        Severities.Critical => 3,
        Severities.Warning => 2,
        _ => 1,
    };

    /// <summary>
    /// The event a change on the live feed means, given what was known before (null: nothing), and
    /// the state to keep. No event for repeats, updates and duplicates: people hear of a state once.
    /// </summary>
    public static (string? Event, IncidentNotifyState State) Decide(string action, IncidentResponse incident, IncidentNotifyState? known, DateTimeOffset now)
    {
        var state = known is null
            ? new IncidentNotifyState { IncidentId = incident.Id, Episode = 1, EpisodeStartedAt = incident.FirstSeenAt, Status = "" }
            : new IncidentNotifyState
            {
                IncidentId = known.IncidentId, TenantId = known.TenantId, Episode = known.Episode, EpisodeStartedAt = known.EpisodeStartedAt,
                Status = known.Status, Acknowledged = known.Acknowledged, LastNotifiedAt = known.LastNotifiedAt,
            };
        state.UpdatedAt = now;
        string? ev = null;
        switch (action)
        {
            case "created" when known is null:
                ev = NotificationEvents.Opened;
                break;
            case "reopened" when known is null || known.Status == "resolved":
                if (known is not null)
                {
                    state.Episode++;
                    state.Acknowledged = false;
                }

                // The store keeps an earlier acknowledgement on a reopened incident; this episode starts unacknowledged.
                state.EpisodeStartedAt = incident.LastSeenAt;
                ev = NotificationEvents.Opened;
                break;
            case "resolved" when known?.Status != "resolved":
                ev = NotificationEvents.Resolved;
                break;
            case "acknowledged" when known is null || !known.Acknowledged:
                ev = NotificationEvents.Acknowledged;
                state.Acknowledged = true;
                break;
            case "updated" or "noted" when incident.Status == IncidentStatus.Escalated && known?.Status != IncidentStatus.Escalated.ToText():
                ev = NotificationEvents.Escalated;
                break;
        }

        state.Status = incident.Status.ToText();
        return (ev, state);
    }

    /// <summary>Whether <paramref name="rule"/> wants <paramref name="ev"/> for <paramref name="incident"/>. A reminder follows the rule's opened.</summary>
    public static bool Matches(NotificationRuleRow rule, string ev, IncidentResponse incident)
    {
        var wanted = ev == NotificationEvents.Reminder ? NotificationEvents.Opened : ev;
        if (!rule.EventList.Contains(wanted)) return false;
        if (SeverityRank(incident.Severity) < SeverityRank(rule.MinSeverity)) return false;
        if (rule.Source is not null && !string.Equals(rule.Source, incident.Source, StringComparison.Ordinal)) return false;
        if (rule.Server is not null && rule.Server != incident.Server && rule.Server != incident.ServerId) return false;
        foreach (var (key, value) in rule.LabelMap)
        {
            if (!incident.Labels.TryGetValue(key, out var actual) || actual != value) return false;
        }

        return true;
    }

    /// <summary>A flapping incident's opened and resolved are not sent again within <paramref name="window"/> of the last notification.</summary>
    public static bool Damped(string ev, IncidentResponse incident, IncidentNotifyState state, DateTimeOffset now, TimeSpan window) =>
        incident.Flapping && ev is NotificationEvents.Opened or NotificationEvents.Resolved
            && state.LastNotifiedAt is { } last && now - last < window;

    /// <summary>Whether a reminder is still due: the same episode, neither resolved nor acknowledged since the episode began.</summary>
    public static bool ReminderDue(IncidentResponse? incident, IncidentNotifyState? state, int episode) =>
        incident is not null && state is not null && state.Episode == episode && incident.ResolvedAt is null
            && !(incident.AcknowledgedAt is { } acked && acked >= state.EpisodeStartedAt) && !state.Acknowledged;

    public static bool RenotifyApplies(NotificationRuleRow rule, IncidentResponse incident) =>
        rule.RenotifySeconds > 0 && SeverityRank(incident.Severity) >= SeverityRank(rule.RenotifySeverity);
}
