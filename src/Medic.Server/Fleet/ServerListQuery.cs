using Medic.Contracts;

namespace Medic.Server.Fleet;

/// <summary>
/// One page of the servers list: every given filter must hold. <c>Text</c> is part of the name
/// (any case); <c>Environment</c> is the <c>env</c> tag; <c>WithOpenIncidents</c> keeps servers
/// with at least one unresolved incident. <c>Names</c> (exact names or ids) and <c>Groups</c>
/// (members of the <c>groups</c> tag) match as an exec selector does (<see cref="Executions.Select"/>).
/// </summary>
internal sealed record ServerListQuery(
    string? Text = null,
    IReadOnlyDictionary<string, string>? Tags = null,
    string? Environment = null,
    NodeStatus? Status = null,
    bool WithOpenIncidents = false,
    int Skip = 0,
    int Take = 50,
    IReadOnlyList<string>? Names = null,
    IReadOnlyList<string>? Groups = null);

/// <summary>A server as the list shows it, with its count of unresolved incidents.</summary>
internal sealed class ServerListRow
{
    public string Id { get; set; } = "";
    public string Name { get; set; } = "";
    public string Tags { get; set; } = "{}";
    /// <summary>The stored text of <see cref="StatusValue"/>, for Dapper.</summary>
    public string Status { get => StatusValue.ToText(); set => StatusValue = StateText.Parse<NodeStatus>(value); }

    public NodeStatus StatusValue { get; set; } = NodeStatus.Offline;
    public bool Drained { get; set; }
    public string? Facts { get; set; }
    public string Kind { get; set; } = NodeKinds.Agent;
    public DateTimeOffset? LastSeenAt { get; set; }
    public long OpenIncidents { get; set; }

    public IReadOnlyDictionary<string, string> TagMap => Fleet.Tags.Deserialize(Tags);

    public Medic.Contracts.Agent.HostFacts? FactsValue =>
        Facts is null ? null : System.Text.Json.JsonSerializer.Deserialize(Facts, Medic.Contracts.Agent.AgentJson.Default.HostFacts);
}

/// <summary>A page of servers and how many match in all.</summary>
internal sealed record ServerListPage(IReadOnlyList<ServerListRow> Items, int Total);
