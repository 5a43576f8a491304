using Medic.Contracts;
using Medic.Server.Auth;
using Medic.Server.Incidents;
using Medic.Server.Pipeline;
using Medic.Server.Web.Shared;
using Microsoft.AspNetCore.Components;

namespace Medic.Server.Web.Pages.Approvals;

/// <summary>
/// What waits for a person, oldest first, each with its plan; approve or reject after confirming the
/// plan, through the approvals API; and what was decided lately. Live: approvals move with their
/// incidents, and expire with time.
/// </summary>
public partial class ApprovalList : ConsolePage
{
    /// <summary>Pending requests shown at most; approvals expire, so more than this waiting is a sign of trouble elsewhere.</summary>
    public const int Limit = 500;

    private IReadOnlyList<ApprovalResponse>? _pending;
    private IReadOnlyList<ApprovalResponse>? _decided;
    private Confirmation? _confirm;
    private string? _comment;
    private string? _problem;
    private string? _done;
    private bool _busy;

    [Inject] private PipelineStore Pipeline { get; set; } = default!;
    [Inject] private ApprovalViews ApprovalViews { get; set; } = default!;
    [Inject] private IncidentFeed Feed { get; set; } = default!;
    [Inject] private ConsoleApi Api { get; set; } = default!;
    [Inject] private TimeProvider Time { get; set; } = default!;

    private protected override LiveOptions LiveOptions() => new(TimeSpan.FromSeconds(10), Feed, Caller.TenantId);

    private protected override async Task LoadAsync()
    {
        var tenant = Caller.TenantId;
        var pending = await Pipeline.ApprovalsAsync(tenant, ApprovalStatus.Pending, null, Limit, default);
        _pending = await ApprovalViews.ManyAsync(tenant, [.. pending.OrderBy(a => a.CreatedAt).ThenBy(a => a.Id, StringComparer.Ordinal)], default);
        var recent = await Pipeline.ApprovalsAsync(tenant, null, null, 20, default);
        _decided = await ApprovalViews.ManyAsync(tenant, [.. recent.Where(a => a.StatusValue != ApprovalStatus.Pending).Take(10)], default);
        if (_confirm is { } c && !_pending.Any(a => a.Id == c.Approval.Id)) _confirm = null;
    }

    private bool CanDecide(ApprovalResponse a) =>
        Can(Permission.Approve) && RiskGate.CannotApprove(a.RequestedBy, Caller.Actor, a.ExpiresAt, Time.GetUtcNow(), a.Status) is null;

    private static string Summary(ApprovalResponse a)
    {
        var commands = a.Plan.Where(s => s.Phase == "main").Select(s => s.Argv is { Count: > 0 } argv ? string.Join(' ', argv) : s.Detail ?? s.Name).Distinct().ToList();
        var text = commands.Count == 0 ? "" : string.Join("; ", commands.Take(2)) + (commands.Count > 2 ? $"; and {commands.Count - 2} more" : "");
        return text.Length > 160 ? text[..159] + "…" : text;
    }

    private void Confirm(ApprovalResponse approval, bool approve)
    {
        _confirm = new Confirmation(approval, approve);
        _comment = null;
        _problem = null;
        _done = null;
    }

    private void Cancel() => _confirm = null;

    private async Task DecideAsync()
    {
        if (_confirm is not { } c) return;
        var comment = string.IsNullOrWhiteSpace(_comment) ? null : _comment.Trim();
        if (!c.Approve && comment is null)
        {
            _problem = "Say why in the comment to reject.";
            return;
        }

        _busy = true;
        _problem = null;
        try
        {
            var path = $"/api/v1/approvals/{Uri.EscapeDataString(c.Approval.Id)}/" + (c.Approve ? "approve" : "reject");
            var r = c.Approve ? await Api.PostAsync(path, new ApproveRequest(comment)) : await Api.PostAsync(path, new RejectRequest(comment));
            if (r.Succeeded)
            {
                var decided = r.Read<ApprovalResponse>();
                _confirm = null;
                _done = $"{decided.Status.ToText()}: {decided.Runbook} on {decided.Server ?? "-"}." + (c.Approve ? " Follow it on the incident's page." : "");
                await LoadAsync();
            }
            else
            {
                _problem = r.Message;
            }
        }
        finally
        {
            _busy = false;
        }
    }

    private sealed record Confirmation(ApprovalResponse Approval, bool Approve);
}
