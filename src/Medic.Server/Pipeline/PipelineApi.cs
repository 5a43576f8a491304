using Medic.Contracts;
using Medic.Server.Audit;
using Medic.Server.Auth;
using Medic.Server.Common;
using Medic.Server.Incidents;
using Medic.Server.Notifications;
using Medic.Server.Runbooks;
using Medic.Server.Storage;
using Microsoft.AspNetCore.Http.HttpResults;

namespace Medic.Server.Pipeline;

/// <summary>The remediation pipeline's surface: approvals, proposals, a tenant's automation settings, triage rules and change windows.</summary>
internal static class PipelineApi
{
    public static IServiceCollection AddPipeline(this IServiceCollection services)
    {
        services.AddSingleton<PipelineStore>();
        services.AddSingleton<IPipelineEntry, PipelineEntry>();
        services.AddSingleton<TriageStep>();
        services.AddSingleton<ProposalStep>();
        services.AddSingleton<ProcessTargeting>();
        services.AddSingleton<ApprovalStep>();
        services.AddSingleton<ExecutionStep>();
        services.AddSingleton<VerificationStep>();
        services.AddSingleton<ApprovalViews>();
        // ProposalStep asks the AI layer to validate, and the AI layer's propose tool calls ProposalStep: it resolves the stage when it first asks.
        services.AddSingleton<Func<IAiStage>>(sp => sp.GetRequiredService<IAiStage>);
        foreach (var kind in new[] { PipelineEntry.TriageKind, PipelineEntry.ExecuteKind, PipelineEntry.VerifyKind, PipelineEntry.ExpireKind, PipelineEntry.ReviewKind })
        {
            services.AddSingleton<IJobHandler>(sp => new PipelineJobs(sp.GetRequiredService<TriageStep>(), sp.GetRequiredService<ExecutionStep>(),
                sp.GetRequiredService<VerificationStep>(), sp.GetRequiredService<ApprovalStep>(), sp.GetRequiredService<IAiStage>(), kind, sp.GetRequiredService<PipelineMetrics>()));
        }

        services.AddSingleton<PipelineMetrics>();
        services.AddSingleton<IMetricInstruments>(sp => sp.GetRequiredService<PipelineMetrics>());

        return services;
    }

    public static IEndpointRouteBuilder MapPipeline(this IEndpointRouteBuilder app)
    {
        var approvals = app.MapGroup("/api/v1/approvals").WithTags("Pipeline");
        approvals.MapGet("/", ListApprovals).Requires(Permission.Read).WithSummary("Approval requests, newest first; status=pending (default), approved, rejected, expired, cancelled, superseded or all.");
        approvals.MapGet("/{id}", GetApproval).Requires(Permission.Read).WithSummary("One approval request: exactly what would run, where, with which parameters, at what risk.");
        approvals.MapPost("/{id}/approve", Approve).Requires(Permission.Approve).WithSummary("Approve: the remediation runs. Never one's own request; 409 when expired or decided.");
        approvals.MapPost("/{id}/reject", Reject).Requires(Permission.Approve).WithSummary("Reject with a reason: the incident is escalated.");

        var incidents = app.MapGroup("/api/v1/incidents").WithTags("Pipeline");
        incidents.MapGet("/{id}/remediations", ListRemediations).Requires(Permission.Read).WithSummary("The remediations proposed for the incident, one per pipeline round.");
        incidents.MapPost("/{id}/remediations", Propose).Requires(Permission.Operate)
            .WithSummary("Propose a recipe for the incident; the risk gate decides whether it runs or waits for another person's approval.");

        var pipeline = app.MapGroup("/api/v1/pipeline").WithTags("Pipeline");
        pipeline.MapGet("/settings", GetSettings).Requires(Permission.Read).WithSummary("The tenant's automation settings.");
        pipeline.MapPut("/settings", PutSettings).Requires(Permission.Administer).WithSummary("Change automation, the blast radius per hour, or how long approvals wait.");
        pipeline.MapGet("/triage-rules", GetRules).Requires(Permission.Read).WithSummary("The triage rules in the order they are tried: the tenant's, then the built-in ones.");
        pipeline.MapPut("/triage-rules", PutRules).Requires(Permission.Administer).WithSummary("Replace the tenant's triage rules (YAML); an empty text removes them.");

        var windows = app.MapGroup("/api/v1/change-windows").WithTags("Pipeline");
        windows.MapGet("/", ListWindows).Requires(Permission.Read).WithSummary("Change windows now and to come (all=true: past ones too).");
        windows.MapPost("/", AddWindow).Requires(Permission.Administer).WithSummary("Add a change window: nothing runs without a person between starts_at and ends_at.");
        windows.MapDelete("/{id}", RemoveWindow).Requires(Permission.Administer).WithSummary("Remove a change window.");
        return app;
    }

