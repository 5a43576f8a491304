using System.Data.Common;

namespace Medic.Server.Fleet;

/// <summary>A managed server a signal was matched to.</summary>
internal sealed record ServerMatch(string Id, string Name);

/// <summary>
/// Finds the managed server an alert is about from the names it gives for its machine, inside the
/// transaction that folds the alert. The fleet answers it (<see cref="NodeServerDirectory"/>), so the
/// incident record does not read the fleet's tables itself.
/// </summary>
internal interface IServerDirectory
{
    /// <param name="names">Lower-case host names or addresses, most believed first (<c>web-1.example.com</c>, <c>web-1</c>, <c>10.0.0.5</c>).</param>
    Task<ServerMatch?> FindAsync(DbConnection c, DbTransaction tx, string tenantId, IReadOnlyList<string> names);
}
