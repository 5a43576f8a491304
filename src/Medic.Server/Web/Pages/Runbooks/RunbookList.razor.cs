using Medic.Contracts;
using Medic.Server.Runbooks;
using Medic.Server.Web.Shared;
using Microsoft.AspNetCore.Components;

namespace Medic.Server.Web.Pages.Runbooks;

/// <summary>Every runbook the tenant can run, as <c>GET /api/v1/runbooks</c> lists them: its own and the library's it has not overridden.</summary>
public partial class RunbookList : ConsolePage
{
    private IReadOnlyList<RunbookSummary>? _runbooks;
    private string _filter = "";

    [Inject] private RunbookStore Store { get; set; } = default!;

    private protected override async Task LoadAsync() => _runbooks = await Store.ListAsync(Caller.TenantId, default);

    private List<RunbookSummary> Shown(IReadOnlyList<RunbookSummary> all) => all.Where(r => _filter.Length == 0
        || r.Name.Contains(_filter, StringComparison.OrdinalIgnoreCase)
        || r.Description.Contains(_filter, StringComparison.OrdinalIgnoreCase)
        || r.Risk.Equals(_filter, StringComparison.OrdinalIgnoreCase)).ToList();

    /// <summary>What the console calls a runbook's source: the library that comes with Medic, or the tenant's own.</summary>
    internal static string SourceName(RunbookSummary r) => r.Source == RunbookSources.Builtin ? "library" : "custom";

    /// <summary>The status colour of a risk: low reads as ok, high as a warning.</summary>
    internal static string RiskClass(string risk) => risk switch
    {
        "low" => "ok",
        "medium" => "pending",
        "high" => "failed",
        _ => "info",
    };
}
