using System.Data.Common;
using System.Text.Json;
using Medic.Contracts;
using Medic.Server.Common;
using Medic.Server.Storage;
using Microsoft.Extensions.Options;

namespace Medic.Server.Notifications;

/// <summary>The job that sends one delivery: a snapshot of what to say, so a retry says the same thing.</summary>
/// <param name="Escalation">For an escalation: why the pipeline stopped, what was tried and what is likely wrong (<see cref="EscalationSummary"/>).</param>
internal sealed record DeliveryJob(string DeliveryId, string TenantId, string ChannelId, string Event, IncidentResponse? Incident, string? ApprovalId, string? Link, DateTimeOffset At,
    Dictionary<string, string>? Escalation = null);

/// <summary>The job that checks, <c>Number</c> times after the incident opened, whether it is still unacknowledged and reminds people if so.</summary>
internal sealed record ReminderJob(string TenantId, string IncidentId, int Episode, string RuleId, int Number);

/// <summary>
/// Turns incident changes into delivery jobs: the event (<see cref="NotificationRouting.Decide"/>),
/// the rules it matches, one job per channel under the idempotency key
/// <c>notify:{incident}:{episode}:{event}:{channel}</c> (so the same change planned twice sends once),
/// damping for flapping incidents, and the first reminder of an unacknowledged incident.
/// Everything is written in the caller's transaction.
/// </summary>
internal sealed class NotificationPlanner(JobQueue jobs, ConsoleLinks links, IOptions<MedicOptions> options, TimeProvider time)
{
    public const string DeliverKind = "notify.deliver";
    public const string ReminderKind = "notify.remind";

    private NotificationOptions Options => options.Value.Notifications;

    /// <summary>Plans the notifications one incident change calls for; returns how many deliveries were queued.</summary>
    public async Task<int> PlanAsync(DbConnection c, DbTransaction tx, string tenantId, string action, IncidentResponse incident)
    {
        var now = time.GetUtcNow();
        var known = await NotificationStore.StateAsync(c, tx, tenantId, incident.Id);
        var (ev, state) = NotificationRouting.Decide(action, incident, known, now);
        state.TenantId = tenantId;
        if (ev is null)
        {
            if (known is not null && known.Status != state.Status) await NotificationStore.SaveStateAsync(c, tx, state);
            return 0;
        }

        var rules = (await NotificationStore.RulesAsync(c, tx, tenantId)).Where(r => NotificationRouting.Matches(r, ev, incident)).ToList();
        var channels = rules.SelectMany(r => r.ChannelIds).Distinct(StringComparer.Ordinal).ToList();
        var damped = NotificationRouting.Damped(ev, incident, state, now, TimeSpan.FromMinutes(Options.DampingMinutes));
        var key = $"notify:{incident.Id}:{state.Episode}:{ev}";
        Dictionary<string, string>? escalation = null;
        if (ev == NotificationEvents.Escalated)
        {
            // Each time the pipeline stops is news (a later round that fails again too): one escalation per round.
            var (round, summary) = await EscalationSummary.ReadAsync(c, tx, tenantId, incident);
            key += "-" + round.ToString(System.Globalization.CultureInfo.InvariantCulture);
            escalation = summary;
        }

        var queued = await EnqueueAsync(c, tx, tenantId, channels, ev, incident, null, key,
            damped ? $"damped: the incident is flapping and people were told less than {Options.DampingMinutes} min ago" : null, escalation);
        if (!damped && channels.Count > 0) state.LastNotifiedAt = now;
        if (ev == NotificationEvents.Opened)
        {
            foreach (var rule in rules.Where(r => NotificationRouting.RenotifyApplies(r, incident)))
            {
                await EnqueueReminderAsync(c, tx, new ReminderJob(tenantId, incident.Id, state.Episode, rule.Id, 1), now + TimeSpan.FromSeconds(rule.RenotifySeconds));
            }
        }

        await NotificationStore.SaveStateAsync(c, tx, state);
        return queued;
    }

    /// <summary>
    /// For the approval step of the pipeline: tells the rules that want <c>approval_requested</c>,
    /// with a link to <c>{public_url}/approvals/{approvalId}</c>. Call it in the transaction that creates the approval.
    /// </summary>
    public async Task<int> ApprovalRequestedAsync(DbConnection c, DbTransaction tx, string tenantId, string approvalId, IncidentResponse incident)
    {
        var ev = NotificationEvents.ApprovalRequested;
        var rules = (await NotificationStore.RulesAsync(c, tx, tenantId)).Where(r => NotificationRouting.Matches(r, ev, incident));
        var channels = rules.SelectMany(r => r.ChannelIds).Distinct(StringComparer.Ordinal).ToList();
        return await EnqueueAsync(c, tx, tenantId, channels, ev, incident, approvalId, $"notify:approval:{approvalId}", null);
    }

    /// <summary>A reminder for one rule: its channels, then the next reminder one interval later.</summary>
    internal async Task<int> RemindAsync(DbConnection c, DbTransaction tx, ReminderJob job, NotificationRuleRow rule, IncidentResponse incident)
    {
        var queued = await EnqueueAsync(c, tx, job.TenantId, rule.ChannelIds, NotificationEvents.Reminder, incident, null,
            $"notify:{incident.Id}:{job.Episode}:reminder-{job.Number}:{rule.Id}", null);
        await EnqueueReminderAsync(c, tx, job with { Number = job.Number + 1 }, time.GetUtcNow() + TimeSpan.FromSeconds(rule.RenotifySeconds));
        return queued;
    }

    private Task EnqueueReminderAsync(DbConnection c, DbTransaction tx, ReminderJob job, DateTimeOffset at) =>
        jobs.EnqueueAsync(c, tx, job.TenantId, ReminderKind, $"notify-remind:{job.IncidentId}:{job.Episode}:{job.RuleId}:{job.Number}",
            JsonSerializer.Serialize(job, NotificationJson.Default.ReminderJob), at, Options.MaxAttempts);

    private async Task<int> EnqueueAsync(DbConnection c, DbTransaction tx, string tenantId, IReadOnlyList<string> channelIds, string ev,
        IncidentResponse incident, string? approvalId, string keyPrefix, string? dampedBecause, Dictionary<string, string>? escalation = null)
    {
        var now = time.GetUtcNow();
        var link = approvalId is null ? links.Incident(incident.Id) : links.Approval(approvalId);
        var queued = 0;
        foreach (var channelId in channelIds)
        {
            var key = keyPrefix + ":" + channelId;
            var delivery = new DeliveryRow
            {
                Id = Ids.New("ntf"), TenantId = tenantId, IdempotencyKey = key, IncidentId = incident.Id, ApprovalId = approvalId, ChannelId = channelId, Event = ev,
                StatusValue = dampedBecause is null ? DeliveryStatus.Pending : DeliveryStatus.Damped, LastError = dampedBecause, CreatedAt = now,
            };
            if (!await NotificationStore.InsertDeliveryAsync(c, tx, delivery) || dampedBecause is not null) continue;
            var payload = new DeliveryJob(delivery.Id, tenantId, channelId, ev, incident, approvalId, link, now, escalation);
            await jobs.EnqueueAsync(c, tx, tenantId, DeliverKind, key, JsonSerializer.Serialize(payload, NotificationJson.Default.DeliveryJob), now, Options.MaxAttempts);
            queued++;
        }

        return queued;
    }
}
