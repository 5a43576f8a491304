using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.AI;

namespace Medic.Server.Ai.Providers;

/// <summary>
/// The SDK clients built for model entries, kept per entry and rebuilt (the old one disposed) when the
/// entry's address, model or key changes. Retries are off: <see cref="ChatRoute"/> decides what to try next.
/// </summary>
internal sealed class ChatClientCache : IDisposable
{
    private readonly ConcurrentDictionary<string, (string Fingerprint, IChatClient Client)> _clients = new(StringComparer.Ordinal);

    public IChatClient Get(string tenantId, AiModelEntry entry, string? key)
    {
        // Config entries are shared by tenants, each with its own key: one client per tenant for those.
        var slot = entry.Id ?? "config:" + tenantId + ":" + entry.Name + ":" + entry.Endpoint;
        var fingerprint = entry.Provider + "|" + entry.Endpoint + "|" + entry.TimeoutSeconds + "|" + Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(key ?? "")));
        if (_clients.TryGetValue(slot, out var cached) && cached.Fingerprint == fingerprint) return cached.Client;
        var client = Build(entry, key);
        _clients[slot] = (fingerprint, client);
        if (cached.Client is not null && !ReferenceEquals(cached.Client, client)) cached.Client.Dispose();
        return client;
    }

    public void Forget(string entryId)
    {
        if (_clients.TryRemove(entryId, out var gone)) gone.Client.Dispose();
    }

    private static IChatClient Build(AiModelEntry entry, string? key) =>
        ChatClients.Create(entry.ProviderName, entry.EffectiveBaseUrl, entry.Model, key, TimeSpan.FromSeconds(entry.TimeoutSeconds));

    public void Dispose()
    {
        foreach (var (_, (_, client)) in _clients) client.Dispose();
        _clients.Clear();
    }
}
