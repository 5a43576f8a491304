using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using Medic.Bench.Fanout;
using Medic.Contracts;

namespace Medic.Bench.Webhooks;

/// <summary>
/// <c>webhooks [--database URL] [--seconds S] [--concurrency C] [--groups G] [--alerts A] [--mix steady|flapping]</c>:
/// a real control plane, and C senders posting signed Alertmanager deliveries as fast as it answers.
/// G alert groups of A alerts each (G×A alert fingerprints, 1,000 by default); every delivery is
/// one whole group. With <c>--mix steady</c> (the default) each alert keeps its state from one
/// delivery to the next, starts firing (80 %) or resolved, and changes state in 2 % of deliveries,
/// as an Alertmanager's repeated notifications do: mostly repeats, some new incidents, resolutions
/// and reopenings. With <c>--mix flapping</c> each alert is drawn firing (80 %) or resolved anew in
/// every delivery, so nearly every alert resolves and reopens its incident over and over, and each
/// reopening starts a pipeline round: a measure of pipeline rounds more than of ingest.
/// Prints alerts per second and the latency of each delivery.
/// </summary>
internal static class WebhookBench
{
    private static readonly MedicJson Json = new(new JsonSerializerOptions(MedicJson.Default.Options) { UnmappedMemberHandling = JsonUnmappedMemberHandling.Skip });

    public static Task<int> RunAsync(string[] args) => BenchCommand.RunAsync("webhooks", ct => RunAsync(WebhookBenchOptions.Parse(args), ct));

    private static async Task RunAsync(WebhookBenchOptions o, CancellationToken ct)
    {
        var medicDll = FanoutBench.LocateMedic(o.MedicDll);
#if DEBUG
        Console.WriteLine("  warning: this bench is a Debug build; run it with -c Release for figures worth keeping");
#endif
        var environment = new Dictionary<string, string> { ["MEDIC_RATE_LIMITS__WEBHOOKS_PER_MINUTE"] = "100000000" };
        if (o.Database is not null) environment["MEDIC_DATABASE"] = o.Database;
        await using var plane = await ControlPlaneProcess.StartAsync(medicDll, null, false, ct, environment);
        var dialect = o.Database is null ? "sqlite" : "postgres";
        Console.WriteLine($"control plane pid {plane.Pid} on {plane.Url} ({dialect}); {o.Groups} groups x {o.Alerts} alerts = {o.Groups * o.Alerts} fingerprints, {o.Mix} mix, {o.Concurrency} senders, {o.WarmupSeconds} s warm-up + {o.Seconds} s measured");
        var states = new AlertStates(o.Groups * o.Alerts, o.Mix);

        using var admin = new HttpClient { BaseAddress = plane.Url, Timeout = TimeSpan.FromSeconds(60) };
        using var login = await admin.PostAsync("/api/v1/auth/token", JsonContent.Create(new TokenLoginRequest("admin", plane.AdminPassword, TokenName: "webhook bench"), Json.TokenLoginRequest), ct);
        var token = (await login.Content.ReadFromJsonAsync(Json.TokenCreatedResponse, ct))?.Secret ?? throw new BenchFailure("logging in failed", "check the control plane's log");
        admin.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        var credentials = await admin.GetFromJsonAsync("/api/v1/webhooks", Json.WebhooksResponse, ct) ?? throw new BenchFailure("GET /api/v1/webhooks answered nothing", "check the control plane's log");
        var secret = Encoding.UTF8.GetBytes(credentials.SigningSecret);
        var url = credentials.Sources.Single(s => s.Source == "alertmanager").Url;

        using var handler = new SocketsHttpHandler { MaxConnectionsPerServer = o.Concurrency, PooledConnectionLifetime = Timeout.InfiniteTimeSpan };
        using var http = new HttpClient(handler) { Timeout = TimeSpan.FromSeconds(60) };
        var latencies = new List<double>[o.Concurrency];
        var statuses = new Dictionary<int, int>[o.Concurrency];
        var alertCounts = new long[o.Concurrency];
        var measuring = false;
        var stop = DateTime.UtcNow.AddSeconds(o.WarmupSeconds + o.Seconds);
        var measureFrom = DateTime.UtcNow.AddSeconds(o.WarmupSeconds);
        var measuredStart = 0L;
        var measuredEnd = 0L;
        var cpuBefore = 0.0;

        var senders = Enumerable.Range(0, o.Concurrency).Select(sender => Task.Run(async () =>
        {
            var random = new Random(sender * 7919 + 1);
            latencies[sender] = new List<double>(100_000);
            statuses[sender] = [];
            while (DateTime.UtcNow < stop && !ct.IsCancellationRequested)
            {
                var body = Delivery(states, random, random.Next(o.Groups), o.Alerts);
                var ts = DateTimeOffset.UtcNow.ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture);
                var signature = Convert.ToHexStringLower(HMACSHA256.HashData(secret, (byte[])[.. Encoding.UTF8.GetBytes(ts + "."), .. body]));
                using var request = new HttpRequestMessage(HttpMethod.Post, url) { Content = new ByteArrayContent(body) };
                request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
                request.Headers.Add("X-Medic-Timestamp", ts);
                request.Headers.Add("X-Medic-Signature", "sha256=" + signature);
                var started = Stopwatch.GetTimestamp();
                using var response = await http.SendAsync(request, ct);
                await response.Content.LoadIntoBufferAsync(ct);
                var elapsed = Stopwatch.GetElapsedTime(started).TotalMilliseconds;
                if (!Volatile.Read(ref measuring)) continue;
                latencies[sender].Add(elapsed);
                var code = (int)response.StatusCode;
                statuses[sender][code] = statuses[sender].GetValueOrDefault(code) + 1;
                if (response.StatusCode == HttpStatusCode.OK) alertCounts[sender] += o.Alerts;
            }
        }, ct)).ToList();

