using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Json;
using System.Net.WebSockets;
using Medic.Contracts;
using Medic.Contracts.Agent;

namespace Medic.Bench.Fanout;

/// <summary>
/// <c>fanout --agents N [--rounds R] [--idle S]</c>: a real control plane, N simulated agents on
/// real WebSockets, and R rounds of <c>exec true</c> on all of them at once, timed end to end.
/// </summary>
internal static class FanoutBench
{
    /// <summary>What ExecApi accepts for strategy.max.</summary>
    private const int ServerMaxParallel = 1000;

    private const int ExecTimeoutSeconds = 60;
    private const int EnrollConcurrency = 8;
    private const int ConnectConcurrency = 32;

    public static Task<int> RunAsync(string[] args) =>
        BenchCommand.RunAsync("fanout", ct => RunAsync(FanoutOptions.Parse(args), ct), "interrupted; the control plane and the agents it started were stopped");

    /// <summary>Runs the whole bench and returns each round's figures (the agentless bench compares against them).</summary>
    internal static async Task<IReadOnlyList<RoundFigures>> RunAsync(FanoutOptions o, CancellationToken ct)
    {
        if (!OperatingSystem.IsLinux())
        {
            throw new BenchFailure("the fan-out bench reads /proc and binds 127.0.0.x addresses", "run it on Linux");
        }

        var medicDll = LocateMedic(o.MedicDll);
        var openFiles = ProcStats.OpenFilesLimit();
        if (openFiles < o.Agents + 512)
        {
            // Each side holds one socket per agent; the .NET runtime already raised the soft limit to the hard one.
            throw new BenchFailure($"the open-files limit is {openFiles}; {o.Agents} agents need about {o.Agents + 512} in the bench and as many in the control plane",
                $"raise the hard limit (ulimit -Hn, /etc/security/limits.conf or the container's nofile) to at least {o.Agents + 512}");
        }

        var max = Math.Min(o.Agents, ServerMaxParallel);
        Console.WriteLine($"fanout: {o.Agents} agents, {o.Rounds} rounds of `exec true` (selector all, strategy parallel max {max}, timeout {ExecTimeoutSeconds} s)");
        if (max < o.Agents)
        {
            Console.WriteLine($"  note: the control plane accepts strategy.max up to {ServerMaxParallel}, so at most {ServerMaxParallel} tasks are in flight at once");
        }

#if DEBUG
        Console.WriteLine("  warning: this bench is a Debug build; run it with -c Release for figures worth keeping");
#endif
        Console.WriteLine($"machine: {ProcStats.MachineLoad()}; open files limit {openFiles}");
        Console.WriteLine("  the simulated agents run in this process and share the machine's cores with the control plane");

        await using var plane = await Phase("starting the control plane", FanoutOptions.StartLimit, ct, t => ControlPlaneProcess.StartAsync(medicDll, o.HeartbeatSeconds, o.KeepData, t));
        var agents = new List<SimulatedAgent>(o.Agents);
        using var sources = new LoopbackSources(o.Agents);
        using var api = new ControlPlaneApi(plane.Url);
        try
        {
            var idle = plane.Stats();
            Console.WriteLine($"control plane: pid {plane.Pid} at {plane.Url} on SQLite; {idle}");

            await api.LogInAsync(plane.AdminPassword, ct);
            var token = await api.CreateEnrollmentTokenAsync(o.Agents, ct);
            var clock = Stopwatch.StartNew();
            var enrolled = await Phase("enrolling", FanoutOptions.EnrollLimit, ct, t => EnrollAsync(plane.Url, token, o.Agents, sources, t));
            Console.WriteLine($"enrolled {o.Agents} in {clock.Elapsed.TotalSeconds:F1} s ({o.Agents / clock.Elapsed.TotalSeconds:F0}/s) from {sources.Count} loopback source addresses ({sources.Range}), at most {LoopbackSources.HostsPerAddress} each");

            var recorder = new RoundRecorder(o.Agents);
            for (var i = 0; i < o.Agents; i++) agents.Add(new SimulatedAgent(i, enrolled[i], recorder));
            clock.Restart();
            var connectUrl = new Uri($"ws://{plane.Url.Authority}/agent/v1/connect");
            await Phase("connecting the agents", FanoutOptions.ConnectLimit, ct, t => ConnectAsync(agents, connectUrl, sources, t));
            var connected = plane.Stats();
            Console.WriteLine($"connected {o.Agents} WebSockets in {clock.Elapsed.TotalSeconds:F1} s ({o.Agents / clock.Elapsed.TotalSeconds:F0}/s); heartbeat every {agents[0].HeartbeatSeconds} s");
            Console.WriteLine($"  control plane: {connected}; +{(connected.RssBytes - idle.RssBytes) / 1024.0 / o.Agents:F1} KiB RSS per connected agent");
            Console.WriteLine($"  bench:         {ProcStats.Self()}");

            if (o.IdleSeconds > 0)
            {
                // The first half lets the control plane finish start-up work (tiered JIT, the connect burst's writes); the second is measured.
                var half = TimeSpan.FromSeconds(o.IdleSeconds / 2.0);
                await Task.Delay(half, ct);
                var before = plane.Stats();
                await Task.Delay(half, ct);
                var after = plane.Stats();
                var perSecond = (double)o.Agents / agents[0].HeartbeatSeconds;
                var cpu = after.CpuSeconds - before.CpuSeconds;
                Console.WriteLine($"idle {o.IdleSeconds} s with heartbeats only (~{perSecond:F0}/s), last {half.TotalSeconds:F0} s measured: control plane used {cpu:F2} CPU s " +
                    $"({cpu / half.TotalSeconds * 100:F1} % of one core, ~{cpu * 1e6 / Math.Max(1, perSecond * half.TotalSeconds):F0} us per heartbeat, fixed background work included); {after}");
            }

            await ReportDropsAsync(agents, plane, api, "before the first round", ct);
            await WaitAllOnlineAsync(agents, ct);
            var beforeRounds = plane.Stats();
            var benchBefore = ProcStats.Self();
            var rounds = new List<RoundFigures>();
            for (var r = 1; r <= o.Rounds; r++)
            {
                await WaitAllOnlineAsync(agents, ct);
                var round = await RunRoundAsync(r, api, recorder, o.Agents, max, plane, ct);
                rounds.Add(round);
                Console.WriteLine(round);
            }

            var afterRounds = plane.Stats();
            var benchAfter = ProcStats.Self();
            Summarize(o, rounds, idle, beforeRounds, afterRounds, benchAfter.CpuSeconds - benchBefore.CpuSeconds);
            await ReportDropsAsync(agents, plane, api, "by the end", ct);
            return rounds;
        }
        finally
        {
            foreach (var agent in agents) agent.Dispose();
            plane.PrintProblems();
        }
    }

