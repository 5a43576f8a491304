using System.Text.Json;
using Medic.Contracts;
using Medic.Server.Incidents;
using Medic.Server.Secrets;
using Medic.Server.Storage;

namespace Medic.Server.Notifications;

/// <summary>
/// Sends one delivery. A delivery the log already records as sent is never sent again: success is
/// written before the job completes, so a worker that dies between the two leaves a job whose retry
/// finds "sent" and stops. The one gap left is a worker dying after the receiver accepted and before
/// "sent" is written; receivers can drop that repeat by the delivery id (and PagerDuty by its dedup key).
/// </summary>
internal sealed partial class DeliveryJobHandler(NotificationStore store, NotificationSender sender, SecretBox box, TimeProvider time, ILogger<DeliveryJobHandler> log) : IJobHandler
{
    public string Kind => NotificationPlanner.DeliverKind;

    public TimeSpan Lease => TimeSpan.FromMinutes(1);

    public async Task HandleAsync(JobRow job, CancellationToken ct)
    {
        var d = JsonSerializer.Deserialize(job.Payload, NotificationJson.Default.DeliveryJob)!;
        var delivery = await store.DeliveryAsync(d.TenantId, d.DeliveryId, ct);
        if (delivery is null || delivery.StatusValue is DeliveryStatus.Sent or DeliveryStatus.Damped) return;
        var channel = await store.ChannelByIdAsync(d.TenantId, d.ChannelId, ct);
        if (channel is null || channel.RemovedAt is not null)
        {
            await store.RecordAttemptAsync(d.DeliveryId, DeliveryStatus.Dead, job.Attempts, "the channel was removed before the message went out", time.GetUtcNow(), CancellationToken.None);
            return;
        }

        try
        {
            var secrets = Open(box, channel);
            await sender.SendAsync(channel, secrets, new NotificationMessage(d.Event, d.Incident, d.ApprovalId, d.Link, d.At, d.DeliveryId, d.Escalation), ct);
        }
        catch (NotifyException e)
        {
            var dead = job.Attempts >= job.MaxAttempts;
            await store.RecordAttemptAsync(d.DeliveryId, dead ? DeliveryStatus.Dead : DeliveryStatus.Retrying, job.Attempts, e.Message, time.GetUtcNow(), CancellationToken.None);
            LogFailed(d.DeliveryId, d.Event, d.Incident?.Id, channel.Name, job.Attempts, e.Message);
            throw;
        }

        await store.RecordAttemptAsync(d.DeliveryId, DeliveryStatus.Sent, job.Attempts, null, time.GetUtcNow(), CancellationToken.None);
        LogSent(d.DeliveryId, d.Event, d.Incident?.Id, channel.Name, job.Attempts);
    }

    /// <summary>The channel's secrets, opened with the master key; a failure never shows the sealed text.</summary>
    internal static ChannelSecrets Open(SecretBox box, NotificationChannelRow channel)
    {
        if (channel.SealedSecrets is null) return new ChannelSecrets();
        var json = box.Open(channel.SealedSecrets, NotificationChannelRow.SecretsAssociatedData(channel.TenantId, channel.Id))
            ?? throw new NotifyException("the channel's stored secrets cannot be opened with this master key; add the channel again");
        return JsonSerializer.Deserialize(json, NotificationJson.Default.ChannelSecrets) ?? new ChannelSecrets();
    }
}

/// <summary>
/// Re-notifies an open incident until someone acknowledges it (or it resolves, or the rule goes away).
/// Its deliveries are due at once: the worker starts its next round without waiting after a round that ran jobs.
/// </summary>
internal sealed class ReminderJobHandler(Database db, NotificationStore store, NotificationPlanner planner, IncidentQueries incidents) : IJobHandler
{
    public string Kind => NotificationPlanner.ReminderKind;

    public TimeSpan Lease => TimeSpan.FromMinutes(1);

    public async Task HandleAsync(JobRow job, CancellationToken ct)
    {
        var r = JsonSerializer.Deserialize(job.Payload, NotificationJson.Default.ReminderJob)!;
        var incident = (await incidents.GetAsync(r.TenantId, r.IncidentId, ct))?.Incident;
        var state = await store.StateAsync(r.TenantId, r.IncidentId, ct);
        if (!NotificationRouting.ReminderDue(incident, state, r.Episode)) return;
        await db.WriteAsync(async (c, tx) =>
        {
            var rule = await NotificationStore.FindRuleAsync(c, tx, r.TenantId, r.RuleId);
            if (rule is null || !NotificationRouting.Matches(rule, NotificationEvents.Reminder, incident!) || !NotificationRouting.RenotifyApplies(rule, incident!)) return 0;
            return await planner.RemindAsync(c, tx, r, rule, incident!);
        }, ct);
    }
}
