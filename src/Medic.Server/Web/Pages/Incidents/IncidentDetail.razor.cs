using Medic.Contracts;
using Medic.Server.Incidents;
using Medic.Server.Pipeline;
using Medic.Server.Reports;
using Medic.Server.Runbooks;
using Medic.Server.Web.Shared;
using Microsoft.AspNetCore.Components;

namespace Medic.Server.Web.Pages.Incidents;

/// <summary>
/// One incident: what it is, what waits for approval (the exact plan, with approve and reject),
/// its remediations and the latest run's output, occurrences, evidence, labels, the timeline and
/// the report; acknowledge, comment and resolve go through the incidents API. Live: every change
/// to the tenant's incidents, and every two seconds for a run's output.
/// </summary>
public partial class IncidentDetail : ConsolePage
{
    private IncidentDetailResponse? _detail;
    private bool _missing;
    private IReadOnlyList<ApprovalResponse> _approvals = [];
    private IReadOnlyList<RemediationResponse> _remediations = [];
    private RunbookRunResponse? _run;
    private string? _report;
    private string? _comment;
    private string? _problem;
    private bool _busy;

    [Parameter] public string Id { get; set; } = "";

    [Inject] private IncidentQueries Queries { get; set; } = default!;
    [Inject] private IncidentFeed Feed { get; set; } = default!;
    [Inject] private PipelineStore Pipeline { get; set; } = default!;
    [Inject] private ApprovalViews ApprovalViews { get; set; } = default!;
    [Inject] private RunbookRunStore Runs { get; set; } = default!;
    [Inject] private IncidentReports Reports { get; set; } = default!;
    [Inject] private ConsoleApi Api { get; set; } = default!;

    private protected override LiveOptions LiveOptions() => new(TimeSpan.FromSeconds(2), Feed, Caller.TenantId);

    private protected override async Task LoadAsync()
    {
        var tenant = Caller.TenantId;
        if (_detail is not null && _detail.Incident.Id != Id)
        {
            // Following a link from one incident to another reuses this page.
            _run = null;
            _report = null;
        }

        _detail = await Queries.GetAsync(tenant, Id, default);
        _missing = _detail is null;
        if (_detail is null) return;
        var pending = await Pipeline.ApprovalsAsync(tenant, ApprovalStatus.Pending, Id, 10, default);
        _approvals = await ApprovalViews.ManyAsync(tenant, pending, default);
        _remediations = [.. (await Pipeline.RemediationsAsync(tenant, Id, default)).Select(r => r.ToResponse())];
        // The latest round that ran; a finished run does not change, so it is read again only while it runs.
        if (_remediations.Where(r => r.RunId is not null).MaxBy(r => r.Round) is { RunId: { } runId }
            && (_run is null || _run.Id != runId || _run.Status == RunbookRunStatus.Running))
        {
            _run = await Runs.GetAsync(tenant, runId, default);
        }
    }

    private Task CommentAsync()
    {
        if (string.IsNullOrWhiteSpace(_comment))
        {
            _problem = "Write the comment first.";
            return Task.CompletedTask;
        }

        return ActAsync("comments", new AddCommentRequest(_comment.Trim()));
    }

    private Task AcknowledgeAsync() => ActAsync("acknowledge", new IncidentCommentRequest(Blank(_comment)));

    private Task ResolveAsync() => ActAsync("resolve", new IncidentCommentRequest(Blank(_comment)));

    private async Task ActAsync<TBody>(string action, TBody body)
    {
        _busy = true;
        _problem = null;
        try
        {
            var r = await Api.PostAsync($"/api/v1/incidents/{Uri.EscapeDataString(Id)}/{action}", body);
            if (r.Succeeded)
            {
                _comment = null;
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

    private Task DecidedAsync(ApprovalResponse decided) => LoadAsync();

    private async Task ShowReportAsync()
    {
        _report = await Reports.BuildAsync(Caller.TenantId, Id, default) is { } report
            ? IncidentReportMarkdown.Render(report)
            : "The incident is gone.";
    }

    private static string? Blank(string? text) => string.IsNullOrWhiteSpace(text) ? null : text.Trim();
}
