using System.Text;
using Medic.Contracts;
using Medic.Server.Audit;
using Medic.Server.Auth;
using Medic.Server.Incidents;
using Medic.Server.Pipeline;
using Medic.Server.Runbooks;
using Microsoft.AspNetCore.Antiforgery;
using Microsoft.AspNetCore.Mvc;

namespace Medic.Server.Web;

/// <summary>
/// The console pages that notifications link to: <c>/approvals/{id}</c> (exactly what would run,
/// where, with which parameters, at what risk, with approve and reject buttons for approvers) and
/// <c>/incidents/{id}</c> (the incident, its remediations and its timeline). Server-rendered; the
/// forms carry an antiforgery token and go through the same pipeline code as the API.
/// </summary>
internal static class PipelinePages
{
    public static IEndpointRouteBuilder MapPipelinePages(this IEndpointRouteBuilder app)
    {
        app.MapGet("/approvals/{id}", Approval).Requires(Permission.Read).ExcludeFromDescription();
        app.MapPost("/approvals/{id}/decide", Decide).Requires(Permission.Approve).ExcludeFromDescription();
        app.MapGet("/incidents/{id}", Incident).Requires(Permission.Read).ExcludeFromDescription();
        return app;
    }

    private static async Task<IResult> Approval(string id, string? error, PipelineStore store, ApprovalViews views, IAntiforgery antiforgery, HttpContext http, CancellationToken ct)
    {
        var caller = http.Caller();
        if (await store.ApprovalAsync(caller.TenantId, id, ct) is not { } row) return NotFound("approval", id);
        var a = (await views.ManyAsync(caller.TenantId, [row], ct))[0];
        var e = ConsolePages.Encode;
        var body = new StringBuilder();
        body.Append("<header><h1><a href=\"/\">Medic</a></h1></header><section class=\"card\">")
            .Append($"<h2>Approval {e(a.Id)}: {e(a.Runbook)} v{a.Version} on {e(a.Server ?? "-")}</h2>");
        if (error is not null) body.Append("<p class=\"error\" role=\"alert\">").Append(e(error)).Append("</p>");
        body.Append("<dl>")
            .Append($"<dt>Status</dt><dd id=\"status\">{e(a.Status.ToText())}</dd>")
            .Append($"<dt>Risk</dt><dd>{e(a.Risk)}</dd>")
            .Append($"<dt>Incident</dt><dd><a href=\"/incidents/{e(a.IncidentId)}\">{e(a.IncidentId)}</a>: {e(a.IncidentTitle)}</dd>")
            .Append($"<dt>Requested by</dt><dd>{e(a.RequestedBy)} at {a.CreatedAt:yyyy-MM-dd HH:mm} UTC</dd>")
            .Append($"<dt>Why</dt><dd>{e(a.Reason)}</dd>")
            .Append($"<dt>Expires</dt><dd>{a.ExpiresAt:yyyy-MM-dd HH:mm} UTC</dd>");
        foreach (var (k, v) in a.Params) body.Append($"<dt>{e(k)}</dt><dd><code>{e(v)}</code></dd>");
        if (a.DecidedAt is not null) body.Append($"<dt>Decided</dt><dd>{e(a.Status.ToText())} by {e(a.DecidedBy ?? "-")} at {a.DecidedAt:yyyy-MM-dd HH:mm} UTC{(a.Comment is null ? "" : ": " + e(a.Comment))}</dd>");
        body.Append("</dl><h3>What will run</h3><table><thead><tr><th>Phase</th><th>#</th><th>Step</th><th>Type</th><th>Command or detail</th></tr></thead><tbody>");
        foreach (var s in a.Plan)
        {
            var what = s.Argv is { Count: > 0 } argv ? string.Join(' ', argv) : s.Detail ?? "";
            body.Append($"<tr><td>{e(s.Phase)}</td><td>{s.Step}</td><td>{e(s.Name)}</td><td>{e(s.Type)}</td><td><code>{e(what)}</code></td></tr>");
        }

        body.Append("</tbody></table>");
        if (a.Status == ApprovalStatus.Pending && Permissions.Allows(caller.Role, caller.Superadmin, Permission.Approve))
        {
            var tokens = antiforgery.GetAndStoreTokens(http);
            var hidden = $"<input type=\"hidden\" name=\"{e(tokens.FormFieldName)}\" value=\"{e(tokens.RequestToken!)}\">";
            if (a.RequestedBy == caller.Actor)
            {
                body.Append("<p>You requested this remediation; another approver decides.</p>");
            }
            else
            {
                body.Append($"<form method=\"post\" action=\"/approvals/{e(a.Id)}/decide\">{hidden}")
                    .Append("<label>Comment or reason <input name=\"comment\" maxlength=\"2000\"></label>")
                    .Append("<button type=\"submit\" name=\"decision\" value=\"approve\">Approve and run</button> ")
                    .Append("<button type=\"submit\" name=\"decision\" value=\"reject\">Reject</button></form>");
            }
        }

        body.Append("</section>");
        return ConsolePages.Page($"Approval {a.Id}", body.ToString(), 200);
    }

