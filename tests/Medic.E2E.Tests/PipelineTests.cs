using System.Diagnostics;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using Medic.ModelServer;

namespace Medic.E2E.Tests;

/// <summary>
/// The remediation pipeline end to end (issue 5's five scenarios): a real <c>medic up</c> with its
/// own agent, driven through the real CLI, remediating real processes and files in a temp directory.
/// </summary>
public sealed class PipelineTests : IAsyncLifetime
{
    private static readonly TimeSpan PipelineTimeout = TimeSpan.FromSeconds(90);
    private readonly MedicHome _home = new();
    private readonly DirectoryInfo _work = Directory.CreateTempSubdirectory("medic-pipe-");
    private RunningServer? _server;

    private string Work => _work.FullName;

    private static string Host => Environment.MachineName;

    // ---- 1. a crashing service past its local restarts ----------------------------------------

    [Fact]
    public async Task A_service_that_crashes_past_its_local_restarts_is_fixed_by_an_autonomous_low_risk_recipe_without_approval_and_resolved()
    {
        // A small service that needs its config file; the agent supervises it and may restart it twice a minute.
        var script = Path.Combine(Work, "crashy.sh");
        File.WriteAllText(script, $"""
            if [ ! -f '{Work}/crashy.conf' ]; then echo "crashy: {Work}/crashy.conf is missing" >&2; exit 3; fi
            echo $$ > '{Work}/crashy.pid'
            echo "crashy: serving with $(cat '{Work}/crashy.conf')"
            while :; do sleep 1; done
            """);
        File.WriteAllText(Path.Combine(Work, "crashy.conf"), "workers=2\n");
        File.WriteAllText(Path.Combine(Work, "crashy.conf.bak"), "workers=2\n");
        WriteLocalMonitors($"""
            monitors:
              - name: crashy
                kind: process
                start: [sh, "{script}"]
                match: '^sh {Regex.Escape(script)}$'
                labels: {"{"} app: crashy {"}"}
                heal:
                  max_restarts: 2
                  window: 1m
                  delay: 3s
                  retries: 5
            """);
        // The 3 s between restarts give triage time to look while the agent still restarts it, even on a
        // loaded machine (with 200 ms the agent could give up before the triage job ran, and then there is nothing to wait for).
        await StartUpAsync();
        var firstPid = await ServicePidAsync(null);

        await Medic("runbook", "apply", "-f", WriteFile("runbooks/restore-crashy.yaml", """
            name: e2e-restore-crashy
            version: 1
            description: Put the service's config back from its backup and start it again.
            risk: low
            parameters:
              dir: {type: string, pattern: '/[A-Za-z0-9._/-]+', required: true}
            targets: incident
            steps:
              - name: restore the config
                shell: cp "$MEDIC_PARAM_DIR/crashy.conf.bak" "$MEDIC_PARAM_DIR/crashy.conf"
              - name: start the service
                shell: setsid sh "$MEDIC_PARAM_DIR/crashy.sh" < /dev/null > "$MEDIC_PARAM_DIR/crashy.out" 2>&1 &
              - name: it runs
                check:
                  shell: pgrep -f "^sh $MEDIC_PARAM_DIR/crashy.sh\$"
                  retries: 10
                  delay: 1s
            """));
        var rules = await Medic("pipeline", "rules", "apply", "-f", WriteFile("crashy-rules.yaml", $"""
            rules:
              - name: crashy-gave-up
                match: {"{"} type: service_down, source: agent, labels: {"{"} app: crashy {"}"} {"}"}
                recipe: e2e-restore-crashy
                params: {"{"} dir: "{Work}" {"}"}
                trust: autonomous
            """));
        rules.ShouldStartWith("Applied 1 triage rule(s) from crashy-rules.yaml.");

        // The config disappears and the service dies: every local restart crashes at once, and the agent gives up.
        File.Delete(Path.Combine(Work, "crashy.conf"));
        Kill(firstPid);
        var id = await EventuallyAsync(async () =>
        {
            var list = await MedicJson("incidents", "list", "--source", "agent");
            return list.GetProperty("items").EnumerateArray().Where(i => i.GetProperty("labels").GetProperty("app").GetString() == "crashy")
                .Select(i => i.GetProperty("id").GetString()).FirstOrDefault();
        }, TimeSpan.FromSeconds(30), "no agent incident for the crashed service");

        var detail = await WaitForIncidentAsync(id, "resolved");
        var incident = detail.GetProperty("incident");
        incident.GetProperty("type").GetString().ShouldBe("service_down");
        incident.GetProperty("resolution").GetString()!.ShouldStartWith("remediated by e2e-restore-crashy, verified: the recipe's check 'it runs' passed");
        var timeline = Timeline(detail);
        var gaveUp = timeline.FindIndex(e => e.Message.Contains("gave up restarting it", StringComparison.Ordinal));
        var started = timeline.FindIndex(e => e.Kind == "remediation_started");
        gaveUp.ShouldBeGreaterThan(0, Describe(detail));
        started.ShouldBeGreaterThan(gaveUp, "the pipeline waits for the agent's own restarts to give up:\n" + Describe(detail));
        timeline.ShouldContain(e => e.Kind == "triage" && e.Message.StartsWith("triage waits: the agent is restarting it locally", StringComparison.Ordinal), Describe(detail));
        timeline.ShouldContain(e => e.Kind == "executing" && e.Actor == "system:pipeline" && e.Message == "risk gate: low risk, autonomous actor, within limits", Describe(detail));

        var remediation = (await MedicJson("incidents", "remediations", id)).EnumerateArray().ShouldHaveSingleItem();
        remediation.GetProperty("proposed_by").GetString().ShouldBe("rule:crashy-gave-up");
        remediation.GetProperty("gate").GetString().ShouldBe("auto_run");
        remediation.GetProperty("status").GetString().ShouldBe("succeeded");
        (await MedicJson("approvals", "--status", "all", "--incident", id)).GetArrayLength().ShouldBe(0, "a low recipe from an autonomous rule needs nobody's approval");

        var show = await Medic("incidents", "show", id);
        show.ShouldContain("status:      resolved - remediated by e2e-restore-crashy");
        var audit = await AuditOfAsync(id);
        audit.ShouldContain(a => a.Action == "runbook.run" && a.Actor == "rule:crashy-gave-up");
        audit.ShouldContain(a => a.Action == "incident.executing" && a.Actor == "system:pipeline");
        audit.ShouldContain(a => a.Action == "incident.verifying");
        audit.ShouldContain(a => a.Action == "incident.resolve" && a.Actor == "system:pipeline");

        var newPid = await ServicePidAsync(firstPid);
        newPid.ShouldNotBe(firstPid);
        File.ReadAllText(Path.Combine(Work, "crashy.conf")).ShouldBe("workers=2\n");
    }

