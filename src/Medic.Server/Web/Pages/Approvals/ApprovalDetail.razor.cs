using Medic.Contracts;
using Medic.Server.Incidents;
using Medic.Server.Pipeline;
using Medic.Server.Web.Shared;
using Microsoft.AspNetCore.Components;

namespace Medic.Server.Web.Pages.Approvals;

/// <summary>
/// One approval request, where notifications link: the full plan (exactly what would run, where,
/// with which parameters, at what risk, why), and approve or reject with a comment for approvers.
/// </summary>
public partial class ApprovalDetail : ConsolePage
{
    private ApprovalResponse? _approval;
    private bool _missing;

    [Parameter] public string Id { get; set; } = "";

    [Inject] private PipelineStore Pipeline { get; set; } = default!;
    [Inject] private ApprovalViews ApprovalViews { get; set; } = default!;
    [Inject] private IncidentFeed Feed { get; set; } = default!;

    private protected override LiveOptions LiveOptions() => new(TimeSpan.FromSeconds(10), Feed, Caller.TenantId);

    private protected override async Task LoadAsync()
    {
        var tenant = Caller.TenantId;
        var row = await Pipeline.ApprovalAsync(tenant, Id, default);
        _missing = row is null;
        _approval = row is null ? null : (await ApprovalViews.ManyAsync(tenant, [row], default))[0];
    }

    private Task DecidedAsync(ApprovalResponse decided)
    {
        _approval = decided;
        return Task.CompletedTask;
    }
}
