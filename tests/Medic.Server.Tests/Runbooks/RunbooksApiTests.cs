using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using Medic.Contracts;
using Medic.Server.Runbooks;
using Medic.Server.Tests.Infrastructure;

namespace Medic.Server.Tests.Runbooks;

public sealed class RunbooksApiTests
{
    private static string Yaml(int version, string extra = "", string name = "fix-web") => $$$"""
        name: {{{name}}}
        version: {{{version}}}
        description: Fix the web tier.
        risk: low
        parameters:
          unit: {type: string, pattern: '[a-z]+', default: nginx}
        targets:
          tags: {role: web}
        steps:
          - run: [systemctl, restart, '${{ params.unit }}']
        {{{extra}}}
        """;

    private static StringContent YamlBody(string yaml) => new(yaml, Encoding.UTF8, "application/yaml");

    private static async Task<HttpResponseMessage> ApplyAsync(HttpClient client, string yaml) => await client.PostAsync("/api/v1/runbooks", YamlBody(yaml));

    /// <summary>Enrolls a server (its agent never connects, so it stays offline) and returns its name.</summary>
    private static async Task<string> EnrollAsync(MedicServer server, string name, string tags = """{"role":"web"}""")
    {
        using var token = await server.Admin.PostAsync("/api/v1/enrollment-tokens", Json.Raw($$"""{"tags":{{tags}}}"""));
        var secret = (await token.ReadAsync(MedicJson.Default.EnrollmentTokenCreatedResponse, HttpStatusCode.Created)).Secret;
        using var enroll = await server.Client().PostAsync("/agent/v1/enroll", Json.Raw($$"""{"token":"{{secret}}","name":"{{name}}"}"""));
        enroll.StatusCode.ShouldBe(HttpStatusCode.OK);
        return name;
    }

    private static async Task<RunbookRunResponse> WaitForRunAsync(HttpClient client, string id)
    {
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (true)
        {
            using var response = await client.GetAsync($"/api/v1/runbook-runs/{id}");
            var run = await response.ReadAsync(MedicJson.Default.RunbookRunResponse);
            if (run.Status.ToText() != "running") return run;
            DateTime.UtcNow.ShouldBeLessThan(deadline, $"run {id} is still running");
            await Task.Delay(50);
        }
    }

    [Theory]
    [MemberData(nameof(Dialects.Both), MemberType = typeof(Dialects))]
    public async Task Applying_stores_each_version_once_by_content_and_diffs_versions(string dialect)
    {
        await using var server = await MedicServer.StartAsync(dialect);

        using (var first = await ApplyAsync(server.Admin, Yaml(1)))
        {
            var r = await first.ReadAsync(MedicJson.Default.RunbookApplyResponse, HttpStatusCode.Created);
            (r.Name, r.Version, r.Changed, r.ContentHash.Length).ShouldBe(("fix-web", 1, true, 64));
        }

        using (var again = await ApplyAsync(server.Admin, Yaml(1)))
        {
            (await again.ReadAsync(MedicJson.Default.RunbookApplyResponse)).Changed.ShouldBeFalse();
        }

        using (var edited = await ApplyAsync(server.Admin, Yaml(1, "  - wait: 1s")))
        {
            var problem = await edited.ShouldBeProblemAsync(HttpStatusCode.Conflict);
            problem.Detail().ShouldContain("Version 1 of runbook fix-web already exists with other content");
            ((string)problem["remedy"]!).ShouldContain("raise 'version:' to 2");
        }

        using (var second = await server.Admin.PostAsync("/api/v1/runbooks", Json.Body(new ApplyRunbookRequest(Yaml(2, "  - wait: 1s")), MedicJson.Default.ApplyRunbookRequest)))
        {
            (await second.ReadAsync(MedicJson.Default.RunbookApplyResponse, HttpStatusCode.Created)).Version.ShouldBe(2);
        }

        (await ApplyAsync(server.Admin, Yaml(5, "  - wait: 5s"))).StatusCode.ShouldBe(HttpStatusCode.Created);
        using (var older = await ApplyAsync(server.Admin, Yaml(4, "  - wait: 4s")))
        {
            (await older.ShouldBeProblemAsync(HttpStatusCode.Conflict)).Detail().ShouldContain("is at version 5; version 4 is older");
        }

        using var latest = await server.Admin.GetAsync("/api/v1/runbooks/fix-web");
        var shown = await latest.ReadAsync(MedicJson.Default.RunbookResponse);
        (shown.Runbook.Version, shown.Runbook.Source, shown.Runbook.Author).ShouldBe((5, "tenant", "user:admin"));
        shown.Versions.ShouldBe([1, 2, 5]);
        shown.Parameters.ShouldHaveSingleItem().Default.ShouldBe("nginx");

        using var v1 = await server.Admin.GetAsync("/api/v1/runbooks/fix-web?version=1");
        (await v1.ReadAsync(MedicJson.Default.RunbookResponse)).Content.ShouldBe(Yaml(1));
        (await server.Admin.GetAsync("/api/v1/runbooks/fix-web?version=3")).StatusCode.ShouldBe(HttpStatusCode.NotFound);

        using var diff = await server.Admin.GetAsync("/api/v1/runbooks/fix-web/diff?from=1&to=2");
        var text = (await diff.ReadAsync(MedicJson.Default.RunbookDiffResponse)).Diff;
        text.ShouldStartWith("--- fix-web v1\n+++ fix-web v2\n@@ -1,5 +1,5 @@\n name: fix-web\n-version: 1\n+version: 2\n description: Fix the web tier.\n risk: low\n parameters:\n@@ -8,");
        text.ShouldEndWith("+  - wait: 1s\n");
        (await server.Admin.GetAsync("/api/v1/runbooks/fix-web/diff?from=1&to=9")).StatusCode.ShouldBe(HttpStatusCode.NotFound);
        (await (await server.Admin.GetAsync("/api/v1/runbooks/fix-web/diff?from=1")).ShouldBeProblemAsync(HttpStatusCode.BadRequest)).Detail().ShouldContain("?from=V1&to=V2");

        var audited = await server.Database.ScalarAsync<long>("SELECT COUNT(*) FROM audit_log WHERE action = 'runbook.apply'");
        audited.ShouldBe(4); // three new versions and one no-op; refusals are audited as rejected by the middleware
    }