    // ---- 2. a directory over its quota: a person proposes, another approves ---------------------

    [Fact]
    public async Task A_directory_over_its_quota_is_cleaned_after_a_second_person_approves_exactly_once_and_every_step_is_audited()
    {
        await StartUpAsync();
        var quota = Directory.CreateDirectory(Path.Combine(Work, "uploads")).FullName;
        FillQuotaDirectory(quota);

        var check = await Medic("checks", "add", "uploads-quota", "--server", Host, "--command", $"test $(du -sk '{quota}' | cut -f1) -lt 1024",
            "--interval", "1d", "--failures", "1");
        check.ShouldContain("uploads-quota");
        var id = await EventuallyAsync(async () =>
        {
            var list = await MedicJson("incidents", "list", "--source", "check");
            return list.GetProperty("items").EnumerateArray().Where(i => i.GetProperty("title").GetString() == "Check uploads-quota is failing")
                .Select(i => i.GetProperty("id").GetString()).FirstOrDefault();
        }, TimeSpan.FromSeconds(30), "the failing quota check opened no incident");
        // No rule proposes anything for a failing check without a unit: triage escalates it to a person, who proposes a fix.
        await EventuallyAsync(async () => Timeline(await MedicJson("incidents", "show", id)).Any(e => e.Kind == "escalated" && e.Message.StartsWith("triage: no rule proposes", StringComparison.Ordinal)) ? "" : null,
            TimeSpan.FromSeconds(30), "triage did not escalate the incident");

        var proposed = await Medic("incidents", "propose", id, "delete-old-files", "--param", "directory=" + quota, "--param", "days=1");
        proposed.ShouldBe($"Proposed delete-old-files v1 (medium risk) on {Host}: awaiting_approval (medium risk: an approver must agree).\nAnother approver decides: medic approvals\n");
        var approval = (await MedicJson("approvals", "--incident", id)).EnumerateArray().ShouldHaveSingleItem();
        var approvalId = approval.GetProperty("id").GetString()!;
        approval.GetProperty("requested_by").GetString().ShouldBe("user:admin");
        var shown = await Medic("approvals", "show", approvalId);
        shown.ShouldContain($"{approvalId}: delete-old-files v1 on {Host} (medium risk), pending");
        shown.ShouldContain($"param:        directory = {quota}");
        shown.ShouldContain("param:        days = 1");

        var own = await _home.RunAsync("approve", approvalId);
        own.ExitCode.ShouldNotBe(0, own.ToString());
        own.Stderr.ShouldContain("nobody approves their own request");
        own.Stderr.ShouldContain("hint: ask another approver");
        (await IncidentStatusAsync(id)).ShouldBe("awaiting_approval");
        Directory.GetFiles(quota).Length.ShouldBe(5, "nothing runs before an approver agrees");

        await AddApproverAsync("carol");
        var approved = await Medic("--context", "carol", "approve", approvalId, "--comment", "old uploads, safe to delete");
        approved.ShouldBe($"Approved {approvalId}: delete-old-files v1 runs on {Host} for incident {id}. Follow it with: medic incidents show {id}\n");

        var detail = await WaitForIncidentAsync(id, "resolved");
        detail.GetProperty("incident").GetProperty("resolution").GetString()!.ShouldStartWith("remediated by delete-old-files, verified: check uploads-quota passes again");
        Directory.GetFiles(quota).Select(Path.GetFileName).ShouldBe(["fresh.bin"]);
        (await Medic("checks", "run", "uploads-quota")).ShouldContain("pass");

        var remediation = (await MedicJson("incidents", "remediations", id)).EnumerateArray().ShouldHaveSingleItem();
        remediation.GetProperty("status").GetString().ShouldBe("succeeded");
        remediation.GetProperty("proposed_by").GetString().ShouldBe("user:admin");
        var audit = await AuditOfAsync(id);
        audit.Count(a => a.Action == "runbook.run").ShouldBe(1, "the fix runs exactly once");
        audit.ShouldContain(a => a.Action == "approval.request" && a.Actor == "user:admin");
        audit.ShouldContain(a => a.Action == "approval.approve" && a.Actor == "user:carol");
        audit.ShouldContain(a => a.Action == "runbook.run" && a.Actor == "user:carol");
        var actions = audit.Select(a => a.Action).ToList();
        actions.ShouldBe(new[]
        {
            "incident.open", "incident.escalated", "incident.triaging", "incident.recipe_proposed", "approval.request", "incident.awaiting_approval",
            "approval.approve", "incident.executing", "runbook.run", "incident.verifying", "incident.resolve",
        }, ignoreOrder: false, Describe(detail));
        var refused = (await MedicJson("audit", "list", "--actor", "user:admin", "--action", "POST /api/v1/approvals/{id}/approve")).GetProperty("items").EnumerateArray().ShouldHaveSingleItem();
        refused.GetProperty("outcome").GetString().ShouldBe("rejected", "the refused self-approval is in the audit log too");
        refused.GetProperty("target").GetString().ShouldBe($"/api/v1/approvals/{approvalId}/approve");

        // The report holds the same story: every audited step, the approval and who decided it, the run's output, the outcome.
        var report = await MedicJson("incidents", "report", id);
        // (It also has the run's own end, runbook.run.finish, whose target is the run.)
        report.GetProperty("audit").EnumerateArray().Select(a => a.GetProperty("action").GetString())
            .ShouldBe([.. actions[..9], "runbook.run.finish", .. actions[9..]], ignoreOrder: false);
        var reported = report.GetProperty("remediations").EnumerateArray().ShouldHaveSingleItem();
        var decided = reported.GetProperty("approvals").EnumerateArray().ShouldHaveSingleItem();
        (decided.GetProperty("status").GetString(), decided.GetProperty("decided_by").GetString()).ShouldBe(("approved", "user:carol"));
        reported.GetProperty("run").GetProperty("steps").GetArrayLength().ShouldBeGreaterThan(0);
        var outcome = report.GetProperty("outcome");
        (outcome.GetProperty("status").GetString(), outcome.GetProperty("final").GetBoolean()).ShouldBe(("resolved", true));
        var markdown = await Medic("incidents", "report", id);
        markdown.ShouldContain("delete-old-files");
        markdown.ShouldContain("user:carol");
    }

