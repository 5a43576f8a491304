using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using Dapper;
using Medic.Bench.Fanout;
using Medic.Server.Storage;
using Microsoft.Data.Sqlite;

namespace Medic.Bench.Scrape;

/// <summary>
/// The cost of one <c>/metrics</c> scrape on a real <c>medic server</c> (SQLite) seeded with servers,
/// unresolved incidents across tenants and states, and a job history: time and size of a scrape that
/// reads the database again (its readings were stale) and of one served from the cached readings.
/// </summary>
internal static class MetricsScrapeBench
{
    public static async Task<int> RunAsync(string[] args)
    {
        var servers = 100;
        var incidents = 1_000;
        var tenants = 10;
        var doneJobs = 10_000;
        var runs = 20;
        string? medic = null;
        for (var i = 0; i < args.Length; i++)
        {
            switch (args[i])
            {
                case "--servers": servers = int.Parse(args[++i], CultureInfo.InvariantCulture); break;
                case "--incidents": incidents = int.Parse(args[++i], CultureInfo.InvariantCulture); break;
                case "--tenants": tenants = int.Parse(args[++i], CultureInfo.InvariantCulture); break;
                case "--done-jobs": doneJobs = int.Parse(args[++i], CultureInfo.InvariantCulture); break;
                case "--runs": runs = int.Parse(args[++i], CultureInfo.InvariantCulture); break;
                case "--medic": medic = args[++i]; break;
                default:
                    Console.Error.WriteLine("usage: Medic.Bench metrics [--servers N] [--incidents N] [--tenants N] [--done-jobs N] [--runs R] [--medic PATH/medic.dll]");
                    return 2;
            }
        }

        using var cts = new CancellationTokenSource(TimeSpan.FromMinutes(10));
        // Readings go stale after 1 s, so a scrape after a pause of 1.1 s reads the database again.
        await using var plane = await ControlPlaneProcess.StartAsync(FanoutBench.LocateMedic(medic), null, false, cts.Token,
            new Dictionary<string, string> { ["MEDIC_METRICS__REFRESH_SECONDS"] = "1" });
        await SeedAsync(Path.Combine(plane.DataDir, "medic.db"), servers, incidents, tenants, doneJobs);

        using var http = new HttpClient { BaseAddress = plane.Url, Timeout = TimeSpan.FromSeconds(30) };
        using (var login = await http.PostAsJsonAsync("/api/v1/auth/token", new { username = "admin", password = plane.AdminPassword }, cts.Token))
        {
            login.EnsureSuccessStatusCode();
            http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", (await login.Content.ReadFromJsonAsync<JsonElement>(cts.Token)).GetProperty("secret").GetString());
        }

        using (var token = await http.PostAsJsonAsync("/api/v1/tokens", new { name = "bench", role = "metrics" }, cts.Token))
        {
            token.EnsureSuccessStatusCode();
            http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", (await token.Content.ReadFromJsonAsync<JsonElement>(cts.Token)).GetProperty("secret").GetString());
        }

        for (var i = 0; i < 5; i++) await ScrapeAsync(http, cts.Token); // warm up: JIT, connection

        var refreshing = new List<double>();
        var cached = new List<double>();
        var body = "";
        for (var i = 0; i < runs; i++)
        {
            await Task.Delay(1100, cts.Token);
            (var ms, body) = await ScrapeAsync(http, cts.Token);
            refreshing.Add(ms);
            cached.Add((await ScrapeAsync(http, cts.Token)).Ms);
        }

        var samples = body.Split('\n').Count(l => l.Length > 0 && !l.StartsWith('#'));
        var medicSamples = body.Split('\n').Count(l => l.StartsWith("medic_", StringComparison.Ordinal));
        Console.WriteLine($"/metrics on SQLite, {servers:N0} servers, {incidents:N0} unresolved incidents in {tenants} tenants, {doneJobs:N0} done jobs; median of {runs}:");
        Console.WriteLine($"  scrape reading the database   {Median(refreshing),8:0.0} ms (p95 {Percentile(refreshing, 0.95):0.0} ms)");
        Console.WriteLine($"  scrape from cached readings   {Median(cached),8:0.0} ms (p95 {Percentile(cached, 0.95):0.0} ms)");
        Console.WriteLine($"  body                          {body.Length / 1024.0,8:0.0} KiB, {samples:N0} samples ({medicSamples:N0} medic_*)");
        plane.PrintProblems();
        return 0;
    }