    internal static async Task<EnrollResponse[]> EnrollAsync(Uri server, string token, int count, LoopbackSources sources, CancellationToken ct)
    {
        var enrolled = new EnrollResponse[count];
        var url = new Uri(server, "/agent/v1/enroll");
        await Parallel.ForEachAsync(Enumerable.Range(0, count), new ParallelOptions { MaxDegreeOfParallelism = EnrollConcurrency, CancellationToken = ct }, async (i, t) =>
        {
            var name = SimulatedAgent.NameOf(i);
            HttpResponseMessage response;
            try
            {
                response = await sources.Http(i).PostAsJsonAsync(url, new EnrollRequest(token, name, null, SimulatedAgent.FactsOf(i)), AgentJson.Default.EnrollRequest, t);
            }
            catch (HttpRequestException ex) when (ex.InnerException is BenchFailure inner)
            {
                throw inner;
            }

            using (response)
            {
                if (!response.IsSuccessStatusCode)
                {
                    throw new BenchFailure($"enrolling {name} answered {(int)response.StatusCode}: {await response.Content.ReadAsStringAsync(t)}",
                        (int)response.StatusCode == 429 ? $"the enrollment limit is 60 a minute per address; lower LoopbackSources.HostsPerAddress" : "see the control plane's answer");
                }

                enrolled[i] = await response.Content.ReadFromJsonAsync(AgentJson.Default.EnrollResponse, t)
                    ?? throw new BenchFailure($"enrolling {name} answered an empty body", "check the control plane's log");
            }
        });

        if (enrolled.Select(e => e.SigningPublicKey).Distinct().Count() != 1)
        {
            throw new BenchFailure("the control plane handed out more than one task-signing key", "every agent pins the same key; this is a server bug");
        }

        return enrolled;
    }

