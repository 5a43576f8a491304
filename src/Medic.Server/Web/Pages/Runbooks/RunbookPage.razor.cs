using Medic.Contracts;
using Medic.Server.Runbooks;
using Medic.Server.Web.Shared;
using Microsoft.AspNetCore.Components;

namespace Medic.Server.Web.Pages.Runbooks;

/// <summary>One runbook: its YAML highlighted, its versions with a diff between any two, and the run form generated from its parameters.</summary>
public partial class RunbookPage : ConsolePage
{
    private RunbookResponse? _shown;
    private bool _missing;
    private int? _version;
    private int _from;
    private int _to;
    private string? _diff;
    private bool _hasApprovalSteps;
    private string? _ownTargets;

    [Parameter] public string Name { get; set; } = "";

    [SupplyParameterFromQuery(Name = "version")] public int? Version { get; set; }

    [Inject] private RunbookStore Store { get; set; } = default!;

    /// <summary>The same answer as <c>GET /api/v1/runbooks/{name}?version=N</c>.</summary>
    private protected override async Task LoadAsync()
    {
        var tenant = Caller.TenantId;
        _version ??= Version;
        var row = await Store.FindAsync(tenant, Name, _version, default) ?? (_version is null ? null : await Store.FindAsync(tenant, Name, null, default));
        if (row is null)
        {
            _missing = true;
            return;
        }

        var runbook = Store.Load(row).Runbook;
        var versions = await Store.VersionsAsync(tenant, Name, default);
        _shown = new RunbookResponse(row.ToSummary(await Store.OverridesBuiltinAsync(tenant, Name, default)), row.Content,
            runbook.Parameters.Select(p => p.ToResponse()).ToList(), versions);
        _version = row.Version;
        _hasApprovalSteps = runbook.HasApprovalSteps;
        _ownTargets = runbook.Targets.Selector is { } s ? Describe(s) : null;
        if (versions.Count >= 2 && _diff is null)
        {
            _to = row.Version;
            _from = versions.Where(v => v < row.Version).DefaultIfEmpty(versions.Min()).Max();
            await DiffAsync();
        }
    }

    /// <summary>The same diff as <c>GET /api/v1/runbooks/{name}/diff?from=A&amp;to=B</c>.</summary>
    private async Task DiffAsync()
    {
        var a = await Store.FindAsync(Caller.TenantId, Name, _from, default);
        var b = await Store.FindAsync(Caller.TenantId, Name, _to, default);
        _diff = a is null || b is null ? "" : LineDiff.Unified(a.Content, b.Content, $"{Name} v{_from}", $"{Name} v{_to}");
        if (_diff.Length == 0) _diff = _from == _to ? "Pick two different versions to compare." : "The two versions have the same content.";
    }

    private static string DiffClass(string line) => line switch
    {
        _ when line.StartsWith("+++", StringComparison.Ordinal) || line.StartsWith("---", StringComparison.Ordinal) => "d-file",
        _ when line.StartsWith("@@", StringComparison.Ordinal) => "d-hunk",
        _ when line.StartsWith('+') => "d-add",
        _ when line.StartsWith('-') => "d-del",
        _ => "d-same",
    };

    private static string Describe(ExecSelector s)
    {
        var parts = new List<string>();
        if (s.All) parts.Add("every server");
        if (s.Names is { Count: > 0 } names) parts.Add("servers " + string.Join(", ", names));
        if (s.Tags is { Count: > 0 } tags) parts.Add("tags " + string.Join(", ", tags.Select(t => $"{t.Key}={t.Value}")));
        if (s.Environment is { } e) parts.Add("environment " + e);
        if (s.Groups is { Count: > 0 } groups) parts.Add("groups " + string.Join(", ", groups));
        return string.Join("; ", parts);
    }
}