    private static async Task<(double Ms, string Body)> ScrapeAsync(HttpClient http, CancellationToken ct)
    {
        var watch = Stopwatch.StartNew();
        var body = await http.GetStringAsync("/metrics", ct);
        return (watch.Elapsed.TotalMilliseconds, body);
    }

    private static double Median(List<double> values) => Percentile(values, 0.5);

    private static double Percentile(List<double> values, double p)
    {
        var sorted = values.Order().ToList();
        return sorted[Math.Min(sorted.Count - 1, (int)Math.Ceiling(p * sorted.Count) - 1)];
    }

    private static async Task SeedAsync(string dbPath, int servers, int incidents, int tenants, int doneJobs)
    {
        DapperSetup.EnsureConfigured();
        await using var c = new SqliteConnection($"Data Source={dbPath};Pooling=false");
        await c.OpenAsync();
        await c.ExecuteAsync("PRAGMA busy_timeout = 30000");
        var first = await c.ExecuteScalarAsync<string>("SELECT id FROM tenants ORDER BY created_at LIMIT 1")
            ?? throw new InvalidOperationException("the control plane created no tenant");
        var now = DateTimeOffset.UtcNow;
        await using var tx = await c.BeginTransactionAsync();
        var tenantIds = new List<string> { first };
        for (var t = 1; t < tenants; t++)
        {
            var id = "ten_bench" + t.ToString("D4", CultureInfo.InvariantCulture);
            tenantIds.Add(id);
            await c.ExecuteAsync("INSERT INTO tenants (id, slug, name, created_at) VALUES (@id, @slug, @slug, @now)", new { id, slug = "bench-" + t, now }, tx);
        }

        for (var i = 0; i < servers; i++)
        {
            await c.ExecuteAsync(
                "INSERT INTO nodes (id, tenant_id, name, tags, status, drained, enrolled_at, last_seen_at, kind) VALUES (@id, @tenant, @name, '{}', 'online', 0, @now, @now, 'agent')",
                new { id = "nod_bench" + i.ToString("D5", CultureInfo.InvariantCulture), tenant = tenantIds[i % tenants], name = "srv-" + i.ToString("D5", CultureInfo.InvariantCulture), now }, tx);
        }

        string[] states = ["open", "triaging", "diagnosing", "awaiting_approval", "executing", "failed", "escalated"];
        for (var i = 0; i < incidents; i++)
        {
            await c.ExecuteAsync(
                "INSERT INTO incidents (id, tenant_id, server_id, source, type, severity, status, fingerprint, title, labels, signal_count, flap_window_start, first_seen_at, last_seen_at, updated_at) " +
                "VALUES (@id, @tenant, @server, 'agent', 'disk_problem', 'warning', @status, @fingerprint, @title, '{}', 1, @now, @now, @now, @now)",
                new
                {
                    id = "inc_bench" + i.ToString("D7", CultureInfo.InvariantCulture), tenant = tenantIds[i % servers % tenants], server = "nod_bench" + (i % servers).ToString("D5", CultureInfo.InvariantCulture),
                    status = states[i % states.Length], fingerprint = "bench:" + i.ToString(CultureInfo.InvariantCulture), title = "disk " + i.ToString(CultureInfo.InvariantCulture), now,
                }, tx);
        }

        // A job history: done jobs are most of the table and must not be read by a scrape.
        for (var i = 0; i < doneJobs; i++)
        {
            await c.ExecuteAsync(
                "INSERT INTO jobs (id, tenant_id, kind, idempotency_key, payload, status, attempts, max_attempts, run_after, created_at, finished_at) " +
                "VALUES (@id, @tenant, 'bench.history', @key, '{}', 'done', 1, 8, @at, @at, @at)",
                new { id = "job_bench" + i.ToString("D7", CultureInfo.InvariantCulture), tenant = first, key = "bench:" + i.ToString(CultureInfo.InvariantCulture), at = now.AddSeconds(-i) }, tx);
        }

        await tx.CommitAsync();
    }
}
