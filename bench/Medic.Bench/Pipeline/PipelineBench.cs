using System.Diagnostics;
using System.Globalization;
using Medic.Bench.Fanout;
using Medic.Contracts;

namespace Medic.Bench.Pipeline;

/// <summary>
/// <c>pipeline [--agents N] [--incidents N] [--concurrency C] [--count N]</c>: the remediation
/// pipeline's own overhead. A real control plane with N simulated agents, a low-risk tenant recipe
/// and a triage rule that runs it autonomously; then (1) incidents opened one after another
/// (<c>POST /api/v1/incidents</c>), each timed from just before its request is sent to the moment
/// a simulated agent reads the frame of the run's first task, and (2) incidents opened by C
/// concurrent senders, counted from creation to the end of the pipeline's work on the live feed (an incident opened by hand ends verified as far as the pipeline can, waiting for a person to confirm). Run on SQLite,
/// then on PostgreSQL (a throwaway cluster unless one is given).
/// </summary>
internal static class PipelineBench
{
    /// <summary>The most remediations an hour the settings API accepts (the default, 10, would hold the bench up at the gate).</summary>
    public const int BlastRadius = 10_000;

    private const string IncidentType = "bench_pipeline";
    private const string Recipe = "bench-remediate";

    private const string RunbookYaml = $$$"""
        name: {{{Recipe}}}
        version: 1
        description: The pipeline bench's recipe. Its simulated agents answer both steps at once, so only Medic's own time is measured.
        risk: low
        remediates:
          types: [{{{IncidentType}}}]
        parameters:
          seq:
            type: string
            description: which bench incident the run is for (the simulated agent reads it from the argv)
            pattern: '[0-9]{1,9}'
            required: true
        targets: incident
        steps:
          - name: remediate
            run: [{{{PipelineProgress.Program}}}, remediate, '${{ params.seq }}']
          - name: fixed
            check:
              run: [{{{PipelineProgress.Program}}}, verify, '${{ params.seq }}']
        """;

    private const string TriageYaml = $$"""
        rules:
          - name: bench-pipeline
            match:
              type: {{IncidentType}}
            recipe: {{Recipe}}
            params:
              seq: "${labels.{{PipelineProgress.Label}}}"
            trust: autonomous
        """;

    public static Task<int> RunAsync(string[] args) =>
        BenchCommand.RunAsync("pipeline", ct => RunAsync(PipelineOptions.Parse(args), ct), "interrupted; the control plane, the agents and PostgreSQL it started were stopped");

    private static async Task RunAsync(PipelineOptions o, CancellationToken ct)
    {
        var medicDll = FanoutBench.LocateMedic(o.MedicDll);
        Console.WriteLine($"pipeline: {o.Agents} simulated agents; {o.Warmup} warm-up incidents, {o.Incidents} timed one after another, then {o.Count} by {o.Concurrency} concurrent senders");
        Console.WriteLine($"  recipe {Recipe} (risk low), triage rule trust autonomous, blast radius raised to {BlastRadius} an hour (the default 10 would send the rest to approval)");
#if DEBUG
        Console.WriteLine("  warning: this bench is a Debug build; run it with -c Release for figures worth keeping");
#endif
        Console.WriteLine($"machine: {ProcStats.MachineLoad()}");
        var rows = new List<string> { await RunDialectAsync(o, medicDll, "SQLite", null, null, ct) };
        if (o.Postgres is { } given)
        {
            rows.Add(await RunDialectAsync(o, medicDll, "PostgreSQL (given)", given, null, ct));
        }
        else if (!o.SqliteOnly)
        {
            await using var pg = await ThrowawayPostgres.StartAsync(ct);
            rows.Add(await RunDialectAsync(o, medicDll, $"PostgreSQL {pg.Version} (throwaway cluster, port {pg.Port})", pg.ConnectionString, pg, ct));
        }

        Console.WriteLine();
        Console.WriteLine("| date | database | machine load (1/5/15 min) | timed incidents | create → first task p50 / p90 / p99 / max | POST answered p50 | senders | incidents | verified/s | create → verified p50 / p99 | control-plane CPU | PostgreSQL CPU |");
        Console.WriteLine("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |");
        foreach (var row in rows) Console.WriteLine(row);
    }

