using Medic.Contracts;
using Medic.Server.Audit;
using Medic.Server.Auth;
using Medic.Server.Fleet;
using Medic.Server.Incidents;
using Medic.Server.Pipeline;
using Medic.Server.Web.Shared;
using Microsoft.AspNetCore.Components;

namespace Medic.Server.Web.Pages;

/// <summary>The fleet at a glance: servers up and down, open incidents, approvals, running remediations and the latest events; live.</summary>
public partial class Overview : ConsolePage
{
    private Figures? _figures;

    [Inject] private NodeStore Nodes { get; set; } = default!;
    [Inject] private IncidentQueries Incidents { get; set; } = default!;
    [Inject] private IncidentFeed Feed { get; set; } = default!;
    [Inject] private PipelineStore Pipeline { get; set; } = default!;
    [Inject] private ApprovalViews ApprovalViews { get; set; } = default!;
    [Inject] private AuditLog Audit { get; set; } = default!;

    private protected override LiveOptions LiveOptions() => new(TimeSpan.FromSeconds(5), Feed, Caller.TenantId);

    private protected override async Task LoadAsync()
    {
        var tenant = Caller.TenantId;
        var (online, offline) = await Nodes.StatusCountsAsync(tenant);
        var (bySeverity, degraded) = await Incidents.OpenCountsAsync(tenant, default);
        var pending = await Pipeline.ApprovalsAsync(tenant, ApprovalStatus.Pending, null, 10, default);
        var approvals = await ApprovalViews.ManyAsync(tenant, [.. pending.OrderBy(a => a.CreatedAt)], default);
        var running = await Pipeline.RunningCountAsync(tenant, default);
        var recent = (await Incidents.ListAsync(tenant, new IncidentQuery(Limit: 8), default)).Items;
        var actions = Can(Permission.Administer) ? (await Audit.QueryAsync(tenant, new AuditQuery(Limit: 10))).Items : null;
        _figures = new Figures(online, offline, degraded, bySeverity, approvals, running, recent, actions);
    }

    private static int SeverityOrder(string severity) => severity switch
    {
        "critical" => 0,
        "warning" => 1,
        "info" => 2,
        _ => 3,
    };

    private sealed record Figures(
        int Online, int Offline, int Degraded, IReadOnlyDictionary<string, int> OpenBySeverity, IReadOnlyList<ApprovalResponse> Approvals,
        int Running, IReadOnlyList<IncidentResponse> Recent, IReadOnlyList<AuditEntry>? Actions);
}