    // ---- 3. an approval rejected: escalated, and the on-call webhook hears it ---------------------

    [Fact]
    public async Task A_rejected_approval_escalates_the_incident_and_a_signed_webhook_reaches_a_local_receiver()
    {
        await StartUpAsync();
        using var receiver = new WebhookReceiver();
        const string secret = "e2e-signing-secret-0123456789";
        (await Medic("notify", "channels", "add", "oncall-hook", "--kind", "webhook", "--url", receiver.Url + "hooks/medic", "--secret", secret)).ShouldContain("oncall-hook");
        (await Medic("notify", "rules", "add", "escalations", "--channel", "oncall-hook", "--event", "escalated")).ShouldContain("escalated");
        await Medic("runbook", "apply", "-f", WriteFile("runbooks/restart-checkout.yaml", """
            name: e2e-restart-checkout
            version: 1
            description: Restart the checkout service.
            risk: low
            parameters:
              dir: {type: string, pattern: '/[A-Za-z0-9._/-]+', required: true}
            targets: incident
            steps:
              - name: restart it
                shell: touch "$MEDIC_PARAM_DIR/restarted"
            """));

        var created = await MedicJson("incidents", "create", "--title", "Checkout answers 502", "--server", Host, "--label", "service=checkout");
        var id = created.GetProperty("id").GetString()!;
        var proposed = await Medic("incidents", "propose", id, "e2e-restart-checkout", "--param", "dir=" + Work);
        proposed.ShouldContain("awaiting_approval (the proposing actor is supervised: an approver must agree)");
        var approvalId = (await MedicJson("approvals", "--incident", id)).EnumerateArray().ShouldHaveSingleItem().GetProperty("id").GetString()!;

        await AddApproverAsync("carol");
        var rejected = await Medic("--context", "carol", "reject", approvalId, "--reason", "the 502s come from the payment provider; a restart will not help");
        rejected.ShouldBe($"Rejected {approvalId}; incident {id} is escalated.\n");

        var detail = await WaitForIncidentAsync(id, "escalated");
        Timeline(detail).ShouldContain(e => e.Actor == "user:carol" && e.Message.Contains("the 502s come from the payment provider", StringComparison.Ordinal), Describe(detail));
        File.Exists(Path.Combine(Work, "restarted")).ShouldBeFalse("a rejected remediation never runs");
        var remediation = (await MedicJson("incidents", "remediations", id)).EnumerateArray().ShouldHaveSingleItem();
        remediation.GetProperty("status").GetString().ShouldBe("rejected");

        var request = await EventuallyAsync(() => Task.FromResult(receiver.Requests.FirstOrDefault(r => r.Headers.GetValueOrDefault("X-Medic-Event") == "escalated")),
            TimeSpan.FromSeconds(30), "no escalated notification reached the webhook receiver; it got: " + string.Join(", ", receiver.Requests.Select(r => r.Headers.GetValueOrDefault("X-Medic-Event"))));
        request.Method.ShouldBe("POST");
        request.Path.ShouldBe("/hooks/medic");
        var timestamp = request.Headers["X-Medic-Timestamp"];
        var expected = "sha256=" + Convert.ToHexStringLower(HMACSHA256.HashData(Encoding.UTF8.GetBytes(secret), Encoding.UTF8.GetBytes(timestamp + "." + request.Body)));
        request.Headers["X-Medic-Signature"].ShouldBe(expected);
        var body = JsonDocument.Parse(request.Body).RootElement;
        body.GetProperty("event").GetString().ShouldBe("escalated");
        body.GetProperty("incident").GetProperty("id").GetString().ShouldBe(id);
        body.GetProperty("incident").GetProperty("status").GetString().ShouldBe("escalated");
        var log = await Medic("notify", "log", "--incident", id);
        log.ShouldContain("escalated");
        log.ShouldContain("sent");
        receiver.Requests.Count(r => r.Headers.GetValueOrDefault("X-Medic-Event") == "escalated").ShouldBe(1);
        (await AuditOfAsync(id)).ShouldContain(a => a.Action == "approval.reject" && a.Actor == "user:carol");
    }

    // ---- 4. a step fails: rollback, escalation with the output --------------------------------

    [Fact]
    public async Task A_recipe_whose_step_fails_rolls_back_and_escalates_with_the_failing_output_on_the_timeline()
    {
        await StartUpAsync();
        await Medic("runbook", "apply", "-f", WriteFile("runbooks/write-config.yaml", """
            name: e2e-write-config
            version: 1
            description: Write the billing service's config and reload it.
            risk: low
            parameters:
              dir: {type: string, pattern: '/[A-Za-z0-9._/-]+', required: true}
            targets: incident
            steps:
              - name: write the config
                shell: |
                  echo "writing $MEDIC_PARAM_DIR/billing.conf"
                  echo "billing.conf: Read-only file system" >&2
                  exit 4
              - name: reload
                shell: touch "$MEDIC_PARAM_DIR/reloaded"
            rollback:
              - name: put the previous config back
                shell: echo restored > "$MEDIC_PARAM_DIR/rolled-back"
            """));
        await Medic("pipeline", "rules", "apply", "-f", WriteFile("billing-rules.yaml", $"""
            rules:
              - name: billing-config-drift
                match: {"{"} source: manual, labels: {"{"} service: billing {"}"} {"}"}
                recipe: e2e-write-config
                params: {"{"} dir: "{Work}" {"}"}
                trust: autonomous
            """));

        var id = (await MedicJson("incidents", "create", "--title", "Billing config drifted", "--server", Host, "--label", "service=billing")).GetProperty("id").GetString()!;
        var detail = await WaitForIncidentAsync(id, "escalated");

        File.ReadAllText(Path.Combine(Work, "rolled-back")).ShouldBe("restored\n", "the rollback step ran");
        File.Exists(Path.Combine(Work, "reloaded")).ShouldBeFalse("no step runs after the failing one");
        var timeline = Timeline(detail);
        var failed = timeline.Where(e => e.Kind == "failed").ShouldHaveSingleItem(Describe(detail));
        failed.Message.ShouldStartWith("e2e-write-config failed: step 1 'write the config' on " + Host + " failed: exit 4; rollback ran: 1 ok, 0 failed");
        failed.Data["output"].ShouldStartWith($"writing {Work}/billing.conf\n", Case.Sensitive, "the failing step's stdout");
        failed.Data["output"].ShouldEndWith("\nbilling.conf: Read-only file system", Case.Sensitive, "and its stderr");
        timeline[^1].Kind.ShouldBe("escalated");
        var remediation = (await MedicJson("incidents", "remediations", id)).EnumerateArray().ShouldHaveSingleItem();
        remediation.GetProperty("status").GetString().ShouldBe("failed");
        remediation.GetProperty("gate").GetString().ShouldBe("auto_run");
        var show = await Medic("incidents", "show", id);
        show.ShouldContain("status:      escalated");
        show.ShouldContain("escalated: e2e-write-config did not fix it; a person takes over");
    }

