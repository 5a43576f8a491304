using System.Diagnostics;
using Medic.Server.Runbooks;

namespace Medic.Server.Tests.Runbooks;

public sealed class ParameterValuesTests
{
    private static Runbook Parse(string parameters, string steps = "  - run: [echo, '${{ params.unit }}']") =>
        RunbookParser.Parse($"name: t\nversion: 1\nrisk: low\nparameters:\n{parameters}\nsteps:\n{steps}\n") is { Ok: true } r ? r.Runbook! : throw new ShouldAssertException("invalid test runbook");

    private static readonly Runbook Typed = Parse("""
          unit: {type: string, pattern: '[a-z]+', required: true}
          count: {type: int, min: 1, max: 10, default: 3}
          force: {type: bool, default: 'false'}
          mode: {type: enum, values: [soft, hard]}
          note: {type: string, min: 2, max: 5}
        """);

    [Theory]
    [InlineData("count", "11", "11 is above the maximum 10")]
    [InlineData("count", "0", "0 is below the minimum 1")]
    [InlineData("count", "3.5", "'3.5' is not a whole number")]
    [InlineData("force", "yes", "'yes' is not true or false")]
    [InlineData("mode", "medium", "'medium' is not one of: soft, hard")]
    [InlineData("unit", "nginx1", "'nginx1' does not match the pattern [a-z]+")]
    [InlineData("unit", "x\nnginx", "does not match the pattern")]
    [InlineData("note", "a", "is 1 characters long; the minimum is 2")]
    [InlineData("note", "abcdef", "is 6 characters long; the maximum is 5")]
    [InlineData("nope", "1", "runbook t has no parameter 'nope'; it takes: unit, count, force, mode, note")]
    public void A_value_that_fails_its_schema_is_refused(string name, string value, string expected)
    {
        var given = new Dictionary<string, string> { ["unit"] = "nginx", [name] = value };

        var (_, errors) = ParameterValues.Bind(Typed, given);

        errors[name].ShouldContain(expected);
    }

    [Fact]
    public void Missing_required_values_are_refused_and_defaults_fill_the_rest()
    {
        ParameterValues.Bind(Typed, null).Errors["unit"].ShouldBe("is required");

        var (values, errors) = ParameterValues.Bind(Typed, new Dictionary<string, string> { ["unit"] = "nginx", ["count"] = "+7" });

        errors.ShouldBeEmpty();
        values.ShouldBe(new Dictionary<string, string> { ["unit"] = "nginx", ["count"] = "7", ["force"] = "false", ["mode"] = "", ["note"] = "" }, ignoreOrder: true);
    }

    [Fact]
    public void An_injection_attempt_reaches_the_command_as_one_literal_argument_and_one_environment_value()
    {
        var runbook = Parse("  unit: {type: string}", "  - run: [printf, '%s|', '${{ params.unit }}']\n  - shell: printf '%s|' \"$MEDIC_PARAM_UNIT\"");
        var (values, errors) = ParameterValues.Bind(runbook, new Dictionary<string, string> { ["unit"] = "nginx; rm -rf / $(reboot) `id` \"'" });
        errors.ShouldBeEmpty();
        var run = new RunValues(values);

        var argv = RunbookPlan.TaskArgv(RunbookPlan.Command(runbook.Steps[0].Argv, null, run), run.Environment(runbook.Steps[0]));
        var shell = RunbookPlan.TaskArgv(RunbookPlan.Command(null, runbook.Steps[1].Shell, run), run.Environment(runbook.Steps[1]));

        argv.ShouldBe(["env", "MEDIC_PARAM_UNIT=nginx; rm -rf / $(reboot) `id` \"'", "printf", "%s|", "nginx; rm -rf / $(reboot) `id` \"'"]);
        shell.ShouldBe(["env", "MEDIC_PARAM_UNIT=nginx; rm -rf / $(reboot) `id` \"'", "sh", "-c", "printf '%s|' \"$MEDIC_PARAM_UNIT\""]);
        // Run both as real processes, as the agent does (argv, no shell in between).
        Run(argv).ShouldBe("nginx; rm -rf / $(reboot) `id` \"'|");
        Run(shell).ShouldBe("nginx; rm -rf / $(reboot) `id` \"'|");
    }

    private static string Run(IReadOnlyList<string> argv)
    {
        var psi = new ProcessStartInfo(argv[0]) { RedirectStandardOutput = true, UseShellExecute = false };
        foreach (var a in argv.Skip(1)) psi.ArgumentList.Add(a);
        using var process = Process.Start(psi)!;
        var output = process.StandardOutput.ReadToEnd();
        process.WaitForExit(10_000).ShouldBeTrue();
        process.ExitCode.ShouldBe(0);
        return output;
    }
}