    private static async Task<IResult> Decide(string id, [FromForm] string decision, [FromForm] string? comment, ApprovalStep approvals, HttpContext http, CancellationToken ct)
    {
        var caller = http.Caller();
        if (decision is not ("approve" or "reject") || comment?.Length > 2000)
        {
            return Results.Redirect($"/approvals/{Uri.EscapeDataString(id)}?error={Uri.EscapeDataString("Choose approve or reject; a comment is at most 2000 characters.")}");
        }

        if (decision == "reject" && string.IsNullOrWhiteSpace(comment))
        {
            return Results.Redirect($"/approvals/{Uri.EscapeDataString(id)}?error={Uri.EscapeDataString("Say why in the comment to reject.")}");
        }

        try
        {
            await approvals.DecideAsync(caller.TenantId, id, decision == "approve", caller.Actor, string.IsNullOrWhiteSpace(comment) ? null : comment, http.ClientAddress(), ct);
            http.MarkAudited();
            return Results.Redirect($"/approvals/{Uri.EscapeDataString(id)}");
        }
        catch (ProposalException ex) when (ex.Status == StatusCodes.Status404NotFound)
        {
            return NotFound("approval", id);
        }
        catch (ProposalException ex)
        {
            return Results.Redirect($"/approvals/{Uri.EscapeDataString(id)}?error={Uri.EscapeDataString(ex.Message)}");
        }
    }

    private static async Task<IResult> Incident(string id, IncidentQueries incidents, PipelineStore store, HttpContext http, CancellationToken ct)
    {
        var caller = http.Caller();
        if (await incidents.GetAsync(caller.TenantId, id, ct) is not { } d) return NotFound("incident", id);
        var e = ConsolePages.Encode;
        var i = d.Incident;
        var body = new StringBuilder();
        body.Append("<header><h1><a href=\"/\">Medic</a></h1></header><section class=\"card\">")
            .Append($"<h2>{e(i.Title)}</h2><dl>")
            .Append($"<dt>Status</dt><dd id=\"status\">{e(i.Status.ToText())}{(i.Resolution is null ? "" : " – " + e(i.Resolution))}</dd>")
            .Append($"<dt>Severity</dt><dd>{e(i.Severity)}</dd><dt>Server</dt><dd>{e(i.Server ?? "-")}</dd>")
            .Append($"<dt>Source</dt><dd>{e(i.Source)} ({e(i.Type)})</dd><dt>First seen</dt><dd>{i.FirstSeenAt:yyyy-MM-dd HH:mm:ss} UTC</dd></dl>");
        var pending = await store.ApprovalsAsync(caller.TenantId, ApprovalStatus.Pending, id, 10, ct);
        foreach (var a in pending) body.Append($"<p>Waiting for approval: <a href=\"/approvals/{e(a.Id)}\">{e(a.Id)}</a></p>");
        var remediations = await store.RemediationsAsync(caller.TenantId, id, ct);
        if (remediations.Count > 0)
        {
            body.Append("<h3>Remediations</h3><table><thead><tr><th>Round</th><th>Recipe</th><th>Risk</th><th>Gate</th><th>Status</th><th>Detail</th></tr></thead><tbody>");
            foreach (var r in remediations)
            {
                body.Append($"<tr><td>{r.Round}</td><td>{e(r.Runbook)} v{r.Version}</td><td>{e(r.Risk)}</td><td>{e(r.Gate)}</td><td>{e(r.Status)}</td><td>{e(r.Error ?? r.Verification ?? r.GateReason)}</td></tr>");
            }

            body.Append("</tbody></table>");
        }

        body.Append("<h3>Timeline</h3><table><thead><tr><th>Time (UTC)</th><th>Event</th><th>By</th><th>Detail</th></tr></thead><tbody>");
        foreach (var ev in d.Timeline)
        {
            body.Append($"<tr><td>{ev.At:yyyy-MM-dd HH:mm:ss}</td><td>{e(ev.Kind)}</td><td>{e(ev.Actor)}</td><td>{e(ev.Message)}</td></tr>");
        }

        body.Append("</tbody></table></section>");
        return ConsolePages.Page(i.Title, body.ToString(), 200);
    }

    private static IResult NotFound(string what, string id) =>
        ConsolePages.Page("Not found", $"<main class=\"card\"><h1>Not found</h1><p>No {ConsolePages.Encode(what)} '{ConsolePages.Encode(id)}' exists in this tenant.</p><p><a href=\"/\">Overview</a></p></main>", 404);
}