    /// <summary>Connects every agent; a failed attempt is retried with the real agent's backoff, counted and reported.</summary>
    internal static async Task ConnectAsync(List<SimulatedAgent> agents, Uri url, LoopbackSources sources, CancellationToken ct)
    {
        const int attempts = 5;
        var failed = 0;
        string? firstError = null;
        await Parallel.ForEachAsync(agents, new ParallelOptions { MaxDegreeOfParallelism = ConnectConcurrency, CancellationToken = ct }, async (agent, t) =>
        {
            for (var attempt = 1; ; attempt++)
            {
                try
                {
                    await agent.ConnectAsync(url, sources.WebSockets(agent.Index), t);
                    return;
                }
                catch (WebSocketException ex)
                {
                    Interlocked.Increment(ref failed);
                    Interlocked.CompareExchange(ref firstError, $"{agent.Name}: {Chain(ex)}", null);
                    if (attempt == attempts)
                    {
                        throw new BenchFailure($"{agent.Name} could not connect in {attempts} attempts: {Chain(ex)}",
                            "see the control plane's log lines below; check the open-files limit (ulimit -n)");
                    }

                    await Task.Delay(Medic.Agent.AgentDaemon.Backoff(attempt, Random.Shared.NextDouble()), t);
                }
            }
        });

        if (failed > 0) Console.WriteLine($"connect: {failed} attempts failed and were retried with the agent's backoff; the first: {firstError}");
    }

    private static async Task<RoundFigures> RunRoundAsync(int round, ControlPlaneApi api, RoundRecorder recorder, int agents, int max, ControlPlaneProcess plane, CancellationToken ct)
    {
        using var limit = CancellationTokenSource.CreateLinkedTokenSource(ct);
        limit.CancelAfter(FanoutOptions.RoundLimit);
        ExecutionResponse? last = null;
        var lastGetMs = 0.0;
        var planeBefore = plane.Stats();
        var benchBefore = ProcStats.Self();
        var postedAt = recorder.Begin();
        try
        {
            var postedUtc = DateTimeOffset.UtcNow;
            var started = await api.StartExecAsync(new ExecRequest("true", new ExecSelector(All: true), new ExecStrategy("parallel", max), ExecTimeoutSeconds), limit.Token);
            var acceptedMs = Stopwatch.GetElapsedTime(postedAt).TotalMilliseconds;
            while (true)
            {
                // Poll slowly while agents are still answering (a GET of thousands of results is not free),
                // then closely once they all have, so the completion time is resolved to a few tens of ms.
                if (!recorder.AllReplied.IsCompleted) await Task.WhenAny(recorder.AllReplied, Task.Delay(1000, limit.Token));
                limit.Token.ThrowIfCancellationRequested();
                var asked = Stopwatch.GetTimestamp();
                last = await api.GetExecutionAsync(started.Id, limit.Token);
                lastGetMs = Stopwatch.GetElapsedTime(asked).TotalMilliseconds;
                if (last.Status == "completed") break;
                if (recorder.AllReplied.IsCompleted) await Task.Delay(20, limit.Token);
            }

            var completeMs = Stopwatch.GetElapsedTime(postedAt).TotalMilliseconds;
            var planeAfter = plane.Stats();
            var benchAfter = ProcStats.Self();
            return new RoundFigures(round, started.Id, postedUtc, acceptedMs, completeMs, lastGetMs, recorder.LastResultMs(), [.. recorder.OfferLatencies()], [.. recorder.ResultLatencies()],
                last.Results.GroupBy(x => x.Status.ToText()).ToDictionary(g => g.Key, g => g.Count()), last.Results.Count, recorder.Refusals,
                planeAfter.CpuSeconds - planeBefore.CpuSeconds, ProcStats.WaitedSecondsBetween(planeBefore, planeAfter),
                benchAfter.CpuSeconds - benchBefore.CpuSeconds, ProcStats.WaitedSecondsBetween(benchBefore, benchAfter));
        }
        catch (OperationCanceledException) when (!ct.IsCancellationRequested)
        {
            throw new BenchFailure(
                $"round {round} did not complete within {FanoutOptions.RoundLimit.TotalMinutes:0} min: the agents saw {recorder.Offers} offers and sent {recorder.Results} results of {agents}; " +
                $"the execution was {last?.Status ?? "not read yet"} with {last?.Results.Count ?? 0} stored results",
                "see the control plane's log lines below");
        }
    }