    private static readonly string[] ApprovalFilters = [.. StateText.All<ApprovalStatus>(), "all"];

    private static async Task<Results<Ok<IReadOnlyList<ApprovalResponse>>, ValidationProblem>> ListApprovals(
        string? status, string? incident, int? limit, PipelineStore store, ApprovalViews views, HttpContext http, CancellationToken ct)
    {
        var v = new Validator().Check(status is null || ApprovalFilters.Contains(status), "status", "use pending, approved, rejected, expired, cancelled, superseded or all")
            .Check(limit is null or (>= 1 and <= 500), "limit", "from 1 to 500").Optional("incident", incident, 100);
        if (!v.Ok) return v.Problem();
        var tenant = http.Caller().TenantId;
        var rows = await store.ApprovalsAsync(tenant, status is null ? ApprovalStatus.Pending : status == "all" ? null : StateText.Parse<ApprovalStatus>(status), incident, limit ?? 100, ct);
        return TypedResults.Ok(await views.ManyAsync(tenant, rows, ct));
    }

    private static async Task<Results<Ok<ApprovalResponse>, ProblemHttpResult>> GetApproval(string id, PipelineStore store, ApprovalViews views, HttpContext http, CancellationToken ct)
    {
        var tenant = http.Caller().TenantId;
        if (await store.ApprovalAsync(tenant, id, ct) is not { } row) return Problems.NotFound("approval", id, "medic approvals");
        return TypedResults.Ok((await views.ManyAsync(tenant, [row], ct))[0]);
    }

    private static async Task<Results<Ok<ApprovalResponse>, ProblemHttpResult, ValidationProblem>> Approve(
        string id, ApproveRequest? request, ApprovalStep approvals, ApprovalViews views, HttpContext http, CancellationToken ct)
    {
        var v = new Validator().Optional("comment", request?.Comment, 2000);
        if (!v.Ok) return v.Problem();
        return await DecideAsync(id, true, request?.Comment, approvals, views, http, ct);
    }

    private static async Task<Results<Ok<ApprovalResponse>, ProblemHttpResult, ValidationProblem>> Reject(
        string id, RejectRequest? request, ApprovalStep approvals, ApprovalViews views, HttpContext http, CancellationToken ct)
    {
        var v = new Validator().Require("reason", request?.Reason, 2000);
        if (!v.Ok) return v.Problem();
        return await DecideAsync(id, false, request!.Reason, approvals, views, http, ct);
    }

    private static async Task<Results<Ok<ApprovalResponse>, ProblemHttpResult, ValidationProblem>> DecideAsync(
        string id, bool approve, string? comment, ApprovalStep approvals, ApprovalViews views, HttpContext http, CancellationToken ct)
    {
        var caller = http.Caller();
        try
        {
            var row = await approvals.DecideAsync(caller.TenantId, id, approve, caller.Actor, comment, http.ClientAddress(), ct);
            http.MarkAudited();
            return TypedResults.Ok((await views.ManyAsync(caller.TenantId, [row], ct))[0]);
        }
        catch (ProposalException ex)
        {
            return Problems.Of(ex.Status, ex.Status == StatusCodes.Status404NotFound ? "Not found" : "Conflict", ex.Message, ex.Remedy);
        }
    }

