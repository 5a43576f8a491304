using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Medic.Bench.Fanout;
using Medic.Contracts;
using Medic.Contracts.Agent;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Medic.Bench.Pipeline;

/// <summary>What <c>bulkhead</c> was asked to do.</summary>
internal sealed record BulkheadOptions(int Samples, int Warmup, int LongRuns, string? Postgres, bool SqliteOnly, string? MedicDll)
{
    public const string Usage = "see: Medic.Bench bulkhead [--samples N] [--warmup N] [--long-runs N] [--postgres CONNECTION-STRING | --sqlite-only] [--medic PATH]";

    public static BulkheadOptions Parse(string[] args)
    {
        string? postgres = null, medic = null;
        int samples = 30, warmup = 5, longRuns = 20;
        var sqliteOnly = false;
        var a = new BenchArgs(args, Usage);
        while (a.Next(out var option))
        {
            switch (option)
            {
                case "--samples": samples = a.Number(1, 1000); break;
                case "--warmup": warmup = a.Number(0, 100); break;
                case "--long-runs": longRuns = a.Number(1, 1000); break;
                case "--postgres": postgres = a.Value(); break;
                case "--sqlite-only": sqliteOnly = true; break;
                case "--medic": medic = a.Value(); break;
                default: throw a.Unknown(option);
            }
        }

        if (sqliteOnly && postgres is not null) throw new BenchFailure("--postgres and --sqlite-only exclude each other", Usage);
        return new BulkheadOptions(samples, warmup, longRuns, postgres, sqliteOnly, medic);
    }
}

/// <summary>
/// <c>bulkhead [--samples N] [--long-runs R]</c>: whether long runbook runs hold up the rest of
/// the control plane's work. A real control plane with one simulated agent, a webhook channel to a
/// loopback receiver and a rule for <c>opened</c>. Each sample opens an incident no triage rule
/// matches and times, from just before its POST, (a) its first <c>triage</c> timeline event (by its
/// stored time) and (b) its <c>opened</c> notification reaching the receiver. First with nothing in
/// flight, then with R remediation runs in flight: R incidents a triage rule remediates
/// autonomously, whose tasks the agent takes and never answers until the bench ends.
/// </summary>
internal static class BulkheadBench
{
    private const string LongType = "bench_long";
    private const string SampleType = "bench_bulkhead";
    private const string Recipe = "bench-long";
    private const string Hold = "hold";

    private const string RunbookYaml = $$$"""
        name: {{{Recipe}}}
        version: 1
        description: The bulkhead bench's long run. Its simulated agent takes the task and never answers while the bench runs.
        risk: low
        remediates:
          types: [{{{LongType}}}]
        parameters:
          seq:
            type: string
            description: which long run this is
            pattern: '[0-9]{1,9}'
            required: true
        targets: incident
        steps:
          - name: wait
            run: [{{{PipelineProgress.Program}}}, {{{Hold}}}, '${{ params.seq }}']
            timeout: 1h
        """;

    private const string TriageYaml = $$"""
        rules:
          - name: bench-long
            match:
              type: {{LongType}}
            recipe: {{Recipe}}
            params:
              seq: "${labels.{{PipelineProgress.Label}}}"
            trust: autonomous
        """;

    /// <summary>How long one sample may take (triage and notification) before the run fails.</summary>
    private static readonly TimeSpan SampleLimit = TimeSpan.FromSeconds(60);

    public static Task<int> RunAsync(string[] args) =>
        BenchCommand.RunAsync("bulkhead", ct => RunAsync(BulkheadOptions.Parse(args), ct), "interrupted; the control plane, the agent and PostgreSQL it started were stopped");