        await Task.Delay(measureFrom - DateTime.UtcNow, ct);
        cpuBefore = plane.Stats().CpuSeconds;
        measuredStart = Stopwatch.GetTimestamp();
        Volatile.Write(ref measuring, true);
        await Task.WhenAll(senders);
        measuredEnd = Stopwatch.GetTimestamp();
        var cpu = plane.Stats().CpuSeconds - cpuBefore;

        var seconds = Stopwatch.GetElapsedTime(measuredStart, measuredEnd).TotalSeconds;
        var all = new Percentiles(latencies.SelectMany(l => l));
        var codes = statuses.SelectMany(s => s).GroupBy(kv => kv.Key).ToDictionary(g => g.Key, g => g.Sum(kv => kv.Value));
        var alerts = alertCounts.Sum();
        var incidents = await admin.GetFromJsonAsync("/api/v1/incidents?source=alertmanager&limit=500", Json.IncidentPage, ct);
        Console.WriteLine();
        Console.WriteLine($"deliveries  {all.Count}  ({string.Join(", ", codes.OrderBy(c => c.Key).Select(c => $"{c.Value} x {c.Key}"))})");
        Console.WriteLine($"alerts      {alerts} in {seconds:F1} s = {alerts / seconds:F0} alerts/s ({all.Count / seconds:F0} deliveries/s)");
        Console.WriteLine($"latency ms  p50 {all.P50:F1}  p95 {all.P95:F1}  p99 {all.P99:F1}  max {all.Max:F1}");
        Console.WriteLine($"server CPU  {cpu:F1} s over {seconds:F1} s ({cpu / seconds * 100:F0} % of one core)");
        Console.WriteLine($"incidents   {incidents?.Items.Count ?? 0} alertmanager incidents listed (one per alert fingerprint; the list stops at 500), {plane.Warnings} warning lines in the server log");
        if (codes.Keys.Any(c => c != 200))
        {
            throw new BenchFailure($"some deliveries were refused: {string.Join(" | ", plane.RecentProblems)}", "the bench signs every delivery; check the control plane's log");
        }
    }

    /// <summary>One Alertmanager v4 notification for group <paramref name="group"/>, shaped like alertmanager's own.</summary>
    private static byte[] Delivery(AlertStates states, Random random, int group, int alerts)
    {
        var name = "BenchAlert" + group.ToString(CultureInfo.InvariantCulture);
        var now = DateTimeOffset.UtcNow;
        var firingCount = 0;
        var text = new StringBuilder(alerts * 512);
        text.Append("{\"receiver\":\"medic\",\"status\":\"%STATUS%\",\"alerts\":[");
        for (var i = 0; i < alerts; i++)
        {
            var firing = states.Next(random, (group * alerts) + i);
            if (firing) firingCount++;
            var instance = $"host-{(group * alerts) + i}:9100";
            var fingerprint = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(name + instance)))[..16];
            if (i > 0) text.Append(',');
            text.Append(CultureInfo.InvariantCulture,
                $$"""{"status":"{{(firing ? "firing" : "resolved")}}","labels":{"alertname":"{{name}}","instance":"{{instance}}","job":"node","severity":"warning"},"annotations":{"description":"Load on {{instance}} is high.","summary":"High load"},"startsAt":"{{now.AddMinutes(-5):yyyy-MM-ddTHH:mm:ss.fffZ}}","endsAt":"{{(firing ? "0001-01-01T00:00:00Z" : now.ToString("yyyy-MM-ddTHH:mm:ss.fffZ", CultureInfo.InvariantCulture))}}","generatorURL":"http://prometheus:9090/graph?g0.expr=node_load1+%3E+4\u0026g0.tab=1","fingerprint":"{{fingerprint}}"}""");
        }

        text.Append(CultureInfo.InvariantCulture, $$"""],"groupLabels":{"alertname":"{{name}}"},"commonLabels":{"alertname":"{{name}}","job":"node","severity":"warning"},"commonAnnotations":{"summary":"High load"},"externalURL":"http://alertmanager:9093","version":"4","groupKey":"{}:{alertname=\"{{name}}\"}","truncatedAlerts":0}""");
        text.Append('\n');
        return Encoding.UTF8.GetBytes(text.Replace("%STATUS%", firingCount > 0 ? "firing" : "resolved").ToString());
    }
}