    private static async Task<Results<Ok<IReadOnlyList<RemediationResponse>>, ProblemHttpResult>> ListRemediations(
        string id, Incidents.IncidentQueries incidents, PipelineStore store, HttpContext http, CancellationToken ct)
    {
        var tenant = http.Caller().TenantId;
        if (await incidents.GetAsync(tenant, id, ct) is null) return Problems.NotFound("incident", id, "medic incidents list");
        return TypedResults.Ok<IReadOnlyList<RemediationResponse>>((await store.RemediationsAsync(tenant, id, ct)).Select(r => r.ToResponse()).ToList());
    }

    private static async Task<Results<Created<RemediationResponse>, ProblemHttpResult, ValidationProblem>> Propose(
        string id, ProposeRemediationRequest request, ProposalStep proposals, HttpContext http, CancellationToken ct)
    {
        var v = new Validator().Require("runbook", request.Runbook, 100).Check(request.Version is null or > 0, "version", "a version number from 1");
        foreach (var (k, value) in request.Params ?? new Dictionary<string, string>())
        {
            v.Check(k.Length <= 100, "params", "parameter names are at most 100 characters").Optional("params." + k, value, 4000);
        }

        if (!v.Ok) return v.Problem();
        var caller = http.Caller();
        try
        {
            // A person proposing is supervised: another person with the approver role decides, whatever the risk.
            var outcome = await proposals.ProposeAsync(caller.TenantId, id, null, caller.Actor, Trust.Supervised, request.Runbook, request.Version, request.Params,
                caller.Actor + " proposes " + request.Runbook, http.ClientAddress(), ct);
            http.MarkAudited();
            return TypedResults.Created($"/api/v1/incidents/{id}/remediations", outcome.Remediation.ToResponse());
        }
        catch (ProposalException ex) when (ex.Errors is { } errors)
        {
            foreach (var (param, problem) in errors) v.Add("params." + param, problem);
            return v.Problem();
        }
        catch (ProposalException ex)
        {
            return Problems.Of(ex.Status, ex.Status switch { 404 => "Not found", 409 => "Conflict", _ => "Cannot propose" }, ex.Message, ex.Remedy);
        }
    }

    private static async Task<Ok<PipelineSettingsResponse>> GetSettings(PipelineStore store, HttpContext http, CancellationToken ct) =>
        TypedResults.Ok((await store.SettingsAsync(http.Caller().TenantId, ct)).ToResponse());

