using Medic.Server.Ai.Agents;
using Medic.Server.Ai.Tools;
using Medic.Server.Gateway;

namespace Medic.Server.Ai.OperatorTools;

/// <summary>
/// The operator tools one run may call: those its allowlist names, and no others (an empty
/// allowlist, the default set, names none). A name with no tool in the tenant gives nothing, so the
/// model's call to it is <c>tool.not_found</c>.
/// </summary>
internal sealed class OperatorToolFactory(OperatorToolStore store, ServerScope scope, TaskDispatcher dispatcher, ILogger<OperatorTool> log)
{
    public async Task<IReadOnlyList<AiTool>> ForAsync(string tenantId, IReadOnlyCollection<string> allowlist, CancellationToken ct)
    {
        var named = allowlist.Where(n => !OperatorToolRules.Reserved.Contains(n, StringComparer.Ordinal) && AiToolNames.Pattern().IsMatch(n)).ToList();
        var tools = await store.FindAsync(tenantId, named, ct);
        return [.. tools.Select(t => new OperatorTool(t, scope, dispatcher, log))];
    }
}
