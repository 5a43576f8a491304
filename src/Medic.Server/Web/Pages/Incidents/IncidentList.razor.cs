using Medic.Contracts;
using Medic.Server.Incidents;
using Medic.Server.Web.Shared;
using Microsoft.AspNetCore.Components;
using Microsoft.AspNetCore.WebUtilities;

namespace Medic.Server.Web.Pages.Incidents;

/// <summary>
/// The tenant's incidents, newest first, filtered by the query string (the same filters as
/// <c>GET /api/v1/incidents</c>), a page at a time by keyset so it stays fast at any count; live.
/// </summary>
public partial class IncidentList : ConsolePage
{
    public const int PageSize = 50;

    private IncidentPage? _page;
    private string? _problem;
    private bool _filtered;
    private readonly FilterForm _form = new();
    private string? _formAddress;

    [SupplyParameterFromQuery] public string? Status { get; set; }
    [SupplyParameterFromQuery] public string? Severity { get; set; }
    [SupplyParameterFromQuery] public string? Source { get; set; }
    [SupplyParameterFromQuery] public string? Server { get; set; }
    [SupplyParameterFromQuery] public string? Text { get; set; }
    [SupplyParameterFromQuery] public string? Before { get; set; }

    [Inject] private IncidentQueries Queries { get; set; } = default!;
    [Inject] private IncidentFeed Feed { get; set; } = default!;
    [Inject] private NavigationManager Navigation { get; set; } = default!;

    private protected override LiveOptions LiveOptions() => new(TimeSpan.FromSeconds(15), Feed, Caller.TenantId);

    /// <summary>
    /// The form shows the address's filters when the address changes. Parameters are set again with the
    /// same address too (the layout re-rendering), and a live refresh reloads: neither touches what is
    /// being typed.
    /// </summary>
    protected override void OnParametersSet()
    {
        var address = string.Join('\n', Status, Severity, Source, Server, Text);
        if (address == _formAddress) return;
        _formAddress = address;
        _form.Status = Status;
        _form.Severity = Severity;
        _form.Source = Source;
        _form.Server = Server;
        _form.Text = Text;
    }

    private protected override async Task LoadAsync()
    {
        var q = Query();
        _filtered = q with { Before = null, Limit = PageSize } != new IncidentQuery(Limit: PageSize);
        _problem = Problem(q);
        _page = _problem is null ? await Queries.ListAsync(Caller.TenantId, q, default) : null;
    }

    private IncidentQuery Query() => new(Blank(Status), Blank(Severity), Blank(Server), Blank(Source), null, Blank(Before), PageSize, Blank(Text));

    /// <summary>The same checks as the API: a status or severity that does not exist is a mistake worth saying, not an empty list.</summary>
    private static string? Problem(IncidentQuery q)
    {
        if (q.Status is { } s && s != "active" && !StateText.All<IncidentStatus>().Contains(s))
        {
            return $"Status '{s}' is not one of: active, {string.Join(", ", StateText.All<IncidentStatus>())}. Pick one from the list.";
        }

        if (q.Severity is { } v && !Severities.All.Contains(v)) return $"Severity '{v}' is not one of: {string.Join(", ", Severities.All)}. Pick one from the list.";
        foreach (var (name, value) in new[] { ("source", q.Source), ("server", q.Server), ("text", q.Text), ("before", q.Before) })
        {
            if (value?.Length > 200) return $"The {name} filter is longer than 200 characters; shorten it.";
        }

        return null;
    }

    private Task ApplyAsync()
    {
        Navigation.NavigateTo(Address(_form.Status, _form.Severity, _form.Source, _form.Server, _form.Text, null));
        return Task.CompletedTask;
    }

    private string Link(string? before) => Address(Status, Severity, Source, Server, Text, before);

    private static string Address(string? status, string? severity, string? source, string? server, string? text, string? before)
    {
        var query = new Dictionary<string, string?>();
        void Add(string name, string? value)
        {
            if (Blank(value) is { } v) query[name] = v;
        }

        Add("status", status);
        Add("severity", severity);
        Add("source", source);
        Add("server", server);
        Add("text", text);
        Add("before", before);
        return QueryHelpers.AddQueryString("/incidents", query);
    }

    private static string? Blank(string? value) => string.IsNullOrWhiteSpace(value) ? null : value.Trim();

    private sealed class FilterForm
    {
        public string? Status { get; set; }
        public string? Severity { get; set; }
        public string? Source { get; set; }
        public string? Server { get; set; }
        public string? Text { get; set; }
    }
}
