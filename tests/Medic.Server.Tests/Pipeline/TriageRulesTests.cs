using Medic.Contracts;
using Medic.Server.Pipeline;
using Medic.Server.Runbooks;

namespace Medic.Server.Tests.Pipeline;

/// <summary>Triage without an LLM: the first matching rule proposes its recipe, with parameters taken whole from the incident.</summary>
public sealed class TriageRulesTests
{
    private const string Rules = """
        rules:
          - name: restart-crashed-unit
            match:
              type: service_down
              labels: { monitor_kind: process }
            recipe: restart-service
            params:
              unit: ${{ labels.unit }}
            trust: autonomous
          - name: clean-full-disk
            match: { type: disk_full }
            recipe: delete-old-files
            params:
              path: /var/log/myapp
              days: "14"
          - name: any-alertmanager-service
            match: { source: alertmanager, labels: { alertname: ServiceDown } }
            recipe: restart-service
            params: { unit: "${{ labels.service }}", server: "${{server}}" }
        """;

    private static IncidentResponse Incident(string type, string source, Dictionary<string, string> labels, string? server = "web-1") =>
        new("inc_1", IncidentStatus.Open, "critical", source, type, "t", null, "nod_1", server, "fp", labels, new Dictionary<string, string> { ["pid"] = "42" }, 1, 1, 1, false,
            DateTimeOffset.UnixEpoch, DateTimeOffset.UnixEpoch, null, null, null, null);

    [Fact]
    public void Rules_written_with_the_runbook_reference_syntax_carry_no_warning()
    {
        TriageRules.Parse(Rules, "triage.yaml").ShouldAllBe(r => r.Warnings.Count == 0);
    }

    [Fact]
    public void A_rule_with_the_old_reference_syntax_still_works_and_warns_with_the_new_form()
    {
        var rules = TriageRules.Parse("""
            rules:
              - name: old-style
                match: { type: service_down }
                recipe: restart-service
                params: { unit: "${labels.unit}", server: "${server}" }
                diagnose:
                  - { verb: journal, args: { unit: "${evidence.unit}" } }
            """, "triage.yaml");

        var proposal = TriageRules.Propose(rules, Incident("service_down", "agent", new() { ["unit"] = "nginx" }))!;

        proposal.Parameters.ShouldBe(new Dictionary<string, string> { ["unit"] = "nginx", ["server"] = "web-1" });
        rules.Single().Warnings.ShouldBe([
            "rule 'old-style', param 'unit': '${labels.unit}' is the old reference syntax; write '${{ labels.unit }}' (it is still read for now)",
            "rule 'old-style', param 'server': '${server}' is the old reference syntax; write '${{ server }}' (it is still read for now)",
            "rule 'old-style', diagnosis journal, arg 'unit': '${evidence.unit}' is the old reference syntax; write '${{ evidence.unit }}' (it is still read for now)",
        ]);
    }

    [Theory]
    [InlineData("${{ labels.unit }")]
    [InlineData("${ labels.unit }}")]
    [InlineData("${{ labels.unit }} x")]
    public void A_half_written_reference_is_refused(string value)
    {
        var error = Should.Throw<TriageRuleException>(() => TriageRules.Parse($"rules:\n  - name: a\n    match: {{ type: x }}\n    recipe: r\n    params: {{ unit: \"{value}\" }}\n", "t.yaml"));

        error.Message.ShouldContain("must be a literal or exactly one reference such as ${{ labels.unit }}");
    }

    [Fact]
    public void The_first_matching_rule_proposes_its_recipe_with_values_from_the_incident()
    {
        var rules = TriageRules.Parse(Rules, "triage.yaml");

        var proposal = TriageRules.Propose(rules, Incident("service_down", "agent", new() { ["monitor_kind"] = "process", ["unit"] = "nginx" }))!;

        (proposal.Rule, proposal.Recipe, proposal.Trust).ShouldBe(("restart-crashed-unit", "restart-service", Trust.Autonomous));
        proposal.Diagnose.ShouldBeEmpty();
        proposal.Parameters.ShouldBe(new Dictionary<string, string> { ["unit"] = "nginx" });
    }

