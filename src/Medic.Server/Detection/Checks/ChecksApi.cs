using System.Globalization;
using System.Text.RegularExpressions;
using Medic.Contracts;
using Medic.Server.Audit;
using Medic.Server.Auth;
using Medic.Server.Common;
using Medic.Server.Fleet;
using Medic.Server.Incidents;
using Medic.Server.Storage;
using Microsoft.AspNetCore.Http.HttpResults;

namespace Medic.Server.Detection.Checks;

/// <summary>Scheduled checks: HTTP, TCP and command checks the control plane runs on an interval; failures open incidents.</summary>
internal static partial class ChecksApi
{
    public static IServiceCollection AddChecks(this IServiceCollection services)
    {
        services.AddHttpClient(CheckRunner.HttpClientName, c => c.DefaultRequestHeaders.UserAgent.ParseAdd("medic-check/" + MedicVersion.Current))
            .ConfigurePrimaryHttpMessageHandler(() => new SocketsHttpHandler { AllowAutoRedirect = false, UseCookies = false, PooledConnectionLifetime = TimeSpan.FromMinutes(5) })
            .RemoveAllLoggers(); // they would log each check URL, whose path may carry a token (only query strings are redacted)
        services.AddSingleton<CheckStore>();
        services.AddSingleton<CheckRunner>();
        services.AddSingleton<CheckScheduler>();
        services.AddHostedService(sp => sp.GetRequiredService<CheckScheduler>());
        return services;
    }

    public static IEndpointRouteBuilder MapChecks(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/api/v1/checks").WithTags("Detection");
        group.MapGet("/", List).Requires(Permission.Read).WithSummary("Scheduled checks with their state and last result.");
        group.MapGet("/{id}", Get).Requires(Permission.Read).WithSummary("One check (by id or name) with its recent results, newest first.");
        group.MapPost("/", Create).Requires(Permission.Administer)
            .WithSummary("Add a check: http (target URL), tcp (target host:port) or command (run on a server through its agent or SSH).");
        group.MapPost("/{id}/run", RunNow).Requires(Permission.Operate).WithSummary("Run the check now and return its result.");
        group.MapDelete("/{id}", Remove).Requires(Permission.Administer).WithSummary("Remove the check; its open incident stays until resolved.");
        return app;
    }

    private static async Task<Ok<IReadOnlyList<CheckResponse>>> List(CheckStore checks, HttpContext http, CancellationToken ct) =>
        TypedResults.Ok<IReadOnlyList<CheckResponse>>((await checks.ListAsync(http.Caller().TenantId, ct)).Select(c => ForCaller(http.Caller(), c.ToResponse())).ToList());

    private static async Task<Results<Ok<CheckDetailResponse>, ProblemHttpResult>> Get(string id, CheckStore checks, HttpContext http, CancellationToken ct)
    {
        var tenant = http.Caller().TenantId;
        if (await checks.FindAsync(tenant, id, ct) is not { } check) return Problems.NotFound("check", id, "medic checks list");
        return TypedResults.Ok(ForCaller(http.Caller(), new CheckDetailResponse(check.ToResponse(), await checks.ResultsAsync(tenant, check.Id, 50, ct))));
    }

    /// <summary>
    /// Admins, who add checks, see them as written; everyone else sees credentials inside URLs
    /// (a token in the path or query, <c>user:pass@</c>) masked, in the target, command and details.
    /// </summary>
    internal static CheckResponse ForCaller(Caller caller, CheckResponse check) =>
        Permissions.Allows(caller.Role, caller.Superadmin, Permission.Administer)
            ? check
            : check with { Target = UrlMask.MaskInOrNull(check.Target), Command = UrlMask.MaskInOrNull(check.Command), LastDetail = UrlMask.MaskInOrNull(check.LastDetail) };

    private static CheckDetailResponse ForCaller(Caller caller, CheckDetailResponse detail) =>
        Permissions.Allows(caller.Role, caller.Superadmin, Permission.Administer)
            ? detail
            : new CheckDetailResponse(ForCaller(caller, detail.Check), detail.Results.Select(r => r with { Detail = UrlMask.MaskIn(r.Detail) }).ToList());