    private static async Task<string> RunDialectAsync(PipelineOptions o, string medicDll, string database, string? connectionString, ThrowawayPostgres? pg, CancellationToken ct)
    {
        Console.WriteLine();
        Console.WriteLine($"== {database}");
        var environment = new Dictionary<string, string>();
        if (connectionString is not null) environment["MEDIC_DATABASE"] = connectionString;
        await using var plane = await FanoutBench.Phase("starting the control plane", FanoutOptions.StartLimit, ct, t => ControlPlaneProcess.StartAsync(medicDll, null, false, t, environment));
        using var sources = new LoopbackSources(o.Agents);
        using var api = new ControlPlaneApi(plane.Url);
        using var progress = new PipelineProgress();
        var agents = new List<SimulatedAgent>(o.Agents);
        try
        {
            Console.WriteLine($"control plane pid {plane.Pid} at {plane.Url}");
            await api.LogInAsync(plane.AdminPassword, ct);
            var token = await api.CreateEnrollmentTokenAsync(o.Agents, ct);
            var enrolled = await FanoutBench.Phase("enrolling", FanoutOptions.EnrollLimit, ct, t => FanoutBench.EnrollAsync(plane.Url, token, o.Agents, sources, t));
            var recorder = new RoundRecorder(o.Agents);
            for (var i = 0; i < o.Agents; i++) agents.Add(new SimulatedAgent(i, enrolled[i], recorder, progress.Answer));
            await FanoutBench.Phase("connecting the agents", FanoutOptions.ConnectLimit, ct,
                t => FanoutBench.ConnectAsync(agents, new Uri($"ws://{plane.Url.Authority}/agent/v1/connect"), sources, t));
            await api.ApplyRunbookAsync(RunbookYaml, ct);
            await api.PutTriageRulesAsync(TriageYaml, ct);
            await api.PutPipelineSettingsAsync(new PipelineSettingsRequest(BlastRadiusPerHour: BlastRadius), ct);
            await progress.WatchAsync(plane.Url, api.Token!, ct);
            Console.WriteLine($"{o.Agents} agents connected; recipe, triage rule and settings applied; watching /ws/incidents");

            var seq = 0;
            var warm = await Sequential(o.Warmup);
            Console.WriteLine($"warm-up: {o.Warmup} incidents, first task p50 {new Percentiles(warm.Select(w => w.TaskMs)).P50:F1} ms (not counted)");
            var loadBefore = LoadAverages();
            var timed = await Sequential(o.Incidents);
            var first = new Percentiles(timed.Select(t => t.TaskMs));
            var posted = new Percentiles(timed.Select(t => t.PostMs));
            Console.WriteLine($"sequential: {timed.Count} incidents, each created after the previous one's first task reached its agent (machine load before {loadBefore}, after {LoadAverages()})");
            Console.WriteLine($"  POST to first task frame read by the agent (ms): p50 {first.P50:F1}  p90 {first.At(90):F1}  p99 {first.P99:F1}  max {first.Max:F1}");
            Console.WriteLine($"  POST /api/v1/incidents answered (ms):             p50 {posted.P50:F1}  p90 {posted.At(90):F1}  p99 {posted.P99:F1}  max {posted.Max:F1}");
            Console.WriteLine($"  target p50 < 100 ms: {(first.P50 < 100 ? "met" : "NOT met")}");
            await BreakdownAsync(api, timed.Where((_, i) => i % 10 == 0).ToList(), ct);

            // The sequential incidents' verifications finish in the background; the throughput phase starts from an idle pipeline.
            await WaitFinishedAsync(progress, Enumerable.Range(1, seq), "the sequential incidents", ct);

            var throughput = await ThroughputAsync(o, api, plane, pg, progress, () => Interlocked.Increment(ref seq), ct);
            if (progress.Escalated > 0)
            {
                throw new BenchFailure($"{progress.Escalated} bench incidents were escalated instead of resolved: {string.Join(" | ", progress.EscalationReasons.Distinct().Take(3))}",
                    "see the control plane's log lines below");
            }

            return string.Create(CultureInfo.InvariantCulture,
                $"| {DateTime.Now:yyyy-MM-dd HH:mm} | {database.Split(" (")[0]} | {loadBefore} | {timed.Count} | **{first.P50:F1}** / {first.At(90):F1} / **{first.P99:F1}** / {first.Max:F1} ms | {posted.P50:F1} ms | {o.Concurrency} | {o.Count} | **{throughput}");

            async Task<List<(string Id, DateTimeOffset SentUtc, double PostMs, double TaskMs, Moment Task)>> Sequential(int count)
            {
                var list = new List<(string, DateTimeOffset, double, double, Moment)>(count);
                for (var n = 0; n < count; n++)
                {
                    var s = Interlocked.Increment(ref seq);
                    var arrived = progress.FirstTask(s);
                    var sentUtc = DateTimeOffset.UtcNow;
                    var sent = Stopwatch.GetTimestamp();
                    var incident = await api.CreateIncidentAsync(Incident(s, o.Agents), ct);
                    var postMs = Stopwatch.GetElapsedTime(sent).TotalMilliseconds;
                    var task = await Within(arrived, $"incident {incident.Id} (bench_seq {s}): no task reached its agent", ct);
                    list.Add((incident.Id, sentUtc, postMs, Stopwatch.GetElapsedTime(sent, task.At).TotalMilliseconds, task));
                }

                return list;
            }
        }
        finally
        {
            foreach (var agent in agents) agent.Dispose();
            plane.PrintProblems();
        }
    }

    /// <summary>C senders open <c>--count</c> incidents back to back; figures from the first request to the last resolution.</summary>
    private static async Task<string> ThroughputAsync(PipelineOptions o, ControlPlaneApi api, ControlPlaneProcess plane, ThrowawayPostgres? pg, PipelineProgress progress, Func<int> nextSeq,
        CancellationToken ct)
    {
        using var limit = CancellationTokenSource.CreateLinkedTokenSource(ct);
        limit.CancelAfter(PipelineOptions.ThroughputLimit);
        var loadBefore = LoadAverages();
        var planeBefore = plane.Stats();
        var pgBefore = pg?.CpuSeconds();
        var started = Stopwatch.GetTimestamp();
        var left = o.Count;
        var seqs = new List<(int Seq, long Sent)>[o.Concurrency];
        await Task.WhenAll(Enumerable.Range(0, o.Concurrency).Select(sender => Task.Run(async () =>
        {
            seqs[sender] = [];
            while (Interlocked.Decrement(ref left) >= 0)
            {
                var s = nextSeq();
                _ = progress.Finished(s);
                seqs[sender].Add((s, Stopwatch.GetTimestamp()));
                await api.CreateIncidentAsync(Incident(s, o.Agents), limit.Token);
            }
        }, limit.Token)));
        var createdIn = Stopwatch.GetElapsedTime(started).TotalSeconds;
        var all = seqs.SelectMany(s => s).ToList();
        var finished = await WaitFinishedAsync(progress, all.Select(a => a.Seq), $"the {o.Count} concurrent incidents", limit.Token);
        var last = finished.Max(f => f.At);
        var planeAfter = plane.Stats();
        var pgAfter = pg?.CpuSeconds();
        var seconds = Stopwatch.GetElapsedTime(started, last).TotalSeconds;
        var resolvedMs = new Percentiles(all.Zip(finished, (a, f) => Stopwatch.GetElapsedTime(a.Sent, f.At).TotalMilliseconds));
        var cpu = planeAfter.CpuSeconds - planeBefore.CpuSeconds;
        var pgCpu = pgAfter - pgBefore;
        Console.WriteLine($"concurrent: {o.Count} incidents from {o.Concurrency} senders, all created in {createdIn:F1} s, all verified (waiting for confirmation) after {seconds:F1} s (machine load before {loadBefore}, after {LoadAverages()})");
        Console.WriteLine($"  verified/s: {o.Count / seconds:F1}; create to verified (ms): p50 {resolvedMs.P50:F0}  p90 {resolvedMs.At(90):F0}  p99 {resolvedMs.P99:F0}  max {resolvedMs.Max:F0}");
        Console.WriteLine($"  control plane CPU {cpu:F1} s ({cpu / seconds * 100:F0} % of one core, {cpu / o.Count * 1000:F1} ms per incident); {planeAfter}" +
            (pgCpu is { } p ? $"; PostgreSQL CPU {p:F1} s ({p / o.Count * 1000:F1} ms per incident)" : ""));
        Console.WriteLine($"  bench (agents, senders, feed) {ProcStats.Self()}");
        return string.Create(CultureInfo.InvariantCulture,
            $"{o.Count / seconds:F1}** | {resolvedMs.P50:F0} / {resolvedMs.P99:F0} ms | {cpu / seconds * 100:F0} % of a core ({cpu / o.Count * 1000:F1} ms/incident) | {(pgCpu is { } q ? $"{q / seconds * 100:F0} % ({q / o.Count * 1000:F1} ms/incident)" : "—")} |");
    }

    /// <summary>
    /// Where the time goes, from the incidents' own timelines: for a sample of the sequential
    /// incidents, the median time from just before the POST to each timeline event (server clock,
    /// the same machine's) and to the agent reading the first task.
    /// </summary>
    private static async Task BreakdownAsync(ControlPlaneApi api, List<(string Id, DateTimeOffset SentUtc, double PostMs, double TaskMs, Moment Task)> sample, CancellationToken ct)
    {
        const string AgentReads = "the agent reads the run's first task";
        var offsets = new Dictionary<string, List<double>>(StringComparer.Ordinal) { [AgentReads] = [] };
        foreach (var (id, sentUtc, _, _, task) in sample)
        {
            var detail = await api.GetIncidentAsync(id, ct);
            foreach (var e in detail.Timeline.OrderBy(e => e.Seq).DistinctBy(e => e.Kind))
            {
                if (!offsets.TryGetValue(e.Kind, out var list)) offsets[e.Kind] = list = [];
                list.Add((e.At - sentUtc).TotalMilliseconds);
            }

            offsets[AgentReads].Add((task.Utc - sentUtc).TotalMilliseconds);
        }

        Console.WriteLine($"  where the time goes ({sample.Count} incidents, every 10th; median ms from sending the POST to each first timeline event of that kind, by its stored time):");
        foreach (var (kind, list) in offsets.Where(kv => kv.Value.Count > 0).OrderBy(kv => new Percentiles(kv.Value).P50))
        {
            Console.WriteLine($"    {new Percentiles(list).P50,8:F1}  {kind}");
        }
    }

    private static async Task<List<Moment>> WaitFinishedAsync(PipelineProgress progress, IEnumerable<int> seqs, string what, CancellationToken ct)
    {
        var waits = seqs.Select(progress.Finished).ToList();
        try
        {
            return [.. await Task.WhenAll(waits).WaitAsync(PipelineOptions.IncidentLimit + TimeSpan.FromSeconds(waits.Count / 10.0), ct)];
        }
        catch (TimeoutException)
        {
            throw new BenchFailure($"{waits.Count(w => !w.IsCompleted)} of {what} had not finished (resolved, escalated or waiting for confirmation)", "see the control plane's log lines below; GET /api/v1/incidents?status=active lists them");
        }
    }

    private static async Task<Moment> Within(Task<Moment> arrived, string failure, CancellationToken ct)
    {
        try
        {
            return await arrived.WaitAsync(PipelineOptions.IncidentLimit, ct);
        }
        catch (TimeoutException)
        {
            throw new BenchFailure($"{failure} within {PipelineOptions.IncidentLimit.TotalSeconds:0} s", "see the control plane's log lines below");
        }
    }

    /// <summary>Bench incident <paramref name="seq"/>, on one of the agents in turn.</summary>
    private static CreateIncidentRequest Incident(int seq, int agents) => new(
        $"bench incident {seq}", "warning", SimulatedAgent.NameOf(seq % agents), Type: IncidentType,
        Labels: new Dictionary<string, string> { [PipelineProgress.Label] = seq.ToString(CultureInfo.InvariantCulture) });

    private static string LoadAverages() => string.Join(" ", File.ReadAllText("/proc/loadavg").Split(' ').Take(3));
}
