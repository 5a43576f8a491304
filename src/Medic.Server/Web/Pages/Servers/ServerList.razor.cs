using Medic.Contracts;
using Medic.Server.Fleet;
using Medic.Server.Incidents;
using Medic.Server.Web.Shared;
using Microsoft.AspNetCore.Components;
using Radzen;

namespace Medic.Server.Web.Pages.Servers;

/// <summary>
/// The tenant's servers, one page at a time, filtered in the database by name, status, open
/// incidents, environment and tags. The filters live in the address (<c>/servers?status=offline</c>),
/// so a filtered list can be linked and reloaded; the page refreshes itself every few seconds.
/// </summary>
public partial class ServerList : ConsolePage
{
    private const int PageSize = 50;

    private ServerListPage? _page;
    private int _fleetSize;
    private bool _loaded;
    private int _skip;
    private string? _problem;
    private ServerListQuery _applied = new();
    private string _appliedKey = "";

    private string _text = "";
    private string _status = "";
    private string _env = "";
    private string _tags = "";

    [SupplyParameterFromQuery(Name = "q")] public string? Text { get; set; }
    [SupplyParameterFromQuery(Name = "status")] public string? Status { get; set; }
    [SupplyParameterFromQuery(Name = "env")] public string? Environment { get; set; }
    [SupplyParameterFromQuery(Name = "tag")] public string[]? Tag { get; set; }

    [Inject] private NodeStore Nodes { get; set; } = default!;
    [Inject] private IncidentFeed Feed { get; set; } = default!;
    [Inject] private NavigationManager Navigation { get; set; } = default!;

    private bool Filtered => _applied != new ServerListQuery() || _problem is not null;

    // Incident changes move the open-incident counts; the timer catches servers going on- and offline.
    private protected override LiveOptions LiveOptions() => new(TimeSpan.FromSeconds(5), Feed, Caller.TenantId);

    /// <summary>The address gives the filters (a filter applied, a link followed); a new filter starts at the first page. The base class then loads.</summary>
    protected override Task OnParametersSetAsync()
    {
        var before = _appliedKey;
        ReadAddress();
        if (_appliedKey != before) _skip = 0;
        return base.OnParametersSetAsync();
    }

    private protected override async Task LoadAsync()
    {
        var (online, offline) = await Nodes.StatusCountsAsync(Caller.TenantId);
        _fleetSize = online + offline;
        _page = _problem is null ? await Nodes.PageAsync(Caller.TenantId, _applied with { Skip = _skip, Take = PageSize }) : new ServerListPage([], 0);
        _loaded = true;
    }

    private async Task LoadPageAsync(LoadDataArgs args)
    {
        _skip = args.Skip ?? 0;
        await LoadAsync();
    }

    /// <summary>Puts the form's filters into the address; <see cref="OnParametersSetAsync"/> then loads them.</summary>
    private Task ApplyAsync()
    {
        var query = new Dictionary<string, object?>
        {
            ["q"] = Blank(_text),
            ["status"] = Blank(_status),
            ["env"] = Blank(_env),
            ["tag"] = _tags.Split(' ', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries) is { Length: > 0 } tags ? tags : null,
        };
        Navigation.NavigateTo(Navigation.GetUriWithQueryParameters(query), replace: true);
        return Task.CompletedTask;
    }

    private void ReadAddress()
    {
        _text = Text ?? "";
        _status = Status ?? "";
        _env = Environment ?? "";
        _tags = string.Join(' ', Tag ?? []);
        (_applied, _problem) = ServerFilters.Parse(Text, Status, Environment, Tag ?? []);
        _appliedKey = $"{Text}|{Status}|{Environment}|{_tags}";
    }

    private static string? Blank(string s) => string.IsNullOrWhiteSpace(s) ? null : s.Trim();

    private string Summary()
    {
        if (_page is null) return "";
        var total = _page.Total;
        var shown = total == 1 ? "1 server" : $"{total} servers";
        return Filtered ? $"{shown} match of {_fleetSize}." : $"{shown}.";
    }

    private static void OnRowRender(RowRenderEventArgs<ServerListRow> args)
    {
        if (args.Data is { } row) args.Attributes["data-server"] = row.Name;
    }
}