    private static async Task RunAsync(BulkheadOptions o, CancellationToken ct)
    {
        var medicDll = FanoutBench.LocateMedic(o.MedicDll);
        Console.WriteLine($"bulkhead: {o.Warmup} warm-up and {o.Samples} timed incidents with nothing in flight, then {o.Samples} with {o.LongRuns} remediation runs in flight");
#if DEBUG
        Console.WriteLine("  warning: this bench is a Debug build; run it with -c Release for figures worth keeping");
#endif
        Console.WriteLine($"machine: {ProcStats.MachineLoad()}");
        var rows = new List<string> { await RunDialectAsync(o, medicDll, "SQLite", null, ct) };
        if (o.Postgres is { } given)
        {
            rows.Add(await RunDialectAsync(o, medicDll, "PostgreSQL (given)", given, ct));
        }
        else if (!o.SqliteOnly)
        {
            await using var pg = await ThrowawayPostgres.StartAsync(ct);
            rows.Add(await RunDialectAsync(o, medicDll, $"PostgreSQL {pg.Version} (throwaway cluster, port {pg.Port})", pg.ConnectionString, ct));
        }

        Console.WriteLine();
        Console.WriteLine("| date | database | machine load (1/5/15 min) | runs in flight | samples | create → triage event p50 / p99 | create → `opened` webhook received p50 / p99 |");
        Console.WriteLine("| --- | --- | --- | --- | --- | --- | --- |");
        foreach (var row in rows) Console.WriteLine(row);
    }

