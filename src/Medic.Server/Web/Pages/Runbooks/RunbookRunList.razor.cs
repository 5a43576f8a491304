using Medic.Contracts;
using Medic.Server.Runbooks;
using Medic.Server.Web.Shared;
using Microsoft.AspNetCore.Components;
using Microsoft.AspNetCore.WebUtilities;
using RunPage = Medic.Contracts.RunbookRunPage;

namespace Medic.Server.Web.Pages.Runbooks;

/// <summary>
/// The tenant's past runbook runs, newest first, a page at a time by run id, filtered by runbook
/// and status through the address (the same filters as <c>GET /api/v1/runbook-runs</c>); live, so
/// a running run's status changes without a reload.
/// </summary>
public partial class RunbookRunList : ConsolePage
{
    public const int PageSize = 50;

    /// <summary>The statuses a stored run can have (a dry run is never stored).</summary>
    private static readonly IReadOnlyList<string> Statuses = [.. StateText.All<RunbookRunStatus>().Where(s => s != RunbookRunStatus.DryRun.ToText())];

    private RunPage? _page;
    private IReadOnlyList<string> _runbookNames = [];
    private string? _problem;
    private string? _formRunbook, _formStatus, _formAddress;

    [SupplyParameterFromQuery] public string? Runbook { get; set; }
    [SupplyParameterFromQuery] public string? Status { get; set; }
    [SupplyParameterFromQuery] public string? Before { get; set; }

    [Inject] private RunbookRunStore Runs { get; set; } = default!;
    [Inject] private RunbookStore Store { get; set; } = default!;
    [Inject] private NavigationManager Navigation { get; set; } = default!;

    private bool Filtered => Blank(Runbook) is not null || Blank(Status) is not null;

    private protected override LiveOptions LiveOptions() => new(TimeSpan.FromSeconds(10));

    /// <summary>
    /// The form shows the address's filters when the address changes. Parameters are set again with the
    /// same address too (the layout re-rendering), and a live refresh reloads: neither touches what is
    /// being typed.
    /// </summary>
    protected override void OnParametersSet()
    {
        var address = Runbook + "\n" + Status;
        if (address == _formAddress) return;
        _formAddress = address;
        _formRunbook = Runbook;
        _formStatus = Status;
    }

    private protected override async Task LoadAsync()
    {
        if (_runbookNames.Count == 0) _runbookNames = [.. (await Store.ListAsync(Caller.TenantId, default)).Select(r => r.Name).Order(StringComparer.Ordinal)];
        _problem = Problem(Blank(Runbook), Blank(Status), Blank(Before), out var status);
        _page = _problem is null ? await Runs.ListAsync(Caller.TenantId, Blank(Runbook), status, Blank(Before), PageSize, default) : null;
    }

    /// <summary>The same checks as the API: a status that does not exist is said so, not shown as an empty list.</summary>
    private static string? Problem(string? runbook, string? status, string? before, out RunbookRunStatus? parsed)
    {
        parsed = null;
        if (status is not null)
        {
            if (!Statuses.Contains(status)) return $"Status '{status}' is not one of: {string.Join(", ", Statuses)}. Pick one from the list.";
            parsed = StateText.Parse<RunbookRunStatus>(status);
        }

        foreach (var (name, value) in new[] { ("runbook", runbook), ("before", before) })
        {
            if (value?.Length > 200) return $"The {name} filter is longer than 200 characters; shorten it.";
        }

        return null;
    }

    private Task ApplyAsync()
    {
        Navigation.NavigateTo(Address(_formRunbook, _formStatus, null));
        return Task.CompletedTask;
    }

    private static string Address(string? runbook, string? status, string? before)
    {
        var query = new Dictionary<string, string?>();
        if (Blank(runbook) is { } r) query["runbook"] = r;
        if (Blank(status) is { } s) query["status"] = s;
        if (Blank(before) is { } b) query["before"] = b;
        return QueryHelpers.AddQueryString("/runbooks/runs", query);
    }

    private static string Servers(IReadOnlyList<string> targets) => targets.Count switch
    {
        0 => "-",
        <= 3 => string.Join(", ", targets),
        _ => $"{string.Join(", ", targets.Take(3))} and {targets.Count - 3} more",
    };

    private static string? Blank(string? value) => string.IsNullOrWhiteSpace(value) ? null : value.Trim();
}
