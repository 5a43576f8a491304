using Medic.Server.Pipeline;
using Medic.Server.Runbooks;

namespace Medic.Server.Tests.Runbooks;

public sealed class RunbookParserTests
{
    private const string Minimal = """
        name: restart-web
        version: 2
        description: Restart the web service.
        risk: medium
        remediates:
          types: [service_down]
          labels: {unit: nginx}
        parameters:
          unit:
            type: string
            pattern: '[a-z0-9.-]+'
            default: nginx
          attempts:
            type: int
            min: 1
            max: 5
            default: 3
          mode:
            type: enum
            values: [soft, hard]
            default: soft
          force:
            type: bool
            default: 'false'
        targets:
          tags: {role: web}
        steps:
          - name: status before
            run: [systemctl, status, '${{ params.unit }}']
            capture: before
            timeout: 30s
          - name: restart
            service: {action: restart, unit: '${{ params.unit }}'}
            when: params.mode == 'hard' or params.force
          - shell: echo "$MEDIC_PARAM_UNIT"
            env: {LANG: C, WHAT: '${{ captures.before }}'}
            continue_on_error: true
          - diag: service-status
            args: {unit: '${{ unit }}'}
          - http: {url: 'http://127.0.0.1:8080/health?u=${{ params.unit }}', expect: {status: 200, body: ok}}
          - check:
              run: [systemctl, is-active, '${{ params.unit }}']
              retries: 3
              delay: 1s
          - approval: Restart ${{ params.unit }}?
          - notify: restarted ${{ params.unit }}
          - wait: 5s
        rollback:
          - notify: rolled back after ${{ captures.before }}
        """;

    private static IReadOnlyList<RunbookError> Errors(string yaml)
    {
        var result = RunbookParser.Parse(yaml);
        result.Ok.ShouldBeFalse("the runbook should have been refused");
        return result.Errors;
    }

    private static string Steps(string steps, string parameters = "") => $"""
        name: t
        version: 1
        risk: low
        {parameters}
        steps:
        {steps}
        """;

    [Fact]
    public void A_complete_runbook_parses_into_its_parts()
    {
        var result = RunbookParser.Parse(Minimal);

        result.Errors.ShouldBeEmpty();
        var r = result.Runbook!;
        (r.Name, r.Version, r.Risk, r.Description).ShouldBe(("restart-web", 2, Risk.Medium, "Restart the web service."));
        r.Remediates.Matches("service_down", new Dictionary<string, string> { ["unit"] = "nginx", ["x"] = "y" }).ShouldBeTrue();
        r.Remediates.Matches("service_down", new Dictionary<string, string> { ["unit"] = "apache" }).ShouldBeFalse();
        r.Parameters.Select(p => (p.Name, p.Type)).ShouldBe([("unit", ParameterType.String), ("attempts", ParameterType.Int), ("mode", ParameterType.Enum), ("force", ParameterType.Bool)]);
        r.Targets.Selector!.Tags!["role"].ShouldBe("web");
        r.Steps.Select(s => s.Type).ShouldBe(["run", "service", "shell", "diag", "http", "check", "approval", "notify", "wait"]);
        r.Steps[0].Argv![2].Ref.ShouldBe(new ValueRef(RefScope.Params, "unit"));
        r.Steps[0].Capture.ShouldBe("before");
        r.Steps[0].Timeout.ShouldBe(TimeSpan.FromSeconds(30));
        r.Steps[2].ContinueOnError.ShouldBeTrue();
        r.Steps[2].Env["WHAT"].Ref.ShouldBe(new ValueRef(RefScope.Captures, "before"));
        r.Steps[3].Args!["unit"].Ref.ShouldBe(new ValueRef(RefScope.Params, "unit"));
        r.Steps[5].Check!.Retries.ShouldBe(3);
        r.Steps[8].Wait.ShouldBe(TimeSpan.FromSeconds(5));
        r.Rollback.Single().Kind.ShouldBe(StepKind.Notify);
        r.Steps[1].Line.ShouldBe(32);
    }

