using System.Data.Common;
using System.Net;
using System.Text.Json;
using Dapper;
using Medic.Contracts.Agent;

namespace Medic.Server.Fleet;

/// <summary>
/// Matches the names an alert gives to a node of the tenant: first by the node's name in Medic,
/// then by the host name its agent reported, then by one of its addresses (the agent's facts, or
/// the ssh address of an agentless node). Removed nodes never match.
/// </summary>
internal sealed class NodeServerDirectory : IServerDirectory
{
    private sealed class Candidate
    {
        public string Id { get; set; } = "";
        public string Name { get; set; } = "";
        public string? Facts { get; set; }
        public string? SshAddress { get; set; }
    }

    public async Task<ServerMatch?> FindAsync(DbConnection c, DbTransaction tx, string tenantId, IReadOnlyList<string> names)
    {
        if (names.Count == 0) return null;
        var nodes = (await c.QueryAsync<Candidate>(
            "SELECT id, name, facts, ssh_address FROM nodes WHERE tenant_id = @tenantId AND removed_at IS NULL ORDER BY name",
            new { tenantId }, tx)).ToList();
        if (nodes.Count == 0) return null;

        var byName = nodes.FirstOrDefault(n => names.Contains(n.Name.ToLowerInvariant(), StringComparer.Ordinal));
        if (byName is not null) return new ServerMatch(byName.Id, byName.Name);

        var facts = nodes.Select(n => (Node: n, Facts: Read(n.Facts))).ToList();
        var byHostname = facts.FirstOrDefault(f => f.Facts is { Hostname.Length: > 0 } h && HostNames(h.Hostname).Any(names.Contains));
        if (byHostname.Node is not null) return new ServerMatch(byHostname.Node.Id, byHostname.Node.Name);

        var wanted = names.Select(Address).OfType<IPAddress>().ToList();
        if (wanted.Count == 0) return null;
        foreach (var (node, fact) in facts)
        {
            var addresses = (fact?.Addresses ?? []).Select(Address)
                .Concat(HostHints.Candidates(node.SshAddress).Select(Address))
                .OfType<IPAddress>();
            if (addresses.Any(wanted.Contains)) return new ServerMatch(node.Id, node.Name);
        }

        return null;
    }

    /// <summary>The host name as reported and its short form: <c>web-1.example.com</c> and <c>web-1</c>.</summary>
    private static IEnumerable<string> HostNames(string hostname)
    {
        var full = hostname.Trim().ToLowerInvariant();
        yield return full;
        var dot = full.IndexOf('.', StringComparison.Ordinal);
        if (dot > 0) yield return full[..dot];
    }

    /// <summary>An address in canonical form (so <c>2001:DB8::1</c> equals <c>2001:db8:0::1</c>), or null for a name.</summary>
    private static IPAddress? Address(string text)
    {
        var slash = text.IndexOf('/', StringComparison.Ordinal);
        return IPAddress.TryParse(slash > 0 ? text[..slash] : text, out var address) ? address : null;
    }

    private static HostFacts? Read(string? json)
    {
        if (string.IsNullOrEmpty(json)) return null;
        try
        {
            return JsonSerializer.Deserialize(json, AgentJson.Default.HostFacts);
        }
        catch (JsonException)
        {
            return null;
        }
    }
}