    [Fact]
    public void A_rule_whose_reference_is_missing_is_skipped_for_the_next_and_nothing_matching_proposes_nothing()
    {
        var rules = TriageRules.Parse(Rules, "triage.yaml");

        TriageRules.Propose(rules, Incident("service_down", "agent", new() { ["monitor_kind"] = "process" })).ShouldBeNull();
        var am = TriageRules.Propose(rules, Incident("alert", "alertmanager", new() { ["alertname"] = "ServiceDown", ["service"] = "redis" }))!;
        am.Parameters.ShouldBe(new Dictionary<string, string> { ["unit"] = "redis", ["server"] = "web-1" });
        am.Trust.ShouldBe(Trust.Supervised);
        TriageRules.Propose(rules, Incident("cpu_high", "agent", [])).ShouldBeNull();
        TriageRules.Propose(rules, Incident("disk_full", "agent", []))!.Parameters["days"].ShouldBe("14");
    }

    [Fact]
    public void A_value_from_the_incident_is_passed_whole_never_spliced()
    {
        var rules = TriageRules.Parse(Rules, "triage.yaml");

        var proposal = TriageRules.Propose(rules, Incident("service_down", "agent", new() { ["monitor_kind"] = "process", ["unit"] = "nginx; rm -rf /" }))!;

        proposal.Parameters["unit"].ShouldBe("nginx; rm -rf /", "the recipe's parameter schema refuses it before anything runs");
    }

    [Theory]
    [InlineData("rules:\n  - name: a\n    recipe: r\n", "line 2, column 5: rule 'a' matches everything")]
    [InlineData("rules:\n  - name: a\n    match: { type: x }\n", "line 2, column 5: rule 'a' names no recipe")]
    [InlineData("rules:\n  - name: a\n    match: { type: x }\n    recipe: r\n    colour: red\n", "line 5, column 5: unknown rule key 'colour'")]
    [InlineData("rules:\n  - name: a\n    match: { kind: x }\n    recipe: r\n", "line 3, column 14: unknown match key 'kind'")]
    [InlineData("rules:\n  - name: a\n    match: { type: x }\n    recipe: r\n    trust: total\n", "line 5, column 12: trust 'total' is not autonomous")]
    [InlineData("rules:\n  - name: a\n    match: { type: x }\n    recipe: r\n    params: { unit: \"svc-${labels.unit}\" }\n", "must be a literal or exactly one reference")]
    [InlineData("rules:\n  - name: a\n    match: { type: x\n", "line 4, column 1")]
    [InlineData("rules:\n  - { name: a, match: { type: x }, recipe: r }\n  - { name: a, match: { type: y }, recipe: r }\n", "two rules are named 'a'")]
    public void Bad_rules_are_refused_with_line_and_column(string yaml, string expected) =>
        Should.Throw<TriageRuleException>(() => TriageRules.Parse(yaml, "triage.yaml")).Message.ShouldContain(expected);