    // ---- 5. the server killed mid-execution ---------------------------------------------------

    [Fact]
    public async Task A_server_killed_mid_execution_carries_on_after_a_restart_and_the_fix_runs_once()
    {
        var url = $"http://127.0.0.1:{MedicHome.FreePort()}";
        await StartUpAsync(url);
        var marker = Path.Combine(Work, "fix.log");
        await Medic("runbook", "apply", "-f", WriteFile("runbooks/slow-fix.yaml", """
            name: e2e-slow-fix
            version: 1
            description: Write the fix, then let it settle.
            risk: low
            parameters:
              dir: {type: string, pattern: '/[A-Za-z0-9._/-]+', required: true}
            targets: incident
            steps:
              - name: apply the fix
                shell: echo "fixed at $(date +%s)" >> "$MEDIC_PARAM_DIR/fix.log"
              - name: let it settle
                wait: 20s
            """));
        await Medic("pipeline", "rules", "apply", "-f", WriteFile("slow-rules.yaml", $"""
            rules:
              - name: fix-missing
                match: {"{"} type: check_failed, labels: {"{"} check: fix-applied {"}"} {"}"}
                recipe: e2e-slow-fix
                params: {"{"} dir: "{Work}" {"}"}
                trust: autonomous
            """));
        await Medic("checks", "add", "fix-applied", "--server", Host, "--command", $"test -s '{marker}'", "--interval", "1d", "--failures", "1");

        // The first step has run and the run waits in its second: kill the process outright.
        var id = await EventuallyAsync(async () =>
        {
            var list = await MedicJson("incidents", "list", "--source", "check", "--status", "executing");
            return File.Exists(marker) ? list.GetProperty("items").EnumerateArray().Select(i => i.GetProperty("id").GetString()).FirstOrDefault() : null;
        }, TimeSpan.FromSeconds(60), "the remediation never started executing");
        await _server!.KillAsync();
        File.ReadAllLines(marker).Length.ShouldBe(1);

        await _server.DisposeAsync();
        _server = await RunningServer.StartOnAsync(_home, url, "up");

        // Within the wait below only because the restart frees the dead process's lease on the execute job at once (it lasts 2 minutes).
        var detail = await WaitForIncidentAsync(id, "resolved");

        File.ReadAllLines(marker).Length.ShouldBe(1, "the fix ran once, not again after the restart");
        var timeline = Timeline(detail);
        var verifying = timeline.Where(e => e.Kind == "verifying").ShouldHaveSingleItem(Describe(detail));
        verifying.Message.ShouldEndWith("was cut short when the control plane stopped; it is not run again: verification decides");
        verifying.Data["run_status"].ShouldBe("interrupted");
        timeline.Count(e => e.Kind == "remediation_started").ShouldBe(1, Describe(detail));
        detail.GetProperty("incident").GetProperty("resolution").GetString()!.ShouldStartWith("remediated by e2e-slow-fix, verified: check fix-applied passes again");
        var remediation = (await MedicJson("incidents", "remediations", id)).EnumerateArray().ShouldHaveSingleItem();
        remediation.GetProperty("status").GetString().ShouldBe("succeeded");
        (await AuditOfAsync(id)).Count(a => a.Action == "runbook.run").ShouldBe(1);
    }

    // ---- 7. an AI agent diagnoses what no rule fixes; a person approves its proposal ------------

