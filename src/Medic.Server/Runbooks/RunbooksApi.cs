using System.Net.WebSockets;
using System.Text;
using System.Text.Json;
using Medic.Contracts;
using Medic.Server.Audit;
using Medic.Server.Auth;
using Medic.Server.Common;
using Medic.Server.Fleet;
using Medic.Server.Storage;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.AspNetCore.Http.HttpResults;

namespace Medic.Server.Runbooks;

/// <summary>
/// Runbooks: apply versions (admins: a runbook decides what automation may do), read and diff
/// them, run them by hand (operators) and follow runs live.
/// </summary>
internal static class RunbooksApi
{
    public static IServiceCollection AddRunbooks(this IServiceCollection services)
    {
        services.AddSingleton<RunbookStore>();
        services.AddSingleton<RunbookLibrary>();
        services.AddSingleton<RunbookRunStore>();
        services.AddSingleton<LiveRuns>();
        services.AddSingleton<TaskSteps>();
        services.AddSingleton<HttpStep>();
        services.AddSingleton<CheckStep>();
        services.AddSingleton<ControlPlaneSteps>();
        services.AddSingleton<StepExecutor>();
        // The runner is public (the pipeline's public constructor takes one) but built from internal parts, so DI cannot call its constructor itself.
        services.AddSingleton(sp => new RunbookRunner(sp.GetRequiredService<RunbookRunStore>(), sp.GetRequiredService<LiveRuns>(), sp.GetRequiredService<StepExecutor>(),
            sp.GetRequiredService<TimeProvider>(), sp.GetRequiredService<ILogger<RunbookRunner>>()));
        services.TryAddSingleton<IRunbookNotifier, LoggingRunbookNotifier>();
        services.TryAddSingleton<IRunbookApprovals, ConfirmedAtStartApprovals>();
        services.AddHttpClient(HttpStep.HttpClientName, c => c.DefaultRequestHeaders.UserAgent.ParseAdd("medic-runbook/" + MedicVersion.Current))
            .ConfigurePrimaryHttpMessageHandler(() => new SocketsHttpHandler { AllowAutoRedirect = false, UseCookies = false, PooledConnectionLifetime = TimeSpan.FromMinutes(5) })
            .RemoveAllLoggers(); // a runbook's http step URL may carry a secret
        return services;
    }

    public static IEndpointRouteBuilder MapRunbooks(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/api/v1/runbooks").WithTags("Runbooks");
        group.MapPost("/", Apply).Requires(Permission.Administer)
            .WithSummary("Apply a runbook: the YAML as text/yaml, or JSON {\"content\": YAML}. Identical content is a no-op; a new version must be above the latest.");
        group.MapGet("/", List).Requires(Permission.Read).WithSummary("The latest version of every runbook: the tenant's own and the built-ins it has not overridden.");
        group.MapGet("/{name}", Get).Requires(Permission.Read).WithSummary("A runbook's latest version, or ?version=N, with its YAML and parameters.");
        group.MapGet("/{name}/diff", Diff).Requires(Permission.Read).WithSummary("A unified diff between two versions: ?from=V1&to=V2.");
        group.MapPost("/{name}/runs", Run).Requires(Permission.Operate)
            .WithSummary("Run a runbook on the selected servers (or the runbook's own targets) with parameters; dry_run shows the exact argv and environment of every step instead.");
        app.MapGet("/api/v1/runbook-runs", ListRuns).WithTags("Runbooks").Requires(Permission.Read)
            .WithSummary("Runbook runs, newest first, without their steps. Filters: runbook (name), status (running, succeeded, failed, interrupted); paging with before (a run id) and limit (1-500, default 50).");
        app.MapGet("/api/v1/runbook-runs/{id}", GetRun).WithTags("Runbooks").Requires(Permission.Read).WithSummary("A runbook run with every step's result so far.");
        app.Map("/ws/runbook-runs/{id}", Stream).Requires(Permission.Read).ExcludeFromDescription();
        return app;
    }