    [Fact]
    public void Every_library_runbook_is_valid_and_named_after_its_file_with_a_verification_check()
    {
        var files = RunbookLibrary.Files();

        files.Count.ShouldBeGreaterThanOrEqualTo(12);
        foreach (var (file, yaml) in files)
        {
            var result = RunbookParser.Parse(yaml);
            result.Errors.ShouldBeEmpty(file);
            result.Runbook!.Name.ShouldBe(Path.GetFileNameWithoutExtension(file));
            result.Runbook.Steps.ShouldContain(s => s.Kind == StepKind.Check, $"{file} has no check step");
            result.Runbook.Targets.Incident.ShouldBeTrue(file);
        }

        var risks = RunbookLibrary.Load().ToDictionary(l => l.Runbook.Name, l => l.Runbook.Risk);
        risks["restart-service"].ShouldBe(Risk.Low);
        risks["restart-process"].ShouldBe(Risk.Low);
        risks["restart-docker-container"].ShouldBe(Risk.Low);
        foreach (var medium in new[] { "clean-package-caches", "vacuum-journal", "rotate-large-logs", "delete-old-files", "kill-process", "free-tmp-inodes", "renew-certificate",
                     "delete-rotated-logs", "release-deleted-files", "remove-stale-lock", "renice-process", "restart-service-of-process" })
        {
            risks[medium].ShouldBe(Risk.Medium, medium);
        }

        risks["truncate-deleted-files"].ShouldBe(Risk.High);
        risks["free-port"].ShouldBe(Risk.High);

        risks["apply-security-updates"].ShouldBe(Risk.High);
        risks["reboot"].ShouldBe(Risk.High);
    }

    [Theory]
    [InlineData("/")]
    [InlineData("//")]
    [InlineData("/etc")]
    [InlineData("/etc/ssl")]
    [InlineData("/usr/lib")]
    [InlineData("/var")]
    [InlineData("/var/")]
    [InlineData("/home")]
    [InlineData("/proc/1")]
    [InlineData("/tmp/../etc")]
    [InlineData("/tmp/./x")]
    [InlineData("relative/dir")]
    [InlineData("/tmp/x; rm -rf /")]
    [InlineData("/tmp/$(reboot)")]
    public void Delete_old_files_refuses_the_root_and_system_directories(string directory)
    {
        var runbook = RunbookLibrary.Load().Single(l => l.Runbook.Name == "delete-old-files").Runbook;

        var (_, errors) = ParameterValues.Bind(runbook, new Dictionary<string, string> { ["directory"] = directory });

        errors.Keys.ShouldContain("directory");
    }

    [Theory]
    [InlineData("/tmp")]
    [InlineData("/tmp/medic-test-1")]
    [InlineData("/var/backups/app")]
    [InlineData("/var/log/myapp/")]
    [InlineData("/home/ann/downloads")]
    [InlineData("/srv/data/exports")]
    public void Delete_old_files_accepts_a_directory_of_data(string directory)
    {
        var runbook = RunbookLibrary.Load().Single(l => l.Runbook.Name == "delete-old-files").Runbook;

        var (values, errors) = ParameterValues.Bind(runbook, new Dictionary<string, string> { ["directory"] = directory });

        errors.ShouldBeEmpty();
        values["directory"].ShouldBe(directory);
        values["days"].ShouldBe("14");
    }

    [Theory]
    [InlineData("remove-stale-lock", "path", "/run/app/app.pid", true)]
    [InlineData("remove-stale-lock", "path", "/var/lib/app/LOCK", true)]
    [InlineData("remove-stale-lock", "path", "/tmp/.X0-lock", false)]
    [InlineData("remove-stale-lock", "path", "/etc/passwd", false)]
    [InlineData("remove-stale-lock", "path", "/usr/lib/x.lock", false)]
    [InlineData("remove-stale-lock", "path", "/srv/app/../data.pid", false)]
    [InlineData("delete-rotated-logs", "directory", "/var/log", true)]
    [InlineData("delete-rotated-logs", "directory", "/srv/app/logs/", true)]
    [InlineData("delete-rotated-logs", "directory", "/srv/data", false)]
    [InlineData("delete-rotated-logs", "directory", "/usr/share/log", false)]
    [InlineData("free-tmp-inodes", "directory", "/var/spool/app", true)]
    [InlineData("free-tmp-inodes", "directory", "/var", false)]
    public void The_new_recipes_accept_only_the_files_they_are_for(string recipe, string parameter, string value, bool accepted)
    {
        var runbook = RunbookLibrary.Load().Single(l => l.Runbook.Name == recipe).Runbook;
        var values = new Dictionary<string, string> { [parameter] = value };
        if (recipe == "remove-stale-lock")
        {
            values["owner_pid"] = "4242";
        }

        var (_, errors) = ParameterValues.Bind(runbook, values);

        errors.ContainsKey(parameter).ShouldBe(!accepted);
    }

