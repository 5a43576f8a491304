using System.Collections.Concurrent;
using System.Threading.Channels;
using Medic.Contracts;

namespace Medic.Server.Incidents;

/// <summary>
/// Live incident changes, per tenant. Each subscriber gets a bounded queue; a subscriber too slow
/// to keep up loses the oldest messages rather than holding up the writers.
/// </summary>
internal sealed class IncidentFeed
{
    private readonly ConcurrentDictionary<string, ConcurrentDictionary<Channel<IncidentFeedMessage>, byte>> _byTenant = new(StringComparer.Ordinal);

    public void Publish(string tenantId, IncidentFeedMessage message)
    {
        if (!_byTenant.TryGetValue(tenantId, out var subscribers)) return;
        foreach (var channel in subscribers.Keys) channel.Writer.TryWrite(message);
    }

    public Subscription Subscribe(string tenantId)
    {
        var channel = Channel.CreateBounded<IncidentFeedMessage>(new BoundedChannelOptions(1000) { FullMode = BoundedChannelFullMode.DropOldest, SingleReader = true });
        _byTenant.GetOrAdd(tenantId, _ => new()).TryAdd(channel, 0);
        return new Subscription(channel.Reader, () =>
        {
            if (_byTenant.TryGetValue(tenantId, out var subscribers)) subscribers.TryRemove(channel, out _);
            channel.Writer.TryComplete();
        });
    }

    public sealed class Subscription(ChannelReader<IncidentFeedMessage> reader, Action unsubscribe) : IDisposable
    {
        public ChannelReader<IncidentFeedMessage> Reader { get; } = reader;

        public void Dispose() => unsubscribe();
    }
}
