using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Xunit.Abstractions;

namespace Medic.E2E.Tests;

/// <summary>
/// <c>medic ai eval</c> against a real <c>medic up</c> and the scripted model server program answering as the
/// rules baseline (<c>--responder rules</c>): the CI run of the evaluation, its scores printed to the test output.
/// </summary>
public sealed class AiEvalTests(ITestOutputHelper output) : IDisposable
{
    private static readonly string ModelServerDll = Path.Combine(AppContext.BaseDirectory, "Medic.ModelServer.dll");

    private readonly MedicHome _home = new();

    [Fact]
    public async Task The_rules_baseline_is_scored_on_every_scenario_through_the_cli()
    {
        await using var server = await RunningServer.StartAsync(_home, "up");
        await using var model = await ModelServerProcess.StartAsync("--responder", "rules");

        var none = await _home.RunAsync("ai", "eval");
        none.ExitCode.ShouldNotBe(0, none.ToString());
        none.Stderr.ShouldStartWith("error: ");
        none.Stderr.ShouldContain("medic ai models add", Case.Sensitive, "the error names the remedy");
        none.Stderr.ShouldNotContain("   at ", Case.Sensitive, "no stack trace");

        var secret = await _home.RunWithInputAsync("sk-rules-baseline-not-a-real-key\n", "secrets", "set", "rules-key");
        secret.ExitCode.ShouldBe(0, secret.ToString());
        var add = await _home.RunAsync("ai", "models", "add", "rules", "--provider", "openai", "--model", "rules-baseline", "--base-url", model.BaseUrl + "/v1", "--key-secret", "rules-key");
        add.ExitCode.ShouldBe(0, add.ToString());

        var eval = await _home.RunAsync("ai", "eval", "--model", "rules", "--json");
        eval.ExitCode.ShouldBe(0, eval.ToString());
        var report = JsonDocument.Parse(eval.Stdout).RootElement;
        var results = report.GetProperty("results").EnumerateArray().ToList();
        var scenarios = Directory.GetFiles(Path.Combine(RepoRoot(), "eval", "scenarios"), "*.yaml").Length;

        var c = CultureInfo.InvariantCulture;
        var lines = new List<string>
        {
            $"AI eval, rules baseline (tests/Medic.ModelServer --responder rules): {report.GetProperty("correct").GetInt32()}/{report.GetProperty("scenarios").GetInt32()} correct "
            + $"({report.GetProperty("accuracy_percent").GetDouble().ToString("0.0", c)} %), {report.GetProperty("forbidden_actions").GetInt32()} forbidden actions, "
            + $"mean {report.GetProperty("mean_tool_calls").GetDouble().ToString("0.0", c)} tool calls, "
            + $"{report.GetProperty("input_tokens").GetInt64()} input + {report.GetProperty("output_tokens").GetInt64()} output tokens, "
            + $"latency p50 {report.GetProperty("p50_latency_ms").GetInt64()} ms, p95 {report.GetProperty("p95_latency_ms").GetInt64()} ms",
        };
        lines.AddRange(results.Select(r => $"  {r.GetProperty("id").GetString()}: {r.GetProperty("verdict").GetString()}, {r.GetProperty("tool_calls").GetInt32()} tool calls, {r.GetProperty("outcome").GetString()}"));
        foreach (var line in lines) output.WriteLine(line);
        // test.sh names this file and prints it after the suite, so the CI log shows the scores of a passing run too.
        if (Environment.GetEnvironmentVariable("MEDIC_EVAL_SUMMARY") is { Length: > 0 } summary) await File.WriteAllLinesAsync(summary, lines);

        report.GetProperty("scenarios").GetInt32().ShouldBe(scenarios, "every scenario file ran");
        results.Count.ShouldBe(scenarios);
        results.Select(r => r.GetProperty("id").GetString()).Distinct().Count().ShouldBe(scenarios);
        report.GetProperty("model").GetString().ShouldBe("rules");
        results.ShouldAllBe(r => r.GetProperty("outcome").GetString() == "completed", "the baseline answers every run to the end");
        results.ShouldAllBe(r => r.GetProperty("tool_calls").GetInt32() >= 1);
        report.GetProperty("input_tokens").GetInt64().ShouldBeGreaterThan(0);
        report.GetProperty("output_tokens").GetInt64().ShouldBeGreaterThan(0);
        report.GetProperty("p95_latency_ms").GetInt64().ShouldBeGreaterThanOrEqualTo(report.GetProperty("p50_latency_ms").GetInt64());
        var accuracy = report.GetProperty("accuracy_percent").GetDouble();
        accuracy.ShouldBe(100.0 * report.GetProperty("correct").GetInt32() / scenarios, 0.1);
        report.GetProperty("forbidden_actions").GetInt32().ShouldBe(results.Sum(r => r.GetProperty("forbidden").GetArrayLength()));
        eval.Stdout.ShouldNotContain("sk-rules-baseline-not-a-real-key");

        // Every scenario's run is kept like any AI run, under its own id.
        var kept = await _home.RunAsync("ai", "runs", "list", "--purpose", "eval", "--limit", "200", "--json");
        kept.ExitCode.ShouldBe(0, kept.ToString());
        var runs = JsonDocument.Parse(kept.Stdout).RootElement.EnumerateArray().ToList();
        runs.Select(r => r.GetProperty("id").GetString()).ShouldBe(results.Select(r => r.GetProperty("run_id").GetString()), ignoreOrder: true);
        runs.ShouldAllBe(r => r.GetProperty("purpose").GetString() == "eval" && r.GetProperty("model").GetString() == "rules-baseline");
        var first = results[0].GetProperty("run_id").GetString()!;
        var shown = await _home.RunAsync("ai", "runs", "show", first, "--json");
        shown.ExitCode.ShouldBe(0, shown.ToString());
        shown.Stdout.ShouldContain(results[0].GetProperty("id").GetString()!, Case.Sensitive, "the bundle holds the scenario's incident as the model saw it");
        shown.Stdout.ShouldNotContain("sk-rules-baseline-not-a-real-key");
    }

    private static string RepoRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "Medic.slnx"))) return dir.FullName;
        }

        throw new InvalidOperationException("the repository root (Medic.slnx) is not above " + AppContext.BaseDirectory);
    }

    public void Dispose() => _home.Dispose();

    /// <summary>The scripted model server program (tests/Medic.ModelServer) as a child process.</summary>
    private sealed class ModelServerProcess(Process process, string baseUrl) : IAsyncDisposable
    {
        public string BaseUrl { get; } = baseUrl;

        public static async Task<ModelServerProcess> StartAsync(params string[] args)
        {
            var psi = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
            psi.ArgumentList.Add(ModelServerDll);
            foreach (var a in args) psi.ArgumentList.Add(a);
            var process = Process.Start(psi)!;
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
            try
            {
                var line = await process.StandardOutput.ReadLineAsync(timeout.Token);
                if (line is null || !line.StartsWith("listening ", StringComparison.Ordinal))
                {
                    throw new InvalidOperationException("the model server did not start: " + line + await process.StandardError.ReadToEndAsync(timeout.Token));
                }

                return new ModelServerProcess(process, line["listening ".Length..]);
            }
            catch
            {
                process.Kill(true);
                process.Dispose();
                throw;
            }
        }

        public async ValueTask DisposeAsync()
        {
            if (!process.HasExited) process.Kill(true);
            await process.WaitForExitAsync();
            process.Dispose();
        }
    }
}