    [Fact]
    public void An_unknown_step_type_is_refused_at_its_line_and_column()
    {
        var errors = Errors(Steps("""
              - run: [true]
              - reboot_now: yes
            """));

        errors.ShouldHaveSingleItem().ToString().ShouldBe("line 7, column 5: steps[2]: unknown step type 'reboot_now'; the types are run, shell, diag, service, http, check, approval, notify, wait");
    }

    [Fact]
    public void An_unknown_key_is_refused_at_its_line_and_column()
    {
        var errors = Errors("""
            name: t
            version: 1
            risk: low
            steps:
              - run: [true]
                retry: 3
            colour: blue
            """);

        errors.Select(e => e.ToString()).ShouldBe([
            "line 7, column 1: the runbook: unknown key 'colour'; the keys are name, version, description, risk, remediates, parameters, targets, steps, rollback",
            "line 6, column 5: steps[1] (run): unknown key 'retry'; the keys are name, capture, when, continue_on_error, timeout, env, target, run",
        ], ignoreOrder: true);
    }

    [Fact]
    public void Missing_fields_are_named()
    {
        var errors = Errors("description: nothing else\n");

        errors.Select(e => e.Message).ShouldBe(["'name' is missing", "'version' is missing", "'risk' is missing", "the runbook has no 'steps': list what it does"], ignoreOrder: true);
        errors.ShouldAllBe(e => e.Line == 1 && e.Column == 1);
    }

    [Fact]
    public void Invalid_yaml_is_refused_with_the_position_the_reader_stopped_at()
    {
        var errors = Errors("name: t\nversion: 1\nsteps:\n  - run: [true\n");

        var e = errors.ShouldHaveSingleItem();
        e.Message.ShouldStartWith("not valid YAML: ");
        e.Line.ShouldBeGreaterThanOrEqualTo(4);
    }

    [Fact]
    public void A_repeated_key_is_refused()
    {
        var errors = Errors("name: t\nversion: 1\nrisk: low\nrisk: high\nsteps:\n  - run: [true]\n");

        errors.ShouldHaveSingleItem().Line.ShouldBe(4);
    }

    [Theory]
    [InlineData("x: {type: float}", "line 6, column 13: parameter 'x': type 'float' is not string, int, bool or enum")]
    [InlineData("x: {type: string, pattern: '[a-'}", "line 6, column 30: parameter 'x': the pattern is not a valid regular expression")]
    [InlineData("x: {type: string, pattern: '[a-z]+', default: 'NGINX'}", "line 6, column 49: parameter 'x': the default 'NGINX' does not match the pattern [a-z]+")]
    [InlineData("x: {type: int, min: 5, max: 1}", "line 6, column 23: parameter 'x': min 5 is above max 1")]
    [InlineData("x: {type: int, default: ten}", "line 6, column 27: parameter 'x': the default 'ten' is not a whole number")]
    [InlineData("x: {type: enum}", "line 6, column 6: parameter 'x': an enum needs values")]
    [InlineData("x: {type: bool, min: 1}", "line 6, column 24: parameter 'x': min and max apply to int values and string lengths, not to bool")]
    [InlineData("x: {type: string, required: true, default: a}", "line 6, column 31: parameter 'x' has a default, so it is never missing")]
    [InlineData("x: {type: string, secret: true}", "line 6, column 21: parameter 'x': unknown key 'secret'")]
    [InlineData("Bad-Name: {type: string}", "line 6, column 3: 'Bad-Name' is not a parameter name")]
    public void A_bad_parameter_schema_is_refused_at_its_position(string parameter, string expected)
    {
        var errors = Errors($$"""
            name: t
            version: 1
            risk: low
            steps: [{run: [true]}]
            parameters:
              {{parameter}}
            """);

        errors.ShouldContain(e => e.ToString().StartsWith(expected, StringComparison.Ordinal), string.Join("\n", errors));
    }