    private static void Summarize(FanoutOptions o, List<RoundFigures> rounds, ProcStats idle, ProcStats before, ProcStats after, double benchCpu)
    {
        var complete = new Percentiles(rounds.Select(r => r.CompleteMs));
        var offers = new Percentiles(rounds.SelectMany(r => r.OfferMs));
        var results = new Percentiles(rounds.SelectMany(r => r.ResultMs));
        var cpu = after.CpuSeconds - before.CpuSeconds;
        var tasks = rounds.Sum(r => r.Stored);
        var wall = rounds.Sum(r => r.CompleteMs) / 1000;
        Console.WriteLine();
        Console.WriteLine($"summary: {o.Agents} agents x {o.Rounds} rounds ({tasks} tasks)");
        Console.WriteLine($"  round, POST to execution completed with all results (ms): median {complete.P50:F0}, min {rounds.Min(r => r.CompleteMs):F0}, max {complete.Max:F0}, total {rounds.Sum(r => r.CompleteMs):F0}");
        Console.WriteLine($"  POST to 202 (ms):                 median {new Percentiles(rounds.Select(r => r.AcceptedMs)).P50:F0}");
        Console.WriteLine($"  per agent, POST to offer (ms):     {offers}  ({offers.Count} samples)");
        Console.WriteLine($"  per agent, POST to result sent (ms): {results}  ({results.Count} samples)");
        Console.WriteLine($"  control plane: idle {idle.RssBytes / 1048576.0:F0} MiB; before rounds {before}; after rounds {after}");
        Console.WriteLine($"  control plane CPU during rounds: {cpu:F2} s ({cpu / Math.Max(1, tasks) * 1e6:F0} us per task); bench CPU (agents' side): {benchCpu:F2} s");
        Console.WriteLine($"  in the {wall:F1} s the rounds took: control plane used {rounds.Sum(r => r.PlaneCpuSeconds):F2} CPU s while its threads spent {rounds.Sum(r => r.PlaneWaitSeconds):F2} s (summed) runnable but waiting for a core; " +
            $"bench used {rounds.Sum(r => r.BenchCpuSeconds):F2} and waited {rounds.Sum(r => r.BenchWaitSeconds):F2}");
        Console.WriteLine($"  machine now: {ProcStats.MachineLoad()}");
        var verdict = results.P50 < 1000 && complete.P50 < 1000 ? "met" : "NOT met";
        Console.WriteLine($"  p50 < 1 s (per-agent result and round completion): {verdict}");
        Console.WriteLine();
        Console.WriteLine("| agents | rounds | round complete median / max (ms) | offer p50 / p95 / p99 / max (ms) | result p50 / p95 / p99 / max (ms) | CP RSS idle → connected → after (MiB) | CP CPU in rounds (s) |");
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"| {o.Agents} | {o.Rounds} | {complete.P50:F0} / {complete.Max:F0} | {offers.P50:F0} / {offers.P95:F0} / {offers.P99:F0} / {offers.Max:F0} | {results.P50:F0} / {results.P95:F0} / {results.P99:F0} / {results.Max:F0} | {idle.RssBytes / 1048576.0:F0} → {before.RssBytes / 1048576.0:F0} → {after.RssBytes / 1048576.0:F0} | {cpu:F1} |"));
    }

    /// <summary>Links that broke so far, as the agents saw them and as the control plane's audit log explains them.</summary>
    private static async Task ReportDropsAsync(List<SimulatedAgent> agents, ControlPlaneProcess plane, ControlPlaneApi api, string when, CancellationToken ct)
    {
        var dropped = agents.Where(a => a.Drops > 0).ToList();
        if (dropped.Count == 0)
        {
            Console.WriteLine($"links: no agent lost its link {when}");
            return;
        }

        Console.WriteLine($"links: {dropped.Count} of {agents.Count} agents lost their link {when} ({dropped.Sum(a => a.Drops)} drops; the control plane logged {plane.Dropped}); they reconnect with the agent's backoff");
        foreach (var g in dropped.GroupBy(a => a.LastDropReason).OrderByDescending(g => g.Count())) Console.WriteLine($"  agents saw {g.Count()} x {g.Key}");
        var lasted = dropped.Where(a => a.FirstLinkLasted is not null).Select(a => a.FirstLinkLasted!.Value.TotalSeconds).ToList();
        if (lasted.Count > 0) Console.WriteLine($"  first links lasted {lasted.Min():F1} to {lasted.Max():F1} s after their welcome (heartbeat every {agents[0].HeartbeatSeconds} s)");
        if (plane.LastDropLine is { } line) Console.WriteLine($"  control plane log, last drop: {line}");
        foreach (var (reason, count) in await api.OfflineReasonsAsync(ct)) Console.WriteLine($"  control plane audit: {count} x server.offline, reason \"{reason}\"");
    }

    /// <summary>Rounds start with every agent connected, so each one measures the whole fleet; bounded, as everything else.</summary>
    private static async Task WaitAllOnlineAsync(List<SimulatedAgent> agents, CancellationToken ct)
    {
        var clock = Stopwatch.StartNew();
        while (agents.Any(a => !a.Online))
        {
            if (clock.Elapsed > FanoutOptions.ConnectLimit)
            {
                var offline = agents.Where(a => !a.Online).ToList();
                throw new BenchFailure($"{offline.Count} agents were still not reconnected after {FanoutOptions.ConnectLimit.TotalMinutes:0} min; last reason: {offline[0].LastDropReason}",
                    "see the control plane's log lines below");
            }

            await Task.Delay(250, ct);
        }

        if (clock.Elapsed > TimeSpan.FromSeconds(1)) Console.WriteLine($"links: all {agents.Count} agents online again after {clock.Elapsed.TotalSeconds:F1} s");
    }

    /// <summary>An exception's message with its inner ones', which say what actually failed.</summary>
    private static string Chain(Exception ex)
    {
        var parts = new List<string>();
        for (Exception? e = ex; e is not null; e = e.InnerException) parts.Add(e.Message);
        return string.Join(" <- ", parts.Distinct());
    }

    internal static async Task<T> Phase<T>(string what, TimeSpan limit, CancellationToken ct, Func<CancellationToken, Task<T>> work)
    {
        using var bounded = CancellationTokenSource.CreateLinkedTokenSource(ct);
        bounded.CancelAfter(limit);
        try
        {
            return await work(bounded.Token);
        }
        catch (OperationCanceledException) when (!ct.IsCancellationRequested)
        {
            throw new BenchFailure($"{what} took longer than {limit.TotalMinutes:0} min", "check the machine's load and the control plane's log lines below");
        }
    }

    internal static Task Phase(string what, TimeSpan limit, CancellationToken ct, Func<CancellationToken, Task> work) =>
        Phase<bool>(what, limit, ct, async t => { await work(t); return true; });

    internal static string LocateMedic(string? given)
    {
        if (given is not null)
        {
            return File.Exists(given) ? Path.GetFullPath(given) : throw new BenchFailure($"{given} does not exist", "pass the path of a built medic.dll, or omit --medic");
        }

        foreach (var start in new[] { Directory.GetCurrentDirectory(), AppContext.BaseDirectory })
        {
            for (var dir = new DirectoryInfo(start); dir is not null; dir = dir.Parent)
            {
                if (!File.Exists(Path.Combine(dir.FullName, "Medic.slnx"))) continue;
                var dll = Path.Combine(dir.FullName, "src", "Medic.Cli", "bin", "Release", "net10.0", "medic.dll");
                return File.Exists(dll) ? dll : throw new BenchFailure($"no Release build of the control plane at {dll}", "build it first: dotnet build -c Release Medic.slnx");
            }
        }

        throw new BenchFailure("cannot find the Medic repository (Medic.slnx) above the current directory", "run from the repository, or pass --medic PATH/medic.dll");
    }
}