    private static async Task<Results<Ok<PipelineSettingsResponse>, ValidationProblem>> PutSettings(
        PipelineSettingsRequest request, Database db, AuditLog audit, TimeProvider time, HttpContext http, CancellationToken ct)
    {
        var v = new Validator()
            .Check(request.BlastRadiusPerHour is null or (>= 0 and <= 10_000), "blast_radius_per_hour", "from 0 (nothing runs without a person) to 10000")
            .Check(request.ApprovalTtlSeconds is null or (>= 60 and <= 7 * 86400), "approval_ttl_seconds", "from 60 (a minute) to 604800 (a week)");
        if (!v.Ok) return v.Problem();
        var caller = http.Caller();
        var saved = await db.WriteAsync(async (c, tx) =>
        {
            var s = await PipelineStore.SettingsAsync(c, tx, caller.TenantId);
            s.TenantId = caller.TenantId;
            s.Automation = request.Automation ?? s.Automation;
            s.BlastRadiusPerHour = request.BlastRadiusPerHour ?? s.BlastRadiusPerHour;
            s.ApprovalTtlSeconds = request.ApprovalTtlSeconds ?? s.ApprovalTtlSeconds;
            s.UpdatedBy = caller.Actor;
            s.UpdatedAt = time.GetUtcNow();
            await PipelineStore.SaveSettingsAsync(c, tx, s);
            await audit.AppendAsync(c, tx, new AuditRecord(caller.TenantId, caller.Actor, "pipeline.settings", "tenant:" + caller.TenantId, AuditOutcomes.Success, http.ClientAddress(),
                new Dictionary<string, string>
                {
                    ["automation"] = s.Automation ? "on" : "off", ["blast_radius_per_hour"] = s.BlastRadiusPerHour.ToString(System.Globalization.CultureInfo.InvariantCulture),
                    ["approval_ttl_seconds"] = s.ApprovalTtlSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture),
                }));
            return s;
        }, ct);
        http.MarkAudited();
        return TypedResults.Ok(saved.ToResponse());
    }

    private static async Task<Ok<TriageRulesResponse>> GetRules(PipelineStore store, HttpContext http, CancellationToken ct)
    {
        var settings = await store.SettingsAsync(http.Caller().TenantId, ct);
        IReadOnlyList<(TriageRule Rule, string Origin)> rules;
        try
        {
            rules = TriageStep.Rules(settings.TriageRules);
        }
        catch (TriageRuleException)
        {
            rules = TriageStep.Rules(null);
        }

        return TypedResults.Ok(new TriageRulesResponse(settings.TriageRules, rules.Select(r => new TriageRuleResponse(
            r.Rule.Name, r.Origin, r.Rule.Type, r.Rule.Source, r.Rule.Labels, r.Rule.Recipe, r.Rule.Parameters, r.Rule.Trust.ToString().ToLowerInvariant(),
            r.Rule.Diagnose is { Count: > 0 } d ? d.Select(x => string.Join(' ', x.Args.Select(a => $"{a.Key}={a.Value}").Prepend(x.Verb))).ToList() : null,
            r.Rule.Warnings.Count > 0 ? r.Rule.Warnings : null)).ToList()));
    }

    private static async Task<Results<Ok<TriageRulesResponse>, ProblemHttpResult, ValidationProblem>> PutRules(
        TriageRulesRequest request, PipelineStore store, Database db, AuditLog audit, TimeProvider time, HttpContext http, CancellationToken ct)
    {
        var v = new Validator().Check(request.Yaml is not null, "yaml", "give the rules as YAML text, or an empty text to remove them").Optional("yaml", request.Yaml, 256 * 1024);
        if (!v.Ok) return v.Problem();
        IReadOnlyList<TriageRule> parsed;
        try
        {
            parsed = TriageRules.Parse(request.Yaml!, "triage rules");
        }
        catch (TriageRuleException ex)
        {
            return Problems.Invalid(ex.Message, "fix the rules at that line and column (docs/pipeline.md has the format)");
        }

        var caller = http.Caller();
        var yaml = string.IsNullOrWhiteSpace(request.Yaml) ? null : request.Yaml;
        await db.WriteAsync(async (c, tx) =>
        {
            var s = await PipelineStore.SettingsAsync(c, tx, caller.TenantId);
            s.TenantId = caller.TenantId;
            s.TriageRules = yaml;
            s.UpdatedBy = caller.Actor;
            s.UpdatedAt = time.GetUtcNow();
            await PipelineStore.SaveSettingsAsync(c, tx, s);
            await audit.AppendAsync(c, tx, new AuditRecord(caller.TenantId, caller.Actor, "pipeline.triage_rules", "tenant:" + caller.TenantId, AuditOutcomes.Success, http.ClientAddress(),
                new Dictionary<string, string> { ["rules"] = string.Join(",", parsed.Select(r => r.Name)), ["hash"] = RunbookStore.Hash(request.Yaml!) }));
        }, ct);
        http.MarkAudited();
        return (await GetRules(store, http, ct));
    }

    private static async Task<Ok<IReadOnlyList<ChangeWindowResponse>>> ListWindows(bool? all, PipelineStore store, TimeProvider time, HttpContext http, CancellationToken ct)
    {
        var now = time.GetUtcNow();
        return TypedResults.Ok<IReadOnlyList<ChangeWindowResponse>>((await store.WindowsAsync(http.Caller().TenantId, all == true, ct)).Select(w => w.ToResponse(now)).ToList());
    }

    private static async Task<Results<Created<ChangeWindowResponse>, ValidationProblem>> AddWindow(
        ChangeWindowRequest request, Database db, AuditLog audit, TimeProvider time, HttpContext http, CancellationToken ct)
    {
        var now = time.GetUtcNow();
        var v = new Validator().Require("reason", request.Reason, 500)
            .Check(request.EndsAt > request.StartsAt, "ends_at", "must be after starts_at")
            .Check(request.EndsAt > now, "ends_at", "must be in the future")
            .Check(request.EndsAt - request.StartsAt <= TimeSpan.FromDays(31), "ends_at", "a window lasts at most 31 days");
        if (!v.Ok) return v.Problem();
        var caller = http.Caller();
        var w = new ChangeWindowRow
        {
            Id = Ids.New("cw"), TenantId = caller.TenantId, StartsAt = request.StartsAt.ToUniversalTime(), EndsAt = request.EndsAt.ToUniversalTime(), Reason = request.Reason,
            CreatedBy = caller.Actor, CreatedAt = now,
        };
        await db.WriteAsync(async (c, tx) =>
        {
            await PipelineStore.InsertWindowAsync(c, tx, w);
            await audit.AppendAsync(c, tx, new AuditRecord(caller.TenantId, caller.Actor, "change_window.create", "change_window:" + w.Id, AuditOutcomes.Success, http.ClientAddress(),
                new Dictionary<string, string> { ["starts_at"] = w.StartsAt.ToString("O"), ["ends_at"] = w.EndsAt.ToString("O"), ["reason"] = w.Reason }));
        }, ct);
        http.MarkAudited();
        return TypedResults.Created($"/api/v1/change-windows/{w.Id}", w.ToResponse(now));
    }

    private static async Task<Results<Ok<ChangeWindowResponse>, ProblemHttpResult>> RemoveWindow(string id, Database db, AuditLog audit, TimeProvider time, HttpContext http, CancellationToken ct)
    {
        var caller = http.Caller();
        var removed = await db.WriteAsync<ChangeWindowRow?>(async (c, tx) =>
        {
            if (await PipelineStore.WindowAsync(c, tx, caller.TenantId, id) is not { } w) return null;
            await PipelineStore.DeleteWindowAsync(c, tx, caller.TenantId, id);
            await audit.AppendAsync(c, tx, new AuditRecord(caller.TenantId, caller.Actor, "change_window.delete", "change_window:" + w.Id, AuditOutcomes.Success, http.ClientAddress(),
                new Dictionary<string, string> { ["reason"] = w.Reason }));
            return w;
        }, ct);
        if (removed is null) return Problems.NotFound("change window", id, "medic pipeline windows");
        http.MarkAudited();
        return TypedResults.Ok(removed.ToResponse(time.GetUtcNow()));
    }
}