    [Fact]
    public void Every_built_in_rule_names_a_library_recipe_whose_parameter_schema_accepts_what_the_rule_passes()
    {
        var library = Medic.Server.Runbooks.RunbookLibrary.Load().ToDictionary(r => r.Runbook.Name, r => r.Runbook);
        var rules = TriageStep.Rules(null).Select(r => r.Rule).ToList();
        rules.Count.ShouldBeGreaterThan(5);
        foreach (var rule in rules)
        {
            library.ShouldContainKey(rule.Recipe, $"rule {rule.Name}");
            var runbook = library[rule.Recipe];
            foreach (var name in rule.Parameters.Keys) runbook.Parameter(name).ShouldNotBeNull($"rule {rule.Name} passes '{name}', which {rule.Recipe} does not take");

            // Autonomous trust only makes sense for a low recipe: the gate would make anything else wait anyway.
            if (rule.Trust == Trust.Autonomous) runbook.Risk.ShouldBe(Risk.Low, $"rule {rule.Name}");
        }

        // A systemd process monitor's incident: the unit is in the evidence.
        var unitDown = new IncidentResponse("inc_2", IncidentStatus.Open, "critical", "agent", "service_down", "nginx is down", null, "nod_1", "web-1", "fp",
            new Dictionary<string, string> { ["monitor"] = "nginx" }, new Dictionary<string, string> { ["unit"] = "nginx.service" }, 1, 1, 1, false,
            DateTimeOffset.UnixEpoch, DateTimeOffset.UnixEpoch, null, null, null, null);
        var proposal = TriageRules.Propose(rules, unitDown)!;
        (proposal.Rule, proposal.Recipe, proposal.Parameters["unit"], proposal.Trust).ShouldBe(("restart-failed-unit", "restart-service", "nginx.service", Trust.Autonomous));
        var (_, errors) = Medic.Server.Runbooks.ParameterValues.Bind(library["restart-service"], proposal.Parameters);
        errors.ShouldBeEmpty();

        // Nothing built in matches a plain alert: it stays with a person.
        TriageRules.Propose(rules, unitDown with { Type = "alert", Evidence = null }).ShouldBeNull();
    }

    [Theory]
    [InlineData("process_runaway", "shop.service", "restart-service-of-runaway-process", "restart-service-of-process")]
    [InlineData("process_runaway", null, "stop-runaway-process", "kill-process")]
    [InlineData("process_leaking", "shop.service", "restart-service-of-leaking-process", "restart-service-of-process")]
    [InlineData("process_leaking", null, "kill-leaking-process", "kill-process")]
    public void A_runaway_or_leaking_process_gets_its_units_restart_when_the_evidence_names_one_else_a_recipe_for_the_pid(string type, string? unit, string rule, string recipe)
    {
        var library = Medic.Server.Runbooks.RunbookLibrary.Load().ToDictionary(r => r.Runbook.Name, r => r.Runbook);
        var rules = TriageStep.Rules(null).Select(r => r.Rule).ToList();
        // What the agent's process limits (or its cpu/memory monitor) report about the process.
        var evidence = new Dictionary<string, string> { ["pid"] = "4242", ["process"] = "java", ["user"] = "shop", ["cmdline"] = "java -jar /srv/shop/shop.jar", ["cpu_percent"] = "198.5" };
        if (unit is not null) evidence["unit"] = unit;
        var incident = new IncidentResponse("inc_3", IncidentStatus.Open, "critical", "agent", type, "shop: CPU 198.5%", null, "nod_1", "web-1", "fp",
            new Dictionary<string, string> { ["monitor"] = "shop" }, evidence, 1, 1, 1, false,
            DateTimeOffset.UnixEpoch, DateTimeOffset.UnixEpoch, null, null, null, null);

        var proposal = TriageRules.Propose(rules, incident)!;

        (proposal.Rule, proposal.Recipe, proposal.Trust).ShouldBe((rule, recipe, Trust.Supervised));
        proposal.Parameters["pid"].ShouldBe("4242");
        proposal.Parameters["process"].ShouldBe("java");
        if (unit is not null) proposal.Parameters["unit"].ShouldBe(unit);
        proposal.Because!.ShouldContain("pid 4242 (java, user shop)", customMessage: "the rationale names the process and its owner");
        proposal.Because.ShouldEndWith(": java -jar /srv/shop/shop.jar", customMessage: "and its command line");
        library[recipe].Risk.ShouldBe(Risk.Medium, "a runaway process gets a medium-risk recipe: a person approves it");
        var (_, errors) = Medic.Server.Runbooks.ParameterValues.Bind(library[recipe], proposal.Parameters);
        errors.ShouldBeEmpty();

        // Without a pid nothing is proposed: no recipe can act on a process the evidence does not name.
        evidence.Remove("pid");
        TriageRules.Propose(rules, incident with { Evidence = evidence }).ShouldBeNull();
    }