    private static async Task<Results<Ok<RunbookApplyResponse>, Created<RunbookApplyResponse>, ProblemHttpResult>> Apply(
        HttpRequest request, Database db, AuditLog audit, TimeProvider time, HttpContext http, CancellationToken ct)
    {
        var caller = http.Caller();
        string content;
        if (request.HasJsonContentType())
        {
            var body = await request.ReadFromJsonAsync(MedicJson.Default.ApplyRunbookRequest, ct);
            content = body?.Content ?? "";
        }
        else
        {
            using var reader = new StreamReader(request.Body, Encoding.UTF8);
            content = await reader.ReadToEndAsync(ct);
        }

        var parsed = RunbookParser.Parse(content);
        if (!parsed.Ok) return Refused(parsed.Errors);
        var runbook = parsed.Runbook!;
        var result = await db.WriteAsync(async (c, tx) =>
        {
            var r = await RunbookStore.ApplyAsync(c, tx, caller.TenantId, runbook, content, caller.Actor, time.GetUtcNow());
            if (r.Outcome is ApplyOutcome.Added or ApplyOutcome.Unchanged)
            {
                await audit.AppendAsync(c, tx, new AuditRecord(caller.TenantId, caller.Actor, "runbook.apply", $"runbook:{runbook.Name}", AuditOutcomes.Success, http.ClientAddress(),
                    new Dictionary<string, string>
                    {
                        ["version"] = runbook.Version.ToString(System.Globalization.CultureInfo.InvariantCulture), ["content_hash"] = r.Row.ContentHash,
                        ["changed"] = r.Outcome == ApplyOutcome.Added ? "true" : "false", ["risk"] = r.Row.Risk,
                    }));
            }

            return r;
        }, ct);

        var response = new RunbookApplyResponse(runbook.Name, runbook.Version, result.Row.ContentHash, result.Outcome == ApplyOutcome.Added, result.OverridesBuiltin);
        switch (result.Outcome)
        {
            case ApplyOutcome.VersionTaken:
                return Problems.Conflict($"Version {runbook.Version} of runbook {runbook.Name} already exists with other content (sha256 {result.Row.ContentHash[..12]}…).",
                    $"raise 'version:' to {result.Latest + 1} to store the change as a new version");
            case ApplyOutcome.VersionNotNewer:
                return Problems.Conflict($"Runbook {runbook.Name} is at version {result.Latest}; version {runbook.Version} is older.",
                    $"raise 'version:' to {result.Latest + 1}");
        }

        http.MarkAudited();
        return result.Outcome == ApplyOutcome.Added
            ? TypedResults.Created($"/api/v1/runbooks/{runbook.Name}?version={runbook.Version}", response)
            : TypedResults.Ok(response);
    }

    /// <summary>A 400 that lists every problem with its line and column, in the detail and as <c>problems</c>.</summary>
    private static ProblemHttpResult Refused(IReadOnlyList<RunbookError> errors) => TypedResults.Problem(
        detail: $"The runbook is invalid ({errors.Count} problem{(errors.Count == 1 ? "" : "s")}): " + string.Join("; ", errors.Take(20)),
        statusCode: StatusCodes.Status400BadRequest, title: "Invalid runbook",
        extensions: new Dictionary<string, object?>
        {
            ["remedy"] = "fix the lines named and apply again; the format is in docs/runbooks.md",
            ["problems"] = errors.Select(e => e.ToString()).ToArray(),
        });

    private static async Task<Ok<IReadOnlyList<RunbookSummary>>> List(RunbookStore store, HttpContext http, CancellationToken ct) =>
        TypedResults.Ok(await store.ListAsync(http.Caller().TenantId, ct));

    private static async Task<Results<Ok<RunbookResponse>, ProblemHttpResult>> Get(string name, int? version, RunbookStore store, HttpContext http, CancellationToken ct)
    {
        var tenant = http.Caller().TenantId;
        if (await store.FindAsync(tenant, name, version, ct) is not { } row) return NotFound(name, version);
        var parsed = store.Load(row).Runbook;
        return TypedResults.Ok(new RunbookResponse(row.ToSummary(await store.OverridesBuiltinAsync(tenant, name, ct)), row.Content,
            parsed.Parameters.Select(p => p.ToResponse()).ToList(), await store.VersionsAsync(tenant, name, ct)));
    }

    private static ProblemHttpResult NotFound(string name, int? version) => version is null
        ? Problems.NotFound("runbook", name, "medic runbook list")
        : Problems.Of(StatusCodes.Status404NotFound, "Not found", $"Runbook '{name}' has no version {version} in this tenant.", $"run 'medic runbook show {name}' to see its versions");