internal sealed record WebhookBenchOptions(string? Database, int Seconds, int WarmupSeconds, int Concurrency, int Groups, int Alerts, string? MedicDll, string Mix)
{
    private const string Usage = "see: Medic.Bench webhooks [--database URL] [--seconds S] [--warmup S] [--concurrency C] [--groups G] [--alerts A] [--mix steady|flapping] [--medic PATH]";

    public static WebhookBenchOptions Parse(string[] args)
    {
        string? database = null, medic = null, mix = "steady";
        int seconds = 30, warmup = 5, concurrency = 8, groups = 100, alerts = 10;
        var a = new BenchArgs(args, Usage);
        while (a.Next(out var option))
        {
            switch (option)
            {
                case "--database": database = a.Value(); break;
                case "--seconds": seconds = a.Number(1, 3600); break;
                case "--warmup": warmup = a.Number(0, 600); break;
                case "--concurrency": concurrency = a.Number(1, 512); break;
                case "--groups": groups = a.Number(1, 100_000); break;
                case "--alerts": alerts = a.Number(1, 1000); break;
                case "--medic": medic = a.Value(); break;
                case "--mix": mix = a.Value(); break;
                default: throw a.Unknown(option);
            }
        }

        if (mix is not ("steady" or "flapping")) throw new BenchFailure($"--mix '{mix}' is not a mix", "use --mix steady (repeats, the default) or --mix flapping (every alert drawn anew each delivery)");
        return new WebhookBenchOptions(database, seconds, warmup, concurrency, groups, alerts, medic, mix);
    }
}

/// <summary>Whether each alert fires in the next delivery: kept per alert and changed in 2 % of deliveries (steady), or drawn anew each time (flapping).</summary>
internal sealed class AlertStates(int count, string mix)
{
    private readonly bool[] _firing = InitialStates(count);

    public bool Next(Random random, int alert)
    {
        if (mix == "flapping") return random.Next(10) < 8;
        lock (_firing)
        {
            if (random.Next(100) < 2) _firing[alert] = !_firing[alert];
            return _firing[alert];
        }
    }

    private static bool[] InitialStates(int count)
    {
        var random = new Random(42);
        return [.. Enumerable.Range(0, count).Select(_ => random.Next(10) < 8)];
    }
}