    private static async Task<string> RunDialectAsync(BulkheadOptions o, string medicDll, string database, string? connectionString, CancellationToken ct)
    {
        Console.WriteLine();
        Console.WriteLine($"== {database}");
        var environment = new Dictionary<string, string>();
        if (connectionString is not null) environment["MEDIC_DATABASE"] = connectionString;
        await using var receiver = await WebhookReceiver.StartAsync();
        await using var plane = await FanoutBench.Phase("starting the control plane", FanoutOptions.StartLimit, ct, t => ControlPlaneProcess.StartAsync(medicDll, null, false, t, environment));
        using var sources = new LoopbackSources(1);
        using var api = new ControlPlaneApi(plane.Url);
        var held = new ConcurrentDictionary<string, bool>(StringComparer.Ordinal);
        var allHeld = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        SimulatedAgent? agent = null;
        try
        {
            Console.WriteLine($"control plane pid {plane.Pid} at {plane.Url}; webhook receiver at {receiver.Address}");
            await api.LogInAsync(plane.AdminPassword, ct);
            var token = await api.CreateEnrollmentTokenAsync(1, ct);
            var enrolled = await FanoutBench.Phase("enrolling", FanoutOptions.EnrollLimit, ct, t => FanoutBench.EnrollAsync(plane.Url, token, 1, sources, t));
            agent = new SimulatedAgent(0, enrolled[0], new RoundRecorder(1), holds: spec =>
            {
                if (!IsHold(spec)) return false;
                if (held.TryAdd(spec.TaskId, true) && held.Count >= o.LongRuns) allHeld.TrySetResult();
                return true;
            });
            await FanoutBench.Phase("connecting the agent", FanoutOptions.ConnectLimit, ct,
                t => FanoutBench.ConnectAsync([agent], new Uri($"ws://{plane.Url.Authority}/agent/v1/connect"), sources, t));
            await api.ApplyRunbookAsync(RunbookYaml, ct);
            await api.PutTriageRulesAsync(TriageYaml, ct);
            await api.PutPipelineSettingsAsync(new PipelineSettingsRequest(BlastRadiusPerHour: PipelineBench.BlastRadius), ct);
            await api.CreateNotificationChannelAsync(new CreateNotificationChannelRequest("hook", "webhook", Url: receiver.Address + "hook"), ct);
            await api.CreateNotificationRuleAsync(new CreateNotificationRuleRequest("people", ["hook"], Events: ["opened"]), ct);
            Console.WriteLine("agent connected; recipe, triage rule, settings, webhook channel and rule applied");

            var sample = 0;
            await Samples(o.Warmup);
            var loadBefore = LoadAverages();
            var idle = await Samples(o.Samples);
            var idleRow = Report("nothing in flight", idle, loadBefore);

            // The long runs: each incident's remediation task reaches the agent, which keeps it unanswered.
            for (var n = 1; n <= o.LongRuns; n++)
            {
                await api.CreateIncidentAsync(new CreateIncidentRequest($"bench long run {n}", "warning", SimulatedAgent.NameOf(0), Type: LongType,
                    Labels: new Dictionary<string, string> { [PipelineProgress.Label] = n.ToString(CultureInfo.InvariantCulture) }), ct);
            }

            try
            {
                await allHeld.Task.WaitAsync(SampleLimit, ct);
            }
            catch (TimeoutException)
            {
                throw new BenchFailure($"only {held.Count} of the {o.LongRuns} long runs' tasks reached the agent", "see the control plane's log lines below");
            }

            // Their own opened notifications go out first, so the samples below start from runs in flight, not a notification backlog.
            await receiver.WaitForCountAsync(o.Warmup + o.Samples + o.LongRuns, SampleLimit, ct);
            Console.WriteLine($"{held.Count} remediation tasks taken by the agent and left unanswered");
            loadBefore = LoadAverages();
            var busy = await Samples(o.Samples);
            var busyRow = Report($"{o.LongRuns} runs in flight", busy, loadBefore);
            if (held.Count != o.LongRuns) throw new BenchFailure($"{held.Count} tasks were held, not {o.LongRuns}", "a run was retried or started twice; see the control plane's log");

            return Row(database, idleRow, 0) + Environment.NewLine + Row(database, busyRow, o.LongRuns);

            async Task<List<(double TriageMs, double NotifiedMs)>> Samples(int count)
            {
                var list = new List<(double, double)>(count);
                for (var n = 0; n < count; n++)
                {
                    var title = $"bulkhead sample {++sample}";
                    var notified = receiver.Expect(title);
                    var sentUtc = DateTimeOffset.UtcNow;
                    var sent = Stopwatch.GetTimestamp();
                    var incident = await api.CreateIncidentAsync(new CreateIncidentRequest(title, "warning", SimulatedAgent.NameOf(0), Type: SampleType), ct);
                    long arrived;
                    try
                    {
                        arrived = await notified.WaitAsync(SampleLimit, ct);
                    }
                    catch (TimeoutException)
                    {
                        throw new BenchFailure($"incident {incident.Id}: no opened notification within {SampleLimit.TotalSeconds:0} s", "see the control plane's log lines below");
                    }

                    var triaged = await TriagedAtAsync(api, incident.Id, ct);
                    list.Add(((triaged - sentUtc).TotalMilliseconds, Stopwatch.GetElapsedTime(sent, arrived).TotalMilliseconds));
                }

                return list;
            }
        }
        finally
        {
            agent?.Dispose();
            plane.PrintProblems();
        }
    }

    private static bool IsHold(TaskSpec spec)
    {
        var argv = spec.Argv;
        for (var i = 0; i + 1 < argv.Count; i++)
        {
            if (argv[i] == PipelineProgress.Program && argv[i + 1] == Hold) return true;
        }

        return false;
    }

    /// <summary>The stored time of the incident's first triage event, polled until it is there.</summary>
    private static async Task<DateTimeOffset> TriagedAtAsync(ControlPlaneApi api, string id, CancellationToken ct)
    {
        var deadline = Stopwatch.GetTimestamp() + (long)(SampleLimit.TotalSeconds * Stopwatch.Frequency);
        while (true)
        {
            var detail = await api.GetIncidentAsync(id, ct);
            if (detail.Timeline.Where(e => e.Kind == "triage").OrderBy(e => e.Seq).FirstOrDefault() is { } triage) return triage.At;
            if (Stopwatch.GetTimestamp() > deadline)
            {
                throw new BenchFailure($"incident {id} was not triaged within {SampleLimit.TotalSeconds:0} s; timeline: {string.Join(" | ", detail.Timeline.Select(e => e.Kind))}",
                    "see the control plane's log lines below");
            }

            await Task.Delay(20, ct);
        }
    }

