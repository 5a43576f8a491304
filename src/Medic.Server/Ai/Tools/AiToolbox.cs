using Medic.Server.Pipeline;

namespace Medic.Server.Ai.Tools;

/// <summary>
/// Every tool a model can be given, and the set one caller gets: its allowlist (empty: the default
/// set), minus <c>propose_remediation</c> for a caller trusted only to suggest (<see cref="Trust.Manual"/>).
/// A name outside the set is <c>tool.not_found</c>: there is no shell, no approve, no exec.
/// </summary>
internal sealed class AiToolbox(IEnumerable<AiTool> tools)
{
    private readonly IReadOnlyDictionary<string, AiTool> _all = tools.ToDictionary(t => t.Name, StringComparer.Ordinal);

    public IReadOnlyCollection<AiTool> All => [.. _all.Values.OrderBy(t => t.Name, StringComparer.Ordinal)];

    public AiTool? Find(string name) => _all.GetValueOrDefault(name);

    /// <summary>The tools for one run.</summary>
    public IReadOnlyList<AiTool> For(IReadOnlyCollection<string>? allowlist, Trust trust)
    {
        IEnumerable<AiTool> chosen = allowlist is { Count: > 0 } ? allowlist.Select(Find).OfType<AiTool>() : _all.Values;
        if (trust == Trust.Manual) chosen = chosen.Where(t => t.Name != "propose_remediation");
        return [.. chosen.Distinct().OrderBy(t => t.Name, StringComparer.Ordinal)];
    }
}