    [Theory]
    [MemberData(nameof(Dialects.Both), MemberType = typeof(Dialects))]
    public async Task Built_ins_are_listed_for_every_tenant_and_a_tenant_override_shadows_one_only_there(string dialect)
    {
        await using var server = await MedicServer.StartAsync(dialect);
        using var created = await server.Admin.PostAsync("/api/v1/tenants", Json.Raw("""{"slug":"other","admin_username":"other-admin","admin_password":"other-admin-password"}"""));
        created.StatusCode.ShouldBe(HttpStatusCode.Created);
        var other = server.Client(await server.LogInAsync("other-admin", "other-admin-password", "other"));

        var own = Yaml(7, name: "restart-service");
        using (var applied = await ApplyAsync(server.Admin, own))
        {
            (await applied.ReadAsync(MedicJson.Default.RunbookApplyResponse, HttpStatusCode.Created)).OverridesBuiltin.ShouldBeTrue();
        }

        using var mine = await server.Admin.GetAsync("/api/v1/runbooks");
        var list = await mine.ReadAsync(MedicJson.Default.IReadOnlyListRunbookSummary);
        list.Select(r => r.Name).ShouldContain("reboot");
        list.Count(r => r.Source == "builtin").ShouldBe(Medic.Server.Runbooks.RunbookLibrary.Files().Count - 1, "every built-in but the one the tenant overrides");
        var overridden = list.Single(r => r.Name == "restart-service");
        (overridden.Source, overridden.Version, overridden.OverridesBuiltin).ShouldBe(("tenant", 7, true));

        using var theirs = await other.GetAsync("/api/v1/runbooks/restart-service");
        var builtin = await theirs.ReadAsync(MedicJson.Default.RunbookResponse);
        (builtin.Runbook.Source, builtin.Runbook.Version, builtin.Runbook.Risk, builtin.Runbook.Author).ShouldBe(("builtin", 1, "low", "medic"));
        builtin.Content.ShouldContain("service-status");
        (await other.GetAsync("/api/v1/runbooks/fix-web")).StatusCode.ShouldBe(HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task An_invalid_runbook_is_refused_with_every_problem_and_its_line_and_column()
    {
        await using var server = await MedicServer.StartAsync(TestDatabase.Sqlite);

        using var response = await ApplyAsync(server.Admin, "name: bad\nversion: 1\nrisk: extreme\nsteps:\n  - explode: now\n");

        var problem = await response.ShouldBeProblemAsync(HttpStatusCode.BadRequest);
        problem.Detail().ShouldContain("line 3, column 7: risk 'extreme' is not low, medium or high");
        problem["problems"]!.AsArray().Select(p => (string)p!).ShouldBe([
            "line 3, column 7: risk 'extreme' is not low, medium or high",
            "line 5, column 5: steps[1]: unknown step type 'explode'; the types are run, shell, diag, service, http, check, approval, notify, wait",
        ]);
        (await server.Database.ScalarAsync<long>("SELECT COUNT(*) FROM runbook_versions WHERE tenant_id IS NOT NULL")).ShouldBe(0);
        (await (await ApplyAsync(server.Admin, "")).ShouldBeProblemAsync(HttpStatusCode.BadRequest)).Detail().ShouldContain("the runbook is empty");
    }

    [Fact]
    public async Task Only_admins_apply_and_only_operators_and_admins_run()
    {
        await using var server = await MedicServer.StartAsync(TestDatabase.Sqlite);
        var operatorClient = await server.ClientForNewUserAsync(server.Admin, "ops", Role.Operator);
        var viewer = await server.ClientForNewUserAsync(server.Admin, "viewer", Role.Viewer);
        await ApplyAsync(server.Admin, Yaml(1));

        (await ApplyAsync(operatorClient, Yaml(2))).StatusCode.ShouldBe(HttpStatusCode.Forbidden);
        (await viewer.PostAsync("/api/v1/runbooks/fix-web/runs", Json.Raw("""{"dry_run":true}"""))).StatusCode.ShouldBe(HttpStatusCode.Forbidden);
        (await operatorClient.PostAsync("/api/v1/runbooks/fix-web/runs", Json.Raw("""{"dry_run":true}"""))).StatusCode.ShouldBe(HttpStatusCode.OK);
        (await viewer.GetAsync("/api/v1/runbooks/fix-web")).StatusCode.ShouldBe(HttpStatusCode.OK);
    }

    [Fact]
    public async Task A_dry_run_shows_the_exact_argv_and_environment_and_runs_nothing()
    {
        await using var server = await MedicServer.StartAsync(TestDatabase.Sqlite);
        await EnrollAsync(server, "web-1");
        await EnrollAsync(server, "db-1", """{"role":"db"}""");
        await ApplyAsync(server.Admin, Yaml(1, """
              - shell: echo "$MEDIC_PARAM_UNIT"
                env: {LANG: C}
                when: params.unit == 'apache'
            """));

        using var response = await server.Admin.PostAsync("/api/v1/runbooks/fix-web/runs", Json.Raw("""{"params":{"unit":"httpd"},"dry_run":true}"""));

        var plan = await response.ReadAsync(MedicJson.Default.RunbookRunResponse);
        plan.Targets.ShouldBe(["web-1"]);
        plan.Params.ShouldBe(new Dictionary<string, string> { ["unit"] = "httpd" });
        var steps = plan.Plan!;
        steps.Count.ShouldBe(2);
        steps[0].Argv.ShouldBe(["systemctl", "restart", "httpd"]);
        steps[0].Env.ShouldBe(new Dictionary<string, string> { ["MEDIC_PARAM_UNIT"] = "httpd" });
        steps[1].Argv.ShouldBe(["sh", "-c", "echo \"$MEDIC_PARAM_UNIT\""]);
        steps[1].Env!["LANG"].ShouldBe("C");
        steps[1].When.ShouldBe("params.unit == 'apache' (false: skipped)");
        (await server.Database.ScalarAsync<long>("SELECT COUNT(*) FROM runbook_runs")).ShouldBe(0);
        (await server.Database.ScalarAsync<long>("SELECT COUNT(*) FROM audit_log WHERE action = 'runbook.run.dry_run'")).ShouldBe(1);
    }

    [Fact]
    public async Task Parameters_that_fail_their_schema_are_refused_before_anything_runs()
    {
        await using var server = await MedicServer.StartAsync(TestDatabase.Sqlite);
        await EnrollAsync(server, "web-1");
        await ApplyAsync(server.Admin, Yaml(1));

        using var response = await server.Admin.PostAsync("/api/v1/runbooks/fix-web/runs", Json.Raw("""{"params":{"unit":"nginx; rm -rf /","extra":"1"}}"""));

        var problem = await response.ShouldBeProblemAsync(HttpStatusCode.BadRequest);
        problem.Detail().ShouldContain("params.unit: 'nginx; rm -rf /' does not match the pattern [a-z]+");
        problem.Detail().ShouldContain("params.extra: runbook fix-web has no parameter 'extra'");
        (await server.Database.ScalarAsync<long>("SELECT COUNT(*) FROM runbook_runs")).ShouldBe(0);
    }

    [Theory]
    [MemberData(nameof(Dialects.Both), MemberType = typeof(Dialects))]
    public async Task A_failing_step_runs_the_rollback_steps_and_stops_before_the_next_server(string dialect)
    {
        await using var server = await MedicServer.StartAsync(dialect);
        await using var site = await TinyHttpServer.StartAsync();
        site.Body = "version=42\n";
        await EnrollAsync(server, "web-1");
        await EnrollAsync(server, "web-2");
        await ApplyAsync(server.Admin, $$$"""
            name: deploy-web
            version: 1
            risk: low
            targets: {tags: {role: web}}
            parameters:
              force: {type: bool, default: 'false'}
            steps:
              - name: read the version
                http: {url: '{{{site.Address}}}version', expect: {status: 200, body: 'version=\d+'}}
                capture: page
              - name: only when forced
                when: params.force
                notify: forced
              - name: say what was read
                when: captures.page == 'version=42'
                notify: read ${{ captures.page }}
              - name: restart on the server
                run: [systemctl, restart, web]
              - name: never reached
                notify: done
            rollback:
              - name: undo
                notify: undoing after ${{ page }}
              - name: skipped undo
                when: page == 'other'
                notify: never
            """);

        using var response = await server.Admin.PostAsync("/api/v1/runbooks/deploy-web/runs", Json.Raw("""{"idempotency_key":"incident-1/step-3"}"""));
        var started = await response.ReadAsync(MedicJson.Default.RunbookRunResponse, HttpStatusCode.Accepted);
        var run = await WaitForRunAsync(server.Admin, started.Id);

        run.Status.ToText().ShouldBe("failed");
        run.Error.ShouldBe("step 4 'restart on the server' on web-1 offline: the server's agent is not connected; rollback ran: 1 ok, 0 failed; not run on web-2");
        run.Steps.Select(s => (s.Server, s.Phase, s.Name, s.Status.ToText())).ShouldBe([
            ("control-plane", "main", "read the version", "ok"),
            ("control-plane", "main", "only when forced", "skipped"),
            ("control-plane", "main", "say what was read", "ok"),
            ("web-1", "main", "restart on the server", "offline"),
            ("control-plane", "rollback", "undo", "ok"),
            ("control-plane", "rollback", "skipped undo", "skipped"),
        ]);
        run.Steps[0].Stdout.ShouldBe("version=42\n");
        run.Steps[2].Stdout.ShouldBe("read version=42");
        run.Steps[4].Stdout.ShouldBe("undoing after version=42");
        site.Requests.ShouldBe(1);

        // The same idempotency key finds the same run and starts nothing.
        using var again = await server.Admin.PostAsync("/api/v1/runbooks/deploy-web/runs", Json.Raw("""{"idempotency_key":"incident-1/step-3"}"""));
        (await again.ReadAsync(MedicJson.Default.RunbookRunResponse)).Id.ShouldBe(started.Id);
        (await server.Database.ScalarAsync<long>("SELECT COUNT(*) FROM runbook_runs")).ShouldBe(1);
        site.Requests.ShouldBe(1);
        (await server.Database.QueryAsync<string>("SELECT action FROM audit_log WHERE action LIKE 'runbook.run%' ORDER BY seq")).ShouldBe(["runbook.run", "runbook.run.finish"]);
    }

    [Fact]
    public async Task A_runbook_with_approval_steps_runs_only_when_the_caller_confirms_it()
    {
        await using var server = await MedicServer.StartAsync(TestDatabase.Sqlite);
        await EnrollAsync(server, "web-1");
        await ApplyAsync(server.Admin, """
            name: risky
            version: 1
            risk: high
            targets: {names: [web-1]}
            steps:
              - approval: Really?
              - notify: went ahead
            """);

        using var unconfirmed = await server.Admin.PostAsync("/api/v1/runbooks/risky/runs", Json.Raw("{}"));
        (await unconfirmed.ShouldBeProblemAsync(HttpStatusCode.Conflict)).Detail().ShouldContain("asks for approval before it acts (Really?)");

        using var confirmed = await server.Admin.PostAsync("/api/v1/runbooks/risky/runs", Json.Raw("""{"confirmed":true}"""));
        var run = await WaitForRunAsync(server.Admin, (await confirmed.ReadAsync(MedicJson.Default.RunbookRunResponse, HttpStatusCode.Accepted)).Id);
        run.Status.ToText().ShouldBe("succeeded");
        run.Steps[0].Reason.ShouldBe("confirmed by user:admin when the run started");
    }

    [Fact]
    public async Task A_runbook_for_an_incidents_server_needs_a_selector_by_hand_and_an_empty_selection_is_refused()
    {
        await using var server = await MedicServer.StartAsync(TestDatabase.Sqlite);

        using var noSelector = await server.Admin.PostAsync("/api/v1/runbooks/restart-service/runs", Json.Raw("""{"params":{"unit":"nginx"}}"""));
        (await noSelector.ShouldBeProblemAsync(HttpStatusCode.BadRequest)).Detail().ShouldContain("runs on an incident's server");

        using var nobody = await server.Admin.PostAsync("/api/v1/runbooks/restart-service/runs", Json.Raw("""{"params":{"unit":"nginx"},"selector":{"names":["ghost"]}}"""));
        await nobody.ShouldBeProblemAsync(HttpStatusCode.UnprocessableEntity);

        (await server.Admin.PostAsync("/api/v1/runbooks/nope/runs", Json.Raw("{}"))).StatusCode.ShouldBe(HttpStatusCode.NotFound);
        (await server.Admin.GetAsync("/api/v1/runbook-runs/rbr_nope")).StatusCode.ShouldBe(HttpStatusCode.NotFound);
    }

    [Theory]
    [MemberData(nameof(Dialects.Both), MemberType = typeof(Dialects))]
    public async Task Past_runs_are_listed_newest_first_filtered_by_runbook_and_status_and_paged(string dialect)
    {
        await using var server = await MedicServer.StartAsync(dialect);
        await EnrollAsync(server, "web-1");
        await ApplyAsync(server.Admin, "name: say-hi\nversion: 1\nrisk: low\ntargets: {names: [web-1]}\nsteps:\n  - notify: hi\n");
        await ApplyAsync(server.Admin, "name: restart-web\nversion: 1\nrisk: low\ntargets: {names: [web-1]}\nsteps:\n  - run: [systemctl, restart, web]\n");
        var started = new List<string>();
        foreach (var name in new[] { "say-hi", "restart-web", "say-hi", "say-hi" })
        {
            using var response = await server.Admin.PostAsync($"/api/v1/runbooks/{name}/runs", Json.Raw("{}"));
            started.Add((await WaitForRunAsync(server.Admin, (await response.ReadAsync(MedicJson.Default.RunbookRunResponse, HttpStatusCode.Accepted)).Id)).Id);
        }

        async Task<RunbookRunPage> ListAsync(string query)
        {
            using var response = await server.Admin.GetAsync("/api/v1/runbook-runs" + query);
            return await response.ReadAsync(MedicJson.Default.RunbookRunPage);
        }

        var all = await ListAsync("");
        all.Items.Select(r => r.Id).ShouldBe(Enumerable.Reverse(started));
        all.NextBefore.ShouldBeNull();
        var failed = all.Items.Single(r => r.Runbook == "restart-web");
        (failed.Status.ToText(), failed.Actor, failed.Version, failed.Targets.Single()).ShouldBe(("failed", "user:admin", 1, "web-1"));
        failed.Error.ShouldNotBeNull().ShouldContain("offline");
        failed.FinishedAt.ShouldNotBeNull();

        (await ListAsync("?runbook=say-hi")).Items.Select(r => r.Id).ShouldBe([started[3], started[2], started[0]]);
        (await ListAsync("?status=failed")).Items.Select(r => r.Id).ShouldBe([started[1]]);
        (await ListAsync("?runbook=say-hi&status=failed")).Items.ShouldBeEmpty();

        var first = await ListAsync("?limit=3");
        first.Items.Select(r => r.Id).ShouldBe([started[3], started[2], started[1]]);
        first.NextBefore.ShouldBe(started[1]);
        var second = await ListAsync("?limit=3&before=" + first.NextBefore);
        second.Items.Select(r => r.Id).ShouldBe([started[0]]);
        second.NextBefore.ShouldBeNull();

        using var badStatus = await server.Admin.GetAsync("/api/v1/runbook-runs?status=dry_run");
        (await badStatus.ShouldBeProblemAsync(HttpStatusCode.BadRequest)).ToJsonString().ShouldContain("is not one of: running, succeeded, failed, interrupted");
        using var badLimit = await server.Admin.GetAsync("/api/v1/runbook-runs?limit=0");
        (await badLimit.ShouldBeProblemAsync(HttpStatusCode.BadRequest)).ToJsonString().ShouldContain("from 1 to 500");
    }
}