    [Fact]
    public async Task An_incident_no_rule_fixes_is_diagnosed_by_an_AI_agent_with_real_tool_calls_and_its_proposal_is_approved_through_the_cli_and_the_bundle_shows_every_step()
    {
        await using var model = await ScriptedModelServer.StartAsync();
        await StartUpAsync();
        var quota = Directory.CreateDirectory(Path.Combine(Work, "uploads")).FullName;
        FillQuotaDirectory(quota);
        const string Key = "sk-e2e-model-key-5d1c9a";
        var secret = await _home.RunWithInputAsync(Key + "\n", "secrets", "set", "model-key");
        secret.ExitCode.ShouldBe(0, secret.ToString());
        await Medic("ai", "models", "add", "default", "--provider", "openai", "--base-url", model.BaseUrl + "/v1", "--model", "scripted-1", "--key-secret", "model-key");
        await Medic("ai", "agents", "set", "doctor", "--trust", "supervised", "--role", "diagnose",
            "--tool", "diag", "--tool", "show_recipe", "--tool", "list_recipes", "--tool", "propose_remediation", "--tool", "escalate");

        // The scripted model: look at the directory with a real verb on the real agent, read the recipe, propose it, sum up.
        model.Enqueue(ModelReply.ReplyToolCalls(("diag", new Dictionary<string, object> { ["verb"] = "disk-usage", ["args"] = new Dictionary<string, string> { ["path"] = quota, ["days"] = "1" } })));
        model.Enqueue(ModelReply.ReplyToolCalls(("show_recipe", new Dictionary<string, object> { ["name"] = "delete-old-files" })));
        model.Enqueue(ModelReply.ReplyToolCalls(("propose_remediation", new Dictionary<string, object>
        {
            ["recipe"] = "delete-old-files", ["params"] = new Dictionary<string, string> { ["directory"] = quota, ["days"] = "1" },
            ["rationale"] = "the uploads directory is over its quota with files untouched for days",
        })));
        model.Enqueue(ModelReply.ReplyText("Cause: old uploads fill the directory past its quota. Proposed delete-old-files (days=1); it waits for approval."));

        await Medic("checks", "add", "uploads-quota", "--server", Host, "--command", $"test $(du -sk '{quota}' | cut -f1) -lt 1024", "--interval", "1d", "--failures", "1");
        var id = await EventuallyAsync(async () =>
        {
            var list = await MedicJson("incidents", "list", "--source", "check");
            return list.GetProperty("items").EnumerateArray().Where(i => i.GetProperty("title").GetString() == "Check uploads-quota is failing")
                .Select(i => i.GetProperty("id").GetString()).FirstOrDefault();
        }, TimeSpan.FromSeconds(30), "the failing quota check opened no incident");

        // No triage rule fixes a failing check without a unit: the AI agent holding the diagnose role is the next rung.
        var detail = await WaitForIncidentAsync(id, "awaiting_approval");
        Directory.GetFiles(quota).Length.ShouldBe(5, "nothing runs before a person approves");
        // The run notes itself on the timeline when it ends: after the proposal the model still sums up.
        var noted = await EventuallyAsync(async () =>
        {
            var now = await WaitForIncidentAsync(id, "awaiting_approval");
            return Timeline(now).Any(e => e.Kind == "ai_run" && e.Actor == "ai:doctor") ? now.GetRawText() : null;
        }, TimeSpan.FromSeconds(60), "the AI run never noted itself on the incident's timeline");
        detail = JsonDocument.Parse(noted).RootElement.Clone();
        var events = Timeline(detail);
        events.ShouldContain(e => e.Kind == "ai_run" && e.Actor == "ai:doctor", Describe(detail));
        var approval = (await MedicJson("approvals", "--incident", id)).EnumerateArray().ShouldHaveSingleItem();
        approval.GetProperty("requested_by").GetString().ShouldBe("ai:doctor");
        var approvalId = approval.GetProperty("id").GetString()!;
        (await Medic("approvals", "show", approvalId)).ShouldContain($"param:        directory = {quota}");

        var approved = await Medic("approve", approvalId, "--comment", "the AI's diagnosis matches: old uploads");
        approved.ShouldStartWith($"Approved {approvalId}: delete-old-files v1 runs on {Host}");
        var resolved = await WaitForIncidentAsync(id, "resolved");
        resolved.GetProperty("incident").GetProperty("resolution").GetString()!.ShouldStartWith("remediated by delete-old-files, verified");
        Directory.GetFiles(quota).Select(Path.GetFileName).ShouldBe(["fresh.bin"]);

        // The run's bundle: every model turn and tool call, with the real verb's output, and the hash the audit chain holds.
        var run = (await MedicJson("ai", "runs", "list", "--incident", id)).EnumerateArray().ShouldHaveSingleItem();
        (run.GetProperty("purpose").GetString(), run.GetProperty("agent").GetString(), run.GetProperty("outcome").GetString()).ShouldBe(("diagnose", "doctor", "completed"));
        run.GetProperty("tool_calls").GetInt32().ShouldBe(3);
        var runId = run.GetProperty("id").GetString()!;
        var bundle = await MedicJson("ai", "runs", "show", runId);
        bundle.GetProperty("integrity").GetString().ShouldBe("ok");
        var steps = bundle.GetProperty("steps").EnumerateArray().Select(st => (Kind: st.GetProperty("kind").GetString(), Tool: st.GetProperty("tool").GetString(),
            Error: st.GetProperty("error").GetString(), Result: st.GetProperty("result").GetString() ?? "")).ToList();
        steps.Select(st => st.Kind + (st.Tool is null ? "" : ":" + st.Tool)).ShouldBe(
            ["model", "tool:diag", "model", "tool:show_recipe", "model", "tool:propose_remediation", "model"], ignoreOrder: false);
        steps.ShouldAllBe(st => st.Error == null);
        steps[1].Result.ShouldContain(quota, customMessage: "the diag result is the real verb's output about the directory");
        bundle.GetProperty("proposals").EnumerateArray().ShouldHaveSingleItem().GetString()!.ShouldStartWith("rem_");
        bundle.GetProperty("output").GetString()!.ShouldContain("old uploads");
        (await Medic("ai", "runs", "show", runId)).ShouldContain("matches the audit chain");
        var audited = (await MedicJson("audit", "list", "--action", "ai_run.finished")).GetProperty("items").EnumerateArray().ShouldHaveSingleItem();
        audited.GetProperty("details").GetProperty("bundle_sha256").GetString().ShouldBe(run.GetProperty("bundle_sha256").GetString());

        // What the model received: the guardrails, the incident, each tool's result; the key only as the bearer credential, never in a body.
        var requests = model.Requests;
        requests.Count.ShouldBe(4);
        requests.ShouldAllBe(r => r.HadAuth);
        requests.ShouldAllBe(r => !r.RawBody.Contains(Key));
        requests[0].RawBody.ShouldContain("You have no shell");
        requests[0].RawBody.ShouldContain(id);
        requests[1].RawBody.ShouldContain(quota);
    }

    // ---- 8. the same through MCP: an operator's own AI client diagnoses and proposes -----------

