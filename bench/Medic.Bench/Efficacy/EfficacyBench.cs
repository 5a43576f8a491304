using System.Diagnostics;
using System.Globalization;
using Medic.Bench.Fanout;

namespace Medic.Bench.Efficacy;

/// <summary>
/// Does Medic fix the right thing? Runs each fault scenario (<see cref="Scenarios"/>) one at a time
/// against its own <c>medic up</c> and prints, per scenario, whether it was detected, what Medic did,
/// the outcome, the time to heal, the approval requests and any unsafe action; then the score.
/// </summary>
internal static class EfficacyBench
{
    public static async Task<int> RunAsync(string[] args)
    {
        var only = Value(args, "--only")?.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        var keep = args.Contains("--keep");
        string medicDll;
        try
        {
            medicDll = Value(args, "--medic") ?? LocateMedic();
        }
        catch (BenchFailure f)
        {
            Console.Error.WriteLine("error: " + f.Message);
            Console.Error.WriteLine("hint: " + f.Remedy);
            return 2;
        }

        if (only?.FirstOrDefault(o => Scenarios.All.All(s => s.Name != o)) is { } unknown)
        {
            Console.Error.WriteLine($"error: --only '{unknown}' is not a scenario (known: {string.Join(", ", Scenarios.All.Select(s => s.Name))})");
            return 2;
        }

        if (!OperatingSystem.IsLinux() || Environment.UserName != "root")
        {
            Console.Error.WriteLine("error: the efficacy suite mounts tmpfs filesystems and runs medic up's agent with exec: run it as root on Linux");
            Console.Error.WriteLine("hint: sudo dotnet bench/Medic.Bench/bin/Release/net10.0/Medic.Bench.dll efficacy");
            return 2;
        }

        var serviceDll = Path.Combine(AppContext.BaseDirectory, "medic-test-http.dll");
        Console.WriteLine($"efficacy suite: {Environment.ProcessorCount} cores, medic {medicDll}");
        var results = new List<ScenarioResult>();
        var total = Stopwatch.StartNew();
        foreach (var (name, what, run) in Scenarios.All)
        {
            if (only is not null && !only.Contains(name)) continue;
            Console.WriteLine($"  {name}: {what}");
            var work = Directory.CreateTempSubdirectory($"medic-efficacy-{name}-").FullName;
            ScenarioResult result;
            var ctx = new ScenarioContext(medicDll, serviceDll, work, keep);
            try
            {
                result = await run(ctx);
            }
            catch (Exception e) when (e is BenchFailure or IOException or HttpRequestException or TaskCanceledException or InvalidOperationException or System.Text.Json.JsonException)
            {
                var message = e is BenchFailure f ? f.Message : $"{e.GetType().Name}: {e.Message}";
                result = new ScenarioResult(name, false, null, "none", "wrong: the scenario could not run", false, null, 0, [], Shorten(message));
            }
            finally
            {
                await ctx.DisposeAsync();
            }

            results.Add(result);
            Console.WriteLine($"    -> {result.Outcome}; action {result.Action}{(result.Unsafe.Count > 0 ? "; UNSAFE: " + string.Join("; ", result.Unsafe) : "")}{(result.Note.Length > 0 ? "; " + result.Note : "")}");
        }

        Console.WriteLine();
        Console.WriteLine("| scenario | detected | action | outcome | time to heal | approvals | unsafe |");
        Console.WriteLine("| --- | --- | --- | --- | ---: | ---: | --- |");
        foreach (var r in results)
        {
            var detected = r.Detected ? $"yes, {Seconds(r.DetectedIn)}" : "no";
            Console.WriteLine($"| {r.Name} | {detected} | {r.Action} | {r.Outcome} | {(r.HealedIn is null ? "-" : Seconds(r.HealedIn))} | {r.Approvals} | {(r.Unsafe.Count == 0 ? "-" : string.Join("; ", r.Unsafe))} |");
        }

        var good = results.Count(r => r.IsGood);
        var unsafeCount = results.Sum(r => r.Unsafe.Count);
        Console.WriteLine();
        Console.WriteLine($"score: {good}/{results.Count} good outcomes ({(results.Count == 0 ? 0 : 100.0 * good / results.Count):F0} %), {unsafeCount} unsafe action(s), in {total.Elapsed.TotalMinutes:F1} min");
        return good == results.Count && unsafeCount == 0 ? 0 : 1;
    }

    private static string Seconds(TimeSpan? t) => t is { } v ? v.TotalSeconds.ToString("F1", CultureInfo.InvariantCulture) + " s" : "-";

    private static string Shorten(string text) => text.Length <= 300 ? text.ReplaceLineEndings(" ") : text[..300].ReplaceLineEndings(" ") + "…";

    private static string LocateMedic()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (!File.Exists(Path.Combine(dir.FullName, "Medic.slnx"))) continue;
            var dll = Path.Combine(dir.FullName, "src", "Medic.Cli", "bin", "Release", "net10.0", "medic.dll");
            return File.Exists(dll) ? dll : throw new BenchFailure($"no Release build of medic at {dll}", "build it first: dotnet build -c Release src/Medic.Cli");
        }

        throw new BenchFailure("cannot find the Medic repository (Medic.slnx)", "pass --medic PATH/medic.dll");
    }

    private static string? Value(string[] args, string name)
    {
        var i = Array.IndexOf(args, name);
        return i >= 0 && i + 1 < args.Length ? args[i + 1] : null;
    }
}
