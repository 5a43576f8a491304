using System.Threading.RateLimiting;
using Medic.Server.Common;
using Microsoft.Extensions.Options;

namespace Medic.Server.Detection.Webhooks;

/// <summary>
/// The delivery budgets, taken after authentication so that nobody without the credentials can spend
/// a sender's: an authenticated delivery spends its tenant's budget for that source, a refused one
/// (unknown tenant, wrong credentials) spends the budget of the client address it came from. Both are
/// <c>rate_limits.webhooks_per_minute</c> in fixed one-minute windows. Alertmanager does not retry a
/// 429, so a budget anyone could spend would delay a tenant's resolves.
/// </summary>
internal sealed class WebhookRateLimits : IDisposable
{
    private readonly PartitionedRateLimiter<string> _senders;
    private readonly PartitionedRateLimiter<string> _refused;

    public WebhookRateLimits(IOptions<MedicOptions> options)
    {
        var perMinute = options.Value.RateLimits.WebhooksPerMinute;
        _senders = PerMinute(perMinute);
        _refused = PerMinute(perMinute);
    }

    /// <summary>Spends one of the source's deliveries this minute; null when there was one, else how long until the next.</summary>
    public TimeSpan? Sender(string tenantId, string source) => Take(_senders, tenantId + "/" + source);

    /// <summary>Spends one of the client address's refused deliveries this minute; null when there was one, else how long until the next.</summary>
    public TimeSpan? Refused(string? clientAddress) => Take(_refused, clientAddress ?? "unknown");

    private static TimeSpan? Take(PartitionedRateLimiter<string> limiter, string key)
    {
        using var lease = limiter.AttemptAcquire(key);
        if (lease.IsAcquired) return null;
        return lease.TryGetMetadata(MetadataName.RetryAfter, out var retry) ? retry : TimeSpan.FromMinutes(1);
    }

    private static PartitionedRateLimiter<string> PerMinute(int permits) => PartitionedRateLimiter.Create<string, string>(key =>
        RateLimitPartition.GetFixedWindowLimiter(key, _ => new FixedWindowRateLimiterOptions { PermitLimit = permits, Window = TimeSpan.FromMinutes(1), QueueLimit = 0 }));

    public void Dispose()
    {
        _senders.Dispose();
        _refused.Dispose();
    }
}