    [Fact]
    public async Task An_operators_own_AI_client_diagnoses_over_MCP_proposes_through_the_gate_a_second_person_approves_and_the_bundle_is_kept()
    {
        await StartUpAsync();
        var quota = Directory.CreateDirectory(Path.Combine(Work, "uploads")).FullName;
        FillQuotaDirectory(quota);
        await Medic("checks", "add", "uploads-quota", "--server", Host, "--command", $"test $(du -sk '{quota}' | cut -f1) -lt 1024", "--interval", "1d", "--failures", "1");
        var id = await EventuallyAsync(async () =>
        {
            var list = await MedicJson("incidents", "list", "--source", "check");
            return list.GetProperty("items").EnumerateArray().Where(i => i.GetProperty("title").GetString() == "Check uploads-quota is failing")
                .Select(i => i.GetProperty("id").GetString()).FirstOrDefault();
        }, TimeSpan.FromSeconds(30), "the failing quota check opened no incident");
        await WaitForIncidentAsync(id, "escalated");

        var created = await _home.RunAsync("tokens", "create", "--name", "my-ai-client", "--role", "admin", "--json");
        created.ExitCode.ShouldBe(0, created.ToString());
        var token = JsonDocument.Parse(created.Stdout).RootElement.GetProperty("secret").GetString()!;
        var transport = new ModelContextProtocol.Client.HttpClientTransport(new ModelContextProtocol.Client.HttpClientTransportOptions
        {
            Endpoint = new Uri(new Uri(_server!.Url), "/mcp"),
            TransportMode = ModelContextProtocol.Client.HttpTransportMode.StreamableHttp,
            AdditionalHeaders = new Dictionary<string, string> { ["Authorization"] = "Bearer " + token },
        });
        await using var client = await ModelContextProtocol.Client.McpClient.CreateAsync(transport);
        var tools = (await client.ListToolsAsync()).Select(t => t.Name).ToList();
        tools.ShouldContain("diag");
        tools.ShouldContain("propose_remediation");
        tools.ShouldNotContain("approve");

        static string Text(ModelContextProtocol.Protocol.CallToolResult r) =>
            string.Join("\n", r.Content.OfType<ModelContextProtocol.Protocol.TextContentBlock>().Select(c => c.Text));
        var usage = await client.CallToolAsync("diag", new Dictionary<string, object?> { ["verb"] = "disk-usage", ["server"] = Host, ["args"] = new Dictionary<string, string> { ["path"] = quota } });
        (usage.IsError ?? false).ShouldBeFalse(Text(usage));
        Text(usage).ShouldContain(quota);
        var shell = await client.CallToolAsync("shell", new Dictionary<string, object?> { ["command"] = "rm -rf " + quota });
        shell.IsError.ShouldBe(true);
        Text(shell).ShouldContain("tool.not_found");
        var proposed = await client.CallToolAsync("propose_remediation", new Dictionary<string, object?>
        {
            ["incident"] = id, ["recipe"] = "delete-old-files", ["params"] = new Dictionary<string, string> { ["directory"] = quota, ["days"] = "1" },
            ["rationale"] = "old uploads over the quota",
        });
        (proposed.IsError ?? false).ShouldBeFalse(Text(proposed));
        Text(proposed).ShouldContain("needs_approval");
        Directory.GetFiles(quota).Length.ShouldBe(5, "an MCP proposal faces the gate like any other");

        // The token's owner cannot approve what their own AI client proposed; a second person can.
        var approvalId = (await MedicJson("approvals", "--incident", id)).EnumerateArray().ShouldHaveSingleItem().GetProperty("id").GetString()!;
        var own = await _home.RunAsync("approve", approvalId);
        own.ExitCode.ShouldNotBe(0, own.ToString());
        own.Stderr.ShouldContain("their own AI client");
        await AddApproverAsync("carol");
        (await Medic("--context", "carol", "approve", approvalId)).ShouldStartWith($"Approved {approvalId}");
        await WaitForIncidentAsync(id, "resolved");
        Directory.GetFiles(quota).Select(Path.GetFileName).ShouldBe(["fresh.bin"]);

        // The client's calls are one MCP run bundle, saved with the proposal and hashed into the audit chain.
        var run = (await MedicJson("ai", "runs", "list", "--purpose", "mcp")).EnumerateArray().ShouldHaveSingleItem();
        run.GetProperty("tool_calls").GetInt32().ShouldBe(3);
        var bundle = await MedicJson("ai", "runs", "show", run.GetProperty("id").GetString()!);
        bundle.GetProperty("integrity").GetString().ShouldBe("ok");
        bundle.GetProperty("steps").EnumerateArray().Select(st => (st.GetProperty("tool").GetString(), st.GetProperty("error").GetString()))
            .ShouldBe([("diag", null), ("shell", "tool.not_found"), ("propose_remediation", null)], ignoreOrder: false);
        (await MedicJson("audit", "list", "--action", "mcp.tool_call")).GetProperty("items").GetArrayLength().ShouldBe(3);
    }

    // ---- 6. two instances of one program: only the broken one is restarted --------------------

    [Fact]
    public async Task Of_two_instances_of_one_program_only_the_hung_one_is_restarted_and_verified_and_a_name_alone_is_refused()
    {
        // Blue and green: one program, one instance per port, each kept running by its own supervisor loop.
        var blue = MedicHome.FreePort();
        var green = MedicHome.FreePort();
        // Their own program name (the test service sets its comm), so other tests' instances of it are not candidates.
        var program = "shop" + Random.Shared.Next(100_000, 999_999).ToString(CultureInfo.InvariantCulture);
        var blueLoop = StartInstanceLoop(blue, program);
        var greenLoop = StartInstanceLoop(green, program);
        WriteLocalMonitors($"""
            monitors:
              - name: shop-green
                kind: http
                url: http://127.0.0.1:{green}/
                interval: 1s
                timeout: 1s
                labels: {"{"} app: shop {"}"}
            """);
        await StartUpAsync();
        var rules = await Medic("pipeline", "rules", "apply", "-f", WriteFile("shop-rules.yaml", $$"""
            rules:
              - name: restart-hung-shop
                match: { type: http_check_failed, labels: { app: shop } }
                recipe: restart-process
                params: { process: {{program}} }
                trust: autonomous
            """));
        rules.ShouldStartWith("Applied 1 triage rule(s)");
        var bluePid = await InstancePidAsync(blue, null);
        var greenPid = await InstancePidAsync(green, null);

        // Green hangs: it still accepts connections and never answers. Blue is healthy (and older, so a restart by name alone would pick it).
        (await GetAsync(green, "/hang")).ShouldBe("hanging");
        var id = await EventuallyAsync(async () =>
        {
            var list = await MedicJson("incidents", "list", "--source", "agent");
            return list.GetProperty("items").EnumerateArray().Where(i => i.GetProperty("labels").GetProperty("app").GetString() == "shop")
                .Select(i => i.GetProperty("id").GetString()).FirstOrDefault();
        }, TimeSpan.FromSeconds(30), "no agent incident for the hung instance");

        var detail = await WaitForIncidentAsync(id, "resolved");
        var remediation = (await MedicJson("incidents", "remediations", id)).EnumerateArray().ShouldHaveSingleItem();
        var parameters = remediation.GetProperty("params");
        parameters.GetProperty("pid").GetString().ShouldBe(greenPid.ToString(CultureInfo.InvariantCulture), Describe(detail));
        parameters.GetProperty("port").GetString().ShouldBe(green.ToString(CultureInfo.InvariantCulture));
        detail.GetProperty("incident").GetProperty("resolution").GetString()!.ShouldContain("reports the problem over", Case.Sensitive, Describe(detail));
        Timeline(detail).ShouldContain(e => e.Kind == "recipe_proposed" && e.Data.GetValueOrDefault("target.pid") == greenPid.ToString(CultureInfo.InvariantCulture), Describe(detail));

        (await InstancePidAsync(blue, null)).ShouldBe(bluePid, "the healthy instance was not touched");
        var newGreen = await InstancePidAsync(green, greenPid);
        newGreen.ShouldNotBe(greenPid);
        (await GetAsync(green, "/")).ShouldBe("ok", "the instance the alert was about answers again");

        // A person names only the program: two instances run, so nothing is signalled and the candidates are listed.
        var manual = await MedicJson("incidents", "create", "--title", "shop is slow", "--server", Host, "--label", "process=" + program);
        var manualId = manual.GetProperty("id").GetString()!;
        var refused = await _home.RunAsync("incidents", "propose", manualId, "restart-process", "--param", "process=" + program);
        refused.ExitCode.ShouldNotBe(0, refused.ToString());
        (refused.Stdout + refused.Stderr).ShouldContain("the evidence does not say which one is broken", Case.Sensitive, refused.ToString());
        (refused.Stdout + refused.Stderr).ShouldContain($"2 processes on {Host} match name={program}", Case.Sensitive, refused.ToString());
        (refused.Stdout + refused.Stderr).ShouldContain($"pid {bluePid} ({program}", Case.Sensitive, refused.ToString());
        (refused.Stdout + refused.Stderr).ShouldContain($"pid {newGreen} ({program}", Case.Sensitive, refused.ToString());
        (refused.Stdout + refused.Stderr).ShouldContain($"medic incidents propose {manualId} restart-process --param pid=N", Case.Sensitive, refused.ToString());
        (await InstancePidAsync(blue, null)).ShouldBe(bluePid);
        (await InstancePidAsync(green, null)).ShouldBe(newGreen);
        _loops.Add(blueLoop);
        _loops.Add(greenLoop);
    }