    [Theory]
    [InlineData("- run: [echo, 'unit=${{ params.unit }}']", "a ${{ }} reference must be the whole value")]
    [InlineData("- run: ['${{ params.unit }}', x]", "the program (argv[0]) must be written out")]
    [InlineData("- shell: systemctl restart ${{ params.unit }}", "parameters are never spliced into shell text")]
    [InlineData("- run: [echo, '${{ params.nope }}']", "${{ params.nope }} names no parameter and no capture of an earlier step")]
    [InlineData("- run: [echo, '${{ captures.out }}']\n  - run: [echo]\n    capture: out", "${{ captures.out }} names no parameter and no capture of an earlier step")]
    [InlineData("- run: 'systemctl restart nginx'", "run takes an argv list")]
    [InlineData("- run: []", "run takes a non-empty argv list")]
    [InlineData("- run: [true]\n    shell: 'true'", "has 2 step types (run, shell)")]
    [InlineData("- service: {action: reload, unit: nginx}", "service action 'reload' is not restart, start or stop")]
    [InlineData("- http: {url: 'ftp://x'}", "is not an http:// or https:// URL")]
    [InlineData("- http: {url: 'http://x', method: POST, from: target}", "GET without a body")]
    [InlineData("- wait: forever", "is not a duration from 1s to 1h")]
    [InlineData("- wait: 2h", "is not a duration from 1s to 1h")]
    [InlineData("- notify: hi\n    target: web-1", "runs in the control plane, so it takes no target")]
    [InlineData("- notify: hi\n    capture: x", "a notify step has no output to capture")]
    [InlineData("- run: [true]\n    env: {MEDIC_PARAM_UNIT: x}", "names starting with MEDIC_ are Medic's own")]
    [InlineData("- check: {retries: 3}", "a check has exactly one of run, shell, diag or http")]
    [InlineData("- run: [true]\n    continue_on_error: maybe", "continue_on_error 'maybe' is not true or false")]
    [InlineData("- approval: ['a', 'b']", "must be a single value, not a list")]
    public void A_bad_step_is_refused_with_a_reason(string steps, string expected)
    {
        var errors = Errors(Steps("  " + steps, "parameters: {unit: {type: string}}"));

        errors.ShouldContain(e => e.Message.Contains(expected, StringComparison.Ordinal), string.Join("\n", errors));
    }

    [Fact]
    public void A_when_that_does_not_parse_is_refused_at_the_column_of_the_problem()
    {
        var errors = Errors(Steps("""
              - run: [true]
                when: params.unit = 'x'
            """, "parameters: {unit: {type: string}}"));

        errors.ShouldHaveSingleItem().ToString().ShouldBe("line 7, column 23: steps[1]: when: '=' is not an operator; compare with '=='");
    }

    [Fact]
    public void A_when_may_read_only_parameters_and_captures_of_earlier_steps()
    {
        var errors = Errors(Steps("""
              - run: [true]
                when: captures.later == 'x'
              - run: [echo]
                capture: later
            """));

        errors.ShouldHaveSingleItem().Message.ShouldContain("'captures.later' names no parameter and no capture of an earlier step");
    }

    [Fact]
    public void Rollback_steps_may_read_captures_of_the_main_steps()
    {
        var result = RunbookParser.Parse(Steps("""
              - run: [echo]
                capture: out
            rollback:
              - notify: undo ${{ out }}
                when: out != ''
            """));

        result.Errors.ShouldBeEmpty();
    }

    [Fact]
    public void Text_that_is_not_a_runbook_is_refused_plainly()
    {
        Errors("").ShouldHaveSingleItem().Message.ShouldBe("the runbook is empty");
        Errors("- a\n- b\n").ShouldHaveSingleItem().Message.ShouldStartWith("a runbook is a mapping");
        Errors("name: a\n---\nname: b\n").ShouldHaveSingleItem().Message.ShouldContain("several YAML documents");
        Errors(new string('#', RunbookParser.MaxBytes + 1)).ShouldHaveSingleItem().Message.ShouldContain("larger than");
    }
}