    private static (Percentiles Triage, Percentiles Notified, string Load) Report(string what, List<(double TriageMs, double NotifiedMs)> samples, string loadBefore)
    {
        var triage = new Percentiles(samples.Select(s => s.TriageMs));
        var notified = new Percentiles(samples.Select(s => s.NotifiedMs));
        Console.WriteLine($"{what}: {samples.Count} incidents one after another (machine load before {loadBefore}, after {LoadAverages()})");
        Console.WriteLine($"  POST to first triage event (stored time, ms):   p50 {triage.P50:F1}  p90 {triage.At(90):F1}  p99 {triage.P99:F1}  max {triage.Max:F1}");
        Console.WriteLine($"  POST to opened webhook at the receiver (ms):     p50 {notified.P50:F1}  p90 {notified.At(90):F1}  p99 {notified.P99:F1}  max {notified.Max:F1}");
        return (triage, notified, loadBefore);
    }

    private static string Row(string database, (Percentiles Triage, Percentiles Notified, string Load) r, int inFlight) => string.Create(CultureInfo.InvariantCulture,
        $"| {DateTime.Now:yyyy-MM-dd HH:mm} | {database.Split(" (")[0]} | {r.Load} | {inFlight} | {r.Triage.Count} | **{r.Triage.P50:F1}** / {r.Triage.P99:F1} ms | **{r.Notified.P50:F1}** / {r.Notified.P99:F1} ms |");

    private static string LoadAverages() => string.Join(" ", File.ReadAllText("/proc/loadavg").Split(' ').Take(3));

    /// <summary>A webhook receiver on loopback: notes when each incident's notification (by its title) arrived, on the bench's monotonic clock.</summary>
    private sealed class WebhookReceiver : IAsyncDisposable
    {
        private readonly WebApplication _app;
        private readonly ConcurrentDictionary<string, TaskCompletionSource<long>> _byTitle = new(StringComparer.Ordinal);
        private int _received;

        private WebhookReceiver(WebApplication app) => _app = app;

        public Uri Address { get; private set; } = null!;

        public static async Task<WebhookReceiver> StartAsync()
        {
            var builder = WebApplication.CreateSlimBuilder();
            builder.WebHost.UseUrls("http://127.0.0.1:0");
            builder.Logging.ClearProviders();
            var app = builder.Build();
            var self = new WebhookReceiver(app);
            app.Run(async context =>
            {
                using var body = await JsonDocument.ParseAsync(context.Request.Body);
                var at = Stopwatch.GetTimestamp();
                Interlocked.Increment(ref self._received);
                if (body.RootElement.TryGetProperty("incident", out var incident) && incident.ValueKind == JsonValueKind.Object
                    && incident.GetProperty("title").GetString() is { } title)
                {
                    self._byTitle.GetOrAdd(title, _ => New()).TrySetResult(at);
                }

                await context.Response.WriteAsync("ok");
            });
            await app.StartAsync();
            self.Address = new Uri(app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.Single());
            return self;
        }

        /// <summary>Completes with the moment the notification for the incident titled <paramref name="title"/> arrived.</summary>
        public Task<long> Expect(string title) => _byTitle.GetOrAdd(title, _ => New()).Task;

        public async Task WaitForCountAsync(int count, TimeSpan limit, CancellationToken ct)
        {
            var deadline = Stopwatch.GetTimestamp() + (long)(limit.TotalSeconds * Stopwatch.Frequency);
            while (Volatile.Read(ref _received) < count)
            {
                if (Stopwatch.GetTimestamp() > deadline) throw new BenchFailure($"{_received} of {count} notifications arrived", "see the control plane's log lines below");
                await Task.Delay(20, ct);
            }
        }

        private static TaskCompletionSource<long> New() => new(TaskCreationOptions.RunContinuationsAsynchronously);

        public async ValueTask DisposeAsync() => await _app.DisposeAsync();
    }
}