    // ---- helpers --------------------------------------------------------------------------

    private async Task StartUpAsync(string? url = null)
    {
        _server = url is null ? await RunningServer.StartAsync(_home, "up") : await RunningServer.StartOnAsync(_home, url, "up");
        await _home.WaitForStatusAsync(Host, "online", TimeSpan.FromSeconds(30));
    }

    /// <summary>Monitors for <c>medic up</c>'s own agent: <c>monitors.yaml</c> in its data directory, read when it starts.</summary>
    private void WriteLocalMonitors(string yaml)
    {
        var dataDir = Path.Combine(_home.Home, ".medic");
        Directory.CreateDirectory(dataDir, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        File.WriteAllText(Path.Combine(dataDir, "monitors.yaml"), yaml);
    }

    private string WriteFile(string relative, string text)
    {
        var path = Path.Combine(Work, relative);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllText(path, text);
        return path;
    }

    /// <summary>Four 512 KiB files last written ten days ago and a fresh small one: 2 MiB against a 1 MiB budget.</summary>
    private static void FillQuotaDirectory(string dir)
    {
        var block = new byte[512 * 1024];
        Random.Shared.NextBytes(block);
        for (var i = 1; i <= 4; i++)
        {
            var path = Path.Combine(dir, $"upload-{i}.bin");
            File.WriteAllBytes(path, block);
            File.SetLastWriteTimeUtc(path, DateTime.UtcNow.AddDays(-10));
        }

        File.WriteAllBytes(Path.Combine(dir, "fresh.bin"), new byte[8 * 1024]);
    }

    /// <summary>Adds a user with the approver role and logs the CLI in as them (context NAME), leaving the admin's context current.</summary>
    private async Task AddApproverAsync(string name)
    {
        const string password = "correct horse battery staple";
        var added = await _home.RunWithInputAsync(password + "\n", "users", "add", name, "--role", "approver", "--password-stdin");
        added.ExitCode.ShouldBe(0, added.ToString());
        var login = await _home.RunWithInputAsync(password + "\n", "login", "--server", _server!.Url, "--user", name, "--password-stdin", "--name", name);
        login.ExitCode.ShouldBe(0, login.ToString());
        await Medic("context", "use", "local");
    }

    private readonly List<Process> _loops = [];

    /// <summary>A shell loop that keeps one medic-test-http instance on <paramref name="port"/> running, the way a supervisor would.</summary>
    private Process StartInstanceLoop(int port, string program)
    {
        var dotnet = Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host ? host : "dotnet";
        var dll = Path.Combine(AppContext.BaseDirectory, "medic-test-http.dll");
        var loop = Process.Start(new ProcessStartInfo("setsid", ["sh", "-c", $"while :; do '{dotnet}' '{dll}' --port {port} --name {program}; sleep 0.2; done"])
        {
            UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true,
        })!;
        loop.OutputDataReceived += (_, _) => { };
        loop.ErrorDataReceived += (_, _) => { };
        loop.BeginOutputReadLine();
        loop.BeginErrorReadLine();
        _loops.Add(loop);
        return loop;
    }

    private static async Task<string?> GetAsync(int port, string path)
    {
        using var client = new HttpClient { Timeout = TimeSpan.FromSeconds(2) };
        try
        {
            return await client.GetStringAsync($"http://127.0.0.1:{port}{path}");
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
        {
            return null;
        }
    }

    /// <summary>The pid of the instance answering on <paramref name="port"/> (another than <paramref name="not"/>).</summary>
    private async Task<int> InstancePidAsync(int port, int? not)
    {
        var pid = await EventuallyAsync(async () => await GetAsync(port, "/pid") is { } text && int.Parse(text, CultureInfo.InvariantCulture) != not ? text : null,
            TimeSpan.FromSeconds(60), $"no instance answers on port {port}");
        return int.Parse(pid, CultureInfo.InvariantCulture);
    }

    private async Task<string> Medic(params string[] args)
    {
        var run = await _home.RunAsync(args);
        run.ExitCode.ShouldBe(0, $"medic {string.Join(' ', args)}\n{run}");
        return run.Stdout;
    }

    private async Task<JsonElement> MedicJson(params string[] args) => JsonDocument.Parse(await Medic([.. args, "--json"])).RootElement.Clone();

    private async Task<string> IncidentStatusAsync(string id) =>
        (await MedicJson("incidents", "show", id)).GetProperty("incident").GetProperty("status").GetString()!;

    /// <summary>Polls <c>medic incidents show</c> until the incident is <paramref name="status"/>; fails at once when it settles the other way.</summary>
    private async Task<JsonElement> WaitForIncidentAsync(string id, string status)
    {
        var watch = Stopwatch.StartNew();
        JsonElement last = default;
        while (watch.Elapsed < PipelineTimeout)
        {
            var run = await _home.RunAsync("incidents", "show", id, "--json");
            if (run.ExitCode == 0)
            {
                last = JsonDocument.Parse(run.Stdout).RootElement.Clone();
                var now = last.GetProperty("incident").GetProperty("status").GetString();
                if (now == status) return last;
                if (now is "resolved" or "escalated") throw new ShouldAssertException($"incident {id} ended {now}, not {status}:\n{Describe(last)}\n{ServerOutput()}");
            }

            await Task.Delay(250);
        }

        throw new TimeoutException($"incident {id} was not {status} within {PipelineTimeout.TotalSeconds:0} s:\n{(last.ValueKind == JsonValueKind.Undefined ? "never shown" : Describe(last))}\n{ServerOutput()}");
    }

    private async Task<T> EventuallyAsync<T>(Func<Task<T?>> probe, TimeSpan timeout, string what)
        where T : class
    {
        var watch = Stopwatch.StartNew();
        while (watch.Elapsed < timeout)
        {
            if (await probe() is { } value) return value;
            await Task.Delay(250);
        }

        throw new TimeoutException($"{what} (waited {timeout.TotalSeconds:0} s)\n{ServerOutput()}");
    }

    private string ServerOutput() => _server is null ? "" : "--- medic up output\n" + _server.Stdout + _server.Stderr;

    private sealed record TimelineEvent(string Kind, string Actor, string Message, IReadOnlyDictionary<string, string> Data);

    private static List<TimelineEvent> Timeline(JsonElement detail) => detail.GetProperty("timeline").EnumerateArray().Select(e => new TimelineEvent(
        e.GetProperty("kind").GetString()!, e.GetProperty("actor").GetString()!, e.GetProperty("message").GetString()!,
        e.TryGetProperty("data", out var data) && data.ValueKind == JsonValueKind.Object
            ? data.EnumerateObject().ToDictionary(p => p.Name, p => p.Value.GetString()!)
            : new Dictionary<string, string>())).ToList();

    private static string Describe(JsonElement detail)
    {
        var i = detail.GetProperty("incident");
        var text = new StringBuilder($"{i.GetProperty("id").GetString()} ({i.GetProperty("status").GetString()}) timeline:\n");
        foreach (var e in Timeline(detail)) text.Append("  ").Append(e.Kind).Append(" by ").Append(e.Actor).Append(": ").AppendLine(e.Message);
        return text.ToString();
    }

    private sealed record AuditItem(string Action, string Actor);

    /// <summary>The audit entries about an incident, oldest first: its own transitions, and what names it (approvals, runs).</summary>
    private async Task<List<AuditItem>> AuditOfAsync(string incidentId)
    {
        var items = (await MedicJson("audit", "list", "--limit", "500")).GetProperty("items").EnumerateArray()
            .Where(a => a.GetProperty("target").GetString() == "incident:" + incidentId
                        || (a.GetProperty("details").TryGetProperty("incident", out var i) && i.GetString() == incidentId))
            .OrderBy(a => a.GetProperty("seq").GetInt64())
            .Select(a => new AuditItem(a.GetProperty("action").GetString()!, a.GetProperty("actor").GetString()!)).ToList();
        return items;
    }

    /// <summary>The pid the service wrote once it runs with its config (another than <paramref name="not"/>), alive.</summary>
    private async Task<int> ServicePidAsync(int? not)
    {
        var pidFile = Path.Combine(Work, "crashy.pid");
        var pid = await EventuallyAsync(() =>
        {
            var text = File.Exists(pidFile) ? File.ReadAllText(pidFile).Trim() : "";
            return Task.FromResult(int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var p) && p != not && IsOurService(p) ? text : null);
        }, TimeSpan.FromSeconds(30), "the service is not running");
        return int.Parse(pid, CultureInfo.InvariantCulture);
    }

    private bool IsOurService(int pid)
    {
        try
        {
            return File.ReadAllText($"/proc/{pid}/cmdline").Replace('\0', ' ').Contains(Path.Combine(Work, "crashy.sh"), StringComparison.Ordinal);
        }
        catch (IOException)
        {
            return false;
        }
    }

    private static void Kill(int pid)
    {
        using var kill = Process.Start("kill", ["-KILL", pid.ToString(CultureInfo.InvariantCulture)])!;
        kill.WaitForExit();
    }

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        if (_server is not null) await _server.DisposeAsync();
        foreach (var loop in _loops.Distinct())
        {
            // The loop and the instance it started share the loop's session (setsid): kill them as one group.
            using (var kill = Process.Start("kill", ["-KILL", "--", "-" + loop.Id.ToString(CultureInfo.InvariantCulture)])!) kill.WaitForExit();
            loop.Dispose();
        }

        // A recipe started the service outside the agent's process tree: stop it by the pid it wrote.
        var pidFile = Path.Combine(Work, "crashy.pid");
        if (File.Exists(pidFile) && int.TryParse(File.ReadAllText(pidFile).Trim(), CultureInfo.InvariantCulture, out var pid) && IsOurService(pid)) Kill(pid);
        _home.Dispose();
        try
        {
            _work.Delete(recursive: true);
        }
        catch (IOException)
        {
        }
    }
}