    private static async Task<Results<Ok<RunbookDiffResponse>, ProblemHttpResult>> Diff(string name, int? from, int? to, RunbookStore store, HttpContext http, CancellationToken ct)
    {
        var tenant = http.Caller().TenantId;
        if (await store.FindAsync(tenant, name, null, ct) is null) return NotFound(name, null);
        if (from is null || to is null) return Problems.Invalid("Name both versions: ?from=V1&to=V2.", $"see the versions with 'medic runbook show {name}'");
        var a = await store.FindAsync(tenant, name, from, ct);
        var b = await store.FindAsync(tenant, name, to, ct);
        if (a is null || b is null) return NotFound(name, a is null ? from : to);
        return TypedResults.Ok(new RunbookDiffResponse(name, from.Value, to.Value, LineDiff.Unified(a.Content, b.Content, $"{name} v{from}", $"{name} v{to}")));
    }

    private static async Task<Results<Accepted<RunbookRunResponse>, Ok<RunbookRunResponse>, ProblemHttpResult, ValidationProblem>> Run(
        string name, RunbookRunRequest request, RunbookStore store, RunbookRunner runner, NodeStore nodes, AuditLog audit, HttpContext http, CancellationToken ct)
    {
        var caller = http.Caller();
        var v = new Validator().Optional("idempotency_key", request.IdempotencyKey, 200);
        if (request.IdempotencyKey is { } key && RunbookRunner.ReservedNamespaceOf(key) is { } reserved)
        {
            v.Add("idempotency_key", $"keys starting with '{reserved}' are reserved for the server; choose another prefix");
        }
        if (request.Selector is { } s)
        {
            v.Check(s.All || s.Names is { Count: > 0 } || s.Tags is { Count: > 0 } || s.Environment is not null || s.Groups is { Count: > 0 },
                "selector", "name at least one criterion (names, tags, environment, groups), or set all to true for every server");
        }

        if (!v.Ok) return v.Problem();
        if (await store.FindAsync(caller.TenantId, name, request.Version, ct) is not { } row) return NotFound(name, request.Version);
        var stored = store.Load(row);
        var runbook = stored.Runbook;

        var (values, errors) = ParameterValues.Bind(runbook, request.Params);
        if (errors.Count > 0)
        {
            foreach (var (param, problem) in errors) v.Add("params." + param, problem);
            return v.Problem();
        }

        var selector = request.Selector ?? runbook.Targets.Selector;
        if (selector is null)
        {
            return Problems.Invalid($"Runbook {runbook.Name} runs on an incident's server; a run by hand must name its servers.",
                "pass a selector: medic runbook run NAME --target SERVER (or --tag k=v)");
        }

        if (request.IdempotencyKey is not null && await runner.FindByIdempotencyKeyAsync(caller.TenantId, request.IdempotencyKey, ct) is { } earlier)
        {
            http.MarkAudited(); // nothing new happens: the earlier run was audited when it started
            return TypedResults.Ok(earlier);
        }

        var targets = Executions.Select(await nodes.ListAsync(caller.TenantId, ct), selector);
        var names = targets.Select(t => t.Name).ToList();
        if (request.DryRun)
        {
            await audit.AppendAsync(new AuditRecord(caller.TenantId, caller.Actor, "runbook.run.dry_run", $"runbook:{runbook.Name}", AuditOutcomes.Success, http.ClientAddress(),
                Details(runbook, names, values)), ct);
            http.MarkAudited();
            return TypedResults.Ok(new RunbookRunResponse("", runbook.Name, runbook.Version, RunbookRunStatus.DryRun, true, caller.Actor, names, values, [],
                RunbookPlan.DryRun(runbook, names, values), null, DateTimeOffset.UtcNow, null));
        }

        if (targets.Count == 0)
        {
            return Problems.Of(StatusCodes.Status422UnprocessableEntity, "No servers selected", "The selector matches no server of this tenant.",
                "check it with --dry-run and 'medic servers list'");
        }

        if (runbook.HasApprovalSteps && !request.Confirmed)
        {
            var messages = runbook.Steps.Concat(runbook.Rollback).Where(st => st.Kind == StepKind.Approval).Select(st => st.Message);
            return Problems.Conflict($"Runbook {runbook.Name} asks for approval before it acts ({string.Join("; ", messages)}), and this run was not confirmed.",
                "run it from a terminal to confirm, or pass --yes (confirmed: true) if you approve");
        }

        var started = await runner.StartAsync(caller.TenantId, stored, targets, values, caller.Actor, request.IdempotencyKey,
            new RunbookRunOptions(request.Confirmed, (c, tx, r) => audit.AppendAsync(c, tx, new AuditRecord(caller.TenantId, caller.Actor, "runbook.run", "runbook_run:" + r.Id,
                AuditOutcomes.Success, http.ClientAddress(), Details(runbook, names, values)))), ct);
        http.MarkAudited();
        var run = (await runner.GetAsync(caller.TenantId, started.RunId, ct))!;
        return started.Started ? TypedResults.Accepted($"/api/v1/runbook-runs/{started.RunId}", run) : TypedResults.Ok(run);
    }

