using System.Text.RegularExpressions;
using Medic.Contracts;

namespace Medic.Server.Ai.Agents;

/// <summary>
/// The names of the tools an AI agent may be allowed: the built-in ones the run loop provides, and
/// operator-defined ones (any name of the same shape). An empty allowlist means <see cref="DefaultSet"/>.
/// </summary>
internal static partial class AiToolNames
{
    public const string Diag = "diag";
    public const string ListRecipes = "list_recipes";
    public const string ShowRecipe = "show_recipe";
    public const string PastIncidents = "past_incidents";
    public const string ServerFacts = "server_facts";
    public const string RecentMetrics = "recent_metrics";
    public const string Forecasts = "forecasts";
    public const string ProposeRemediation = "propose_remediation";
    public const string Escalate = "escalate";
    public const string AddNote = "add_note";

    public static readonly IReadOnlyList<string> BuiltIn =
        [Diag, ListRecipes, ShowRecipe, PastIncidents, ServerFacts, RecentMetrics, Forecasts, ProposeRemediation, Escalate, AddNote];

    /// <summary>What an agent with no allowlist may call: the read-only verbs and look-ups, plus escalating and noting on its incident; never a change to a server.</summary>
    public static readonly IReadOnlyList<string> DefaultSet =
        [Diag, ListRecipes, ShowRecipe, PastIncidents, ServerFacts, RecentMetrics, Forecasts, Escalate, AddNote];

    public const int MaxTools = 50;

    [GeneratedRegex("^[a-z][a-z0-9_]{0,62}$")]
    public static partial Regex Pattern();

    public static bool IsBuiltIn(string name) => BuiltIn.Contains(name, StringComparer.Ordinal);

    /// <summary>The tools an agent may call: its allowlist (or the default set), without <c>propose_remediation</c> when its trust is manual.</summary>
    public static IReadOnlyList<string> Effective(AiTrust trust, IReadOnlyList<string> allowlist)
    {
        var tools = allowlist.Count == 0 ? DefaultSet : allowlist;
        return trust == AiTrust.Manual ? [.. tools.Where(t => t != ProposeRemediation)] : tools;
    }
}