/// <summary>An HTTP receiver on a free loopback port: records every request and answers 204.</summary>
public sealed class WebhookReceiver : IDisposable
{
    private readonly System.Net.HttpListener _listener = new();
    private readonly System.Collections.Concurrent.ConcurrentQueue<ReceivedRequest> _requests = new();

    public WebhookReceiver()
    {
        Url = $"http://127.0.0.1:{MedicHome.FreePort()}/";
        _listener.Prefixes.Add(Url);
        _listener.Start();
        _ = ServeAsync();
    }

    public string Url { get; }

    public IReadOnlyList<ReceivedRequest> Requests => [.. _requests];

    public sealed record ReceivedRequest(string Method, string Path, Dictionary<string, string> Headers, string Body);

    private async Task ServeAsync()
    {
        while (_listener.IsListening)
        {
            System.Net.HttpListenerContext context;
            try
            {
                context = await _listener.GetContextAsync();
            }
            catch (Exception e) when (e is System.Net.HttpListenerException or ObjectDisposedException or InvalidOperationException)
            {
                return;
            }

            using (var reader = new StreamReader(context.Request.InputStream, Encoding.UTF8))
            {
                var headers = context.Request.Headers.AllKeys.Where(k => k is not null).ToDictionary(k => k!, k => context.Request.Headers[k]!, StringComparer.OrdinalIgnoreCase);
                _requests.Enqueue(new ReceivedRequest(context.Request.HttpMethod, context.Request.Url!.AbsolutePath, headers, await reader.ReadToEndAsync()));
            }

            context.Response.StatusCode = 204;
            context.Response.Close();
        }
    }

    public void Dispose() => _listener.Close();
}