    private static Dictionary<string, string> Details(Runbook runbook, IReadOnlyList<string> targets, IReadOnlyDictionary<string, string> values)
    {
        var details = new Dictionary<string, string>
        {
            ["runbook"] = runbook.Name, ["version"] = runbook.Version.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["risk"] = runbook.Risk.ToString().ToLowerInvariant(), ["targets"] = string.Join(",", targets),
        };
        foreach (var (k, value) in values) details["param." + k] = value.Length > 200 ? value[..200] + "…" : value;
        return details;
    }

    private static async Task<Results<Ok<RunbookRunPage>, ValidationProblem>> ListRuns(HttpContext http, RunbookRunStore runs, CancellationToken ct)
    {
        var q = http.Request.Query;
        var v = new Validator();
        string? Text(string name)
        {
            var text = q[name].ToString();
            if (text.Length == 0) return null;
            v.Optional(name, text, 200);
            return text;
        }

        var runbook = Text("runbook");
        var before = Text("before");
        RunbookRunStatus? status = null;
        if (Text("status") is { } s)
        {
            // A dry run is never stored, so it is no status to filter by.
            if (StateText.TryParse<RunbookRunStatus>(s, out var parsed) && parsed != RunbookRunStatus.DryRun) status = parsed;
            else v.Add("status", $"'{s}' is not one of: running, succeeded, failed, interrupted");
        }

        var limit = 50;
        if (Text("limit") is { } l && !(int.TryParse(l, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out limit) && limit is >= 1 and <= 500))
        {
            v.Add("limit", "must be a whole number from 1 to 500");
        }

        if (!v.Ok) return v.Problem();
        return TypedResults.Ok(await runs.ListAsync(http.Caller().TenantId, runbook, status, before, limit, ct));
    }

    private static async Task<Results<Ok<RunbookRunResponse>, ProblemHttpResult>> GetRun(string id, RunbookRunner runner, HttpContext http, CancellationToken ct) =>
        await runner.GetAsync(http.Caller().TenantId, id, ct) is { } run ? TypedResults.Ok(run) : Problems.NotFound("runbook run", id, "medic runbook run");

    /// <summary>
    /// Sends the run's events as JSON text messages: the stored step results first (as
    /// step_finished), then live events, and a last <c>finished</c> one; then closes.
    /// </summary>
    private static async Task Stream(string id, RunbookRunner runner, HttpContext http)
    {
        var caller = http.Caller();
        if (await runner.GetAsync(caller.TenantId, id, http.RequestAborted) is null)
        {
            await Problems.WriteAsync(http, StatusCodes.Status404NotFound, "Not found", $"No runbook run '{id}' exists in this tenant.", "start one with medic runbook run");
            return;
        }

        if (!http.WebSockets.IsWebSocketRequest)
        {
            await Problems.WriteAsync(http, StatusCodes.Status400BadRequest, "Not a WebSocket request", "This endpoint streams a run over a WebSocket.",
                "GET /api/v1/runbook-runs/{id} for the results so far");
            return;
        }

        // Subscribe, then read what is stored, so no step falls between the two (duplicates are skipped by seq).
        var live = runner.Subscribe(id);
        var snapshot = (await runner.GetAsync(caller.TenantId, id, http.RequestAborted))!;
        using var socket = await http.WebSockets.AcceptWebSocketAsync();
        var sent = new HashSet<int>();
        async Task Send(RunbookRunEvent e)
        {
            if (e.Result is { } r && !sent.Add(r.Seq)) return;
            await socket.SendAsync(JsonSerializer.SerializeToUtf8Bytes(e, MedicJson.Default.RunbookRunEvent), WebSocketMessageType.Text, true, http.RequestAborted);
        }

        foreach (var r in snapshot.Steps) await Send(new RunbookRunEvent("step_finished", r.Server, r.Step, r.Name, r.Phase, Result: r));
        if (live is not null)
        {
            await foreach (var e in live.ReadAllAsync(http.RequestAborted)) await Send(e);
        }
        else
        {
            await Send(new RunbookRunEvent("finished", Status: snapshot.Status));
        }

        await socket.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, "run finished", http.RequestAborted);
    }
}