    private static async Task<Results<Created<CheckResponse>, ProblemHttpResult, ValidationProblem>> Create(
        CreateCheckRequest request, CheckStore checks, NodeStore nodes, CheckScheduler scheduler, Database db, AuditLog audit, TimeProvider time, HttpContext http, CancellationToken ct)
    {
        var caller = http.Caller();
        var v = new Validator().Require("name", request.Name, 63).Require("kind", request.Kind, 20)
            .Optional("target", request.Target, 2000).Optional("command", request.Command, 4000).Optional("body_regex", request.BodyRegex, 500).Optional("server", request.Server, 200);
        if (!string.IsNullOrEmpty(request.Name)) v.Check(ResourceNames.IsValid(request.Name), "name", "use lowercase letters, digits, '.', '_' and '-', such as shop-health");
        v.Check(request.Kind is null || CheckKinds.All.Contains(request.Kind), "kind", "use http, tcp or command");
        switch (request.Kind)
        {
            case CheckKinds.Http:
                v.Check(Uri.TryCreate(request.Target, UriKind.Absolute, out var uri) && uri.Scheme is "http" or "https", "target", "give an http:// or https:// URL");
                break;
            case CheckKinds.Tcp:
                v.Check(IsHostPort(request.Target), "target", "give host:port, such as db-1:5432");
                break;
            case CheckKinds.Command:
                v.Check(!string.IsNullOrWhiteSpace(request.Command), "command", "give the command to run, such as 'systemctl is-active nginx'");
                v.Check(request.Server is not null, "server", "name the server the command runs on");
                break;
        }

        v.Check(request.Kind == CheckKinds.Command || request.Command is null, "command", "only command checks run a command");
        v.Check(request.ExpectStatus is null || (request.Kind == CheckKinds.Http && request.ExpectStatus is >= 100 and <= 599), "expect_status", "an HTTP status from 100 to 599, for http checks");
        if (request.BodyRegex is not null)
        {
            v.Check(request.Kind == CheckKinds.Http, "body_regex", "only http checks read a body");
            try
            {
                _ = new Regex(request.BodyRegex, RegexOptions.None, TimeSpan.FromSeconds(1));
            }
            catch (ArgumentException ex)
            {
                v.Add("body_regex", "is not a valid regular expression: " + ex.Message);
            }
        }

        var interval = TimeSpan.FromSeconds(60);
        if (request.Interval is not null && !(Durations.TryParse(request.Interval, out interval) && interval >= TimeSpan.FromSeconds(10) && interval <= TimeSpan.FromDays(1)))
        {
            v.Add("interval", $"a duration from 10s to 1d; {Duration.Hint}");
        }

        var timeout = request.TimeoutSeconds ?? 10;
        v.Check(timeout is >= 1 and <= 120, "timeout_seconds", "must be from 1 to 120");
        v.Check(timeout < interval.TotalSeconds, "timeout_seconds", "must be shorter than the interval");
        var failures = request.Failures ?? 2;
        v.Check(failures is >= 1 and <= 20, "failures", "must be from 1 to 20 (failed runs in a row before an incident opens)");
        v.Check(request.Severity is null || Severities.All.Contains(request.Severity), "severity", "use critical, warning or info");
        if (!v.Ok) return v.Problem();

        NodeRow? node = null;
        if (request.Server is not null && (node = await nodes.FindAsync(caller.TenantId, request.Server, ct)) is null)
        {
            return Problems.NotFound("server", request.Server, "medic servers list");
        }

        var now = time.GetUtcNow();
        var row = new CheckRow
        {
            Id = Ids.New("chk"), TenantId = caller.TenantId, Name = request.Name, Kind = request.Kind!, Target = request.Target, ServerId = node?.Id, ServerName = node?.Name,
            Command = request.Command, ExpectStatus = request.ExpectStatus, BodyRegex = request.BodyRegex, IntervalSeconds = (int)interval.TotalSeconds, TimeoutSeconds = timeout,
            Failures = failures, Severity = request.Severity ?? Severities.Warning, NextRunAt = now, CreatedBy = caller.Actor, CreatedAt = now,
        };
        var conflict = await db.WriteAsync(async (c, tx) =>
        {
            if (await CheckStore.FindAsync(c, tx, caller.TenantId, request.Name) is not null) return true;
            await CheckStore.InsertAsync(c, tx, row);
            await audit.AppendAsync(c, tx, new AuditRecord(caller.TenantId, caller.Actor, "check.create", "check:" + row.Id, AuditOutcomes.Success, http.ClientAddress(),
                new Dictionary<string, string> { ["name"] = row.Name, ["kind"] = row.Kind, ["target"] = UrlMask.MaskIn(row.Target ?? row.ServerName ?? "") }));
            return false;
        }, ct);
        if (conflict) return Problems.Conflict($"A check named '{request.Name}' already exists.", "choose another name, or remove the old check with 'medic checks remove'");
        http.MarkAudited();
        scheduler.Wake();
        return TypedResults.Created($"/api/v1/checks/{row.Id}", row.ToResponse());
    }

    private static bool IsHostPort(string? target)
    {
        if (string.IsNullOrWhiteSpace(target)) return false;
        var colon = target.LastIndexOf(':');
        return colon > 0 && int.TryParse(target[(colon + 1)..], NumberStyles.None, CultureInfo.InvariantCulture, out var port) && port is >= 1 and <= 65535
            && target[..colon].Trim('[', ']').Length > 0 && !target.Any(char.IsWhiteSpace);
    }

    private static async Task<Results<Ok<CheckDetailResponse>, ProblemHttpResult>> RunNow(string id, CheckStore checks, CheckRunner runner, HttpContext http, CancellationToken ct)
    {
        var tenant = http.Caller().TenantId;
        if (await checks.FindAsync(tenant, id, ct) is not { } check) return Problems.NotFound("check", id, "medic checks list");
        await runner.RunAsync(check, ct);
        var updated = await checks.FindAsync(tenant, check.Id, ct);
        return TypedResults.Ok(ForCaller(http.Caller(), new CheckDetailResponse((updated ?? check).ToResponse(), await checks.ResultsAsync(tenant, check.Id, 1, ct))));
    }

    private static async Task<Results<Ok<CheckResponse>, ProblemHttpResult>> Remove(string id, CheckStore checks, Database db, AuditLog audit, TimeProvider time, HttpContext http, CancellationToken ct)
    {
        var caller = http.Caller();
        var removed = await db.WriteAsync(async (c, tx) =>
        {
            var check = await CheckStore.FindAsync(c, tx, caller.TenantId, id);
            if (check is null) return null;
            await CheckStore.RemoveAsync(c, tx, caller.TenantId, check.Id, time.GetUtcNow());
            await audit.AppendAsync(c, tx, new AuditRecord(caller.TenantId, caller.Actor, "check.remove", "check:" + check.Id, AuditOutcomes.Success, http.ClientAddress(),
                new Dictionary<string, string> { ["name"] = check.Name }));
            return check;
        }, ct);
        if (removed is null) return Problems.NotFound("check", id, "medic checks list");
        http.MarkAudited();
        return TypedResults.Ok(removed.ToResponse());
    }
}