/// <summary>Builds what a person sees of an approval: the incident, the recipe, the server, the parameters, and the exact plan of steps.</summary>
internal sealed class ApprovalViews(Database db, Incidents.IncidentQueries incidents, RunbookStore runbooks, ConsoleLinks links)
{
    public async Task<IReadOnlyList<ApprovalResponse>> ManyAsync(string tenantId, IReadOnlyList<ApprovalRow> rows, CancellationToken ct)
    {
        var list = new List<ApprovalResponse>(rows.Count);
        foreach (var a in rows)
        {
            RemediationRow r;
            await using (var c = await db.OpenAsync(ct))
            {
                r = (await PipelineStore.RemediationByIdAsync(c, null, tenantId, a.RemediationId))!;
            }

            var incident = (await incidents.GetAsync(tenantId, a.IncidentId, ct))?.Incident;
            var version = await runbooks.FindAsync(tenantId, r.Runbook, r.Version, ct);
            var plan = version is null ? [] : RunbookPlan.DryRun(runbooks.Load(version).Runbook, [r.ServerName ?? "?"], r.ParamMap);
            list.Add(new ApprovalResponse(a.Id, a.IncidentId, incident?.Title ?? "", a.StatusValue, a.RequestedBy, a.Reason, r.Runbook, r.Version, r.Risk, r.ServerName, r.ParamMap, plan,
                a.ExpiresAt, a.DecidedBy, a.DecidedAt, a.Comment, a.CreatedAt, links.Approval(a.Id)));
        }

        return list;
    }
}