/// <summary>One round's figures, in milliseconds from the POST.</summary>
internal sealed record RoundFigures(int Round, string ExecutionId, DateTimeOffset PostedUtc, double AcceptedMs, double CompleteMs, double LastGetMs, double LastResultMs, double[] OfferMs, double[] ResultMs,
    Dictionary<string, int> Statuses, int Stored, int Refusals, double PlaneCpuSeconds, double PlaneWaitSeconds, double BenchCpuSeconds, double BenchWaitSeconds)
{
    public override string ToString()
    {
        var statuses = string.Join(", ", Statuses.OrderByDescending(s => s.Value).Select(s => $"{s.Value} {s.Key}"));
        return $"round {Round} ({ExecutionId}, POST at {PostedUtc:HH:mm:ss.fff}Z): complete {CompleteMs:F0} ms (202 after {AcceptedMs:F0} ms, last result sent at {LastResultMs:F0} ms, the GET that saw it completed took {LastGetMs:F0} ms); {statuses}\n" +
            $"  CPU s used / thread-s runnable but waiting for a core: control plane {PlaneCpuSeconds:F2} / {PlaneWaitSeconds:F2}, bench {BenchCpuSeconds:F2} / {BenchWaitSeconds:F2}\n" +
            $"  offer  {new Percentiles(OfferMs)}\n" +
            $"  result {new Percentiles(ResultMs)}";
    }
}