    [Theory]
    [InlineData("diagnose: {verb: disk}", "'diagnose' is a list of {verb, args}")]
    [InlineData("diagnose: [{verb: 'rm -rf'}]", "names a diagnostic verb")]
    [InlineData("diagnose: [{verb: disk, sudo: true}]", "unknown diagnosis key 'sudo' (known: verb, args)")]
    [InlineData("diagnose: [{verb: journal, args: {unit: 'x-${labels.unit}'}}]", "must be a literal or exactly one reference")]
    public void A_bad_diagnosis_is_refused_with_its_line_and_column(string diagnose, string message)
    {
        var yaml = "rules:\n  - name: r\n    match: {type: disk_full}\n    recipe: vacuum-journal\n    " + diagnose + "\n";
        var ex = Should.Throw<TriageRuleException>(() => TriageRules.Parse(yaml, "rules.yaml"));
        ex.Message.ShouldStartWith("rules.yaml, line ");
        ex.Message.ShouldContain(message);
    }

    [Fact]
    public void Rules_for_one_type_choose_by_what_the_diagnosis_found_and_say_why()
    {
        var rules = TriageRules.Parse("""
            rules:
              - name: vacuum-when-journal
                match: { type: disk_full, evidence: { cause: journal } }
                recipe: vacuum-journal
                diagnose: [{ verb: disk-usage, args: { path: "${{ evidence.mount }}" } }]
              - name: old-backups
                match: { type: disk_full, evidence: { cause: old_files } }
                recipe: delete-old-files
                params: { directory: "${{ evidence.directory }}", days: "${{ evidence.age_days }}" }
                because: "${{ evidence.directory }} holds ${{ evidence.files }} files older than ${{ evidence.age_days }} days on ${{ server }}"
                diagnose: [{ verb: disk-usage, args: { path: "${{ evidence.mount }}" } }]
              - name: anything-found
                match: { type: disk_full, evidence: { cause: "*" } }
                recipe: delete-old-files
                params: { directory: /srv/tmp }
            """, "rules.yaml");
        var incident = Incident("disk_full", "agent", []) with { Evidence = new Dictionary<string, string> { ["mount"] = "/srv" } };

        // The diagnosis resolves its references against the incident before anything is found.
        TriageRules.Diagnosis(rules[0], incident, incident.Evidence!).ShouldHaveSingleItem().Args["path"].ShouldBe("/srv");

        var findings = TriageRules.Findings("""
            /srv is 97% full; the bulk is 143 files older than 30 days under /srv/backups
            finding cause=old_files
            finding directory=/srv/backups
            finding files=143
            finding age_days=30
            a line that only looks like one: finding Cause=journal
            """);
        findings.ShouldBe(new Dictionary<string, string> { ["cause"] = "old_files", ["directory"] = "/srv/backups", ["files"] = "143", ["age_days"] = "30" });
        var evidence = new Dictionary<string, string>(incident.Evidence!);
        foreach (var (k, v) in findings) evidence[k] = v;

        TriageRules.Complete(rules[0], incident, evidence, []).ShouldBeNull("the journal rule does not apply to a disk full of backups");
        var proposal = TriageRules.Complete(rules[1], incident, evidence, [])!;
        proposal.Parameters.ShouldBe(new Dictionary<string, string> { ["directory"] = "/srv/backups", ["days"] = "30" });
        proposal.Because.ShouldBe("/srv/backups holds 143 files older than 30 days on web-1");

        // Without the diagnosis nothing is known: no rule applies rather than the wrong recipe.
        TriageRules.Propose(rules, incident).ShouldBeNull();
        TriageRules.Complete(rules[2], incident, evidence, []).ShouldNotBeNull("'*' holds for any value");
    }

    [Fact]
    public void An_unknown_match_key_names_evidence_among_the_known_ones()
    {
        var ex = Should.Throw<TriageRuleException>(() => TriageRules.Parse("rules:\n  - name: r\n    match: {type: disk_full, findings: {cause: journal}}\n    recipe: vacuum-journal\n", "rules.yaml"));
        ex.Message.ShouldContain("unknown match key 'findings' (known: type, source, labels, evidence)");
    }
}
