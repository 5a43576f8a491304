using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Dapper;
using Medic.Contracts;
using Medic.Contracts.Agent;
using Medic.Server.Audit;
using Medic.Server.Common;
using Medic.Server.Detection;
using Medic.Server.Detection.Forecasting;
using Medic.Server.Fleet;
using Medic.Server.Incidents;
using Medic.Server.Storage;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace Medic.Bench.Forecast;

/// <summary>
/// <c>forecast [servers]</c>: what the early-warning patrol costs. Fills a SQLite database with a
/// day of one-a-minute metrics for each server (3 mounts, 10 processes; one server in ten filling
/// its disk), then times the forecasts alone and whole sweeps (history read, forecasts, incidents).
/// </summary>
internal static class EarlyWarningBench
{
    private const int Minutes = 24 * 60;

    public static async Task<int> RunAsync(string[] args)
    {
        int servers = args.Length > 0 ? int.Parse(args[0], CultureInfo.InvariantCulture) : 200;
        var now = new DateTimeOffset(2026, 11, 21, 12, 0, 0, TimeSpan.Zero);
        var dir = Directory.CreateTempSubdirectory("medic-bench-forecast-");
        try
        {
            await using var db = Database.FromUrl("sqlite:" + Path.Combine(dir.FullName, "medic.db"));
            await new Migrator(db).ApplyAsync();
            var clock = Stopwatch.StartNew();
            await FillAsync(db, servers, now);
            Console.WriteLine($"{servers} servers x {Minutes} minutes of metrics written in {clock.Elapsed.TotalSeconds:F1} s");

            var window = MemoryGrowth.Defaults.Window > new ForecastOptions().Window ? MemoryGrowth.Defaults.Window : new ForecastOptions().Window;
            const int rounds = 200;
            var cpu = Process.GetCurrentProcess().TotalProcessorTime;
            IReadOnlyList<MetricsPoint> history = [];
            for (int i = 0; i < rounds; i++)
            {
                history = await new NodeStore(db).HistoryAsync("ten_1", $"nod_{i % servers}", now - window);
            }

            var readMs = (Process.GetCurrentProcess().TotalProcessorTime - cpu).TotalMilliseconds / rounds;
            Console.WriteLine($"history read: {readMs:F2} ms CPU per server ({history.Count} points, {Durations.Format(window)})");

            var disk = new ForecastOptions();
            cpu = Process.GetCurrentProcess().TotalProcessorTime;
            for (int i = 0; i < rounds; i++)
            {
                DiskForecast.Predict(history, now, disk);
                MemoryGrowth.Predict(history, now, MemoryGrowth.Defaults);
            }

            var perServer = (Process.GetCurrentProcess().TotalProcessorTime - cpu).TotalMilliseconds / rounds;
            Console.WriteLine($"forecasts alone: {perServer:F2} ms CPU per server ({history.Count} points: 3 mounts x 2 + 10 processes)");

            var time = new FixedTime(now);
            var incidents = new IncidentIngest(db, new IncidentWrites(db, new AuditLog(db, time)), new IncidentFeed(), time);
            var patrol = new EarlyWarningPatrol(db, new NodeStore(db), incidents, time, Options.Create(new MedicOptions()), NullLogger<EarlyWarningPatrol>.Instance);
            for (int round = 1; round <= 3; round++)
            {
                cpu = Process.GetCurrentProcess().TotalProcessorTime;
                clock.Restart();
                var sweep = await patrol.SweepAsync(CancellationToken.None);
                var wall = clock.Elapsed.TotalMilliseconds;
                var cpuMs = (Process.GetCurrentProcess().TotalProcessorTime - cpu).TotalMilliseconds;
                Console.WriteLine($"sweep {round}: {sweep.Servers} servers, {sweep.Forecasts} forecasts, {sweep.Raised} warnings, {sweep.Cleared} resolves sent; " +
                    $"{wall:F0} ms wall, {cpuMs:F0} ms CPU ({wall / servers:F1} ms wall per server)");
            }

            return 0;
        }
        finally
        {
            dir.Delete(recursive: true);
        }
    }

    private static async Task FillAsync(Database db, int servers, DateTimeOffset now)
    {
        await db.WriteAsync(async (c, tx) =>
        {
            await c.ExecuteAsync("INSERT INTO tenants (id, slug, name, created_at) VALUES ('ten_1', 'one', 'One', @now)", new { now }, tx);
            for (int s = 0; s < servers; s++)
            {
                await c.ExecuteAsync("INSERT INTO nodes (id, tenant_id, name, tags, status, enrolled_at, last_seen_at) VALUES (@id, 'ten_1', @name, '{}', 'online', @now, @now)",
                    new { id = $"nod_{s}", name = $"web-{s}", now }, tx);
                var random = new Random(s);
                var rows = Enumerable.Range(0, Minutes).Select(m =>
                {
                    var at = now.AddMinutes(m - Minutes + 1);
                    double h = (at - now).TotalHours;
                    double rootGiB = s % 10 == 0 ? 60 + (2 * h) : 40 + random.NextDouble();
                    var metrics = new Metrics(at, 5, 0.5, 0.5, 0.5, 16L << 30, 6L << 30, 0, 0,
                        [
                            new MountUsage("/", 100L << 30, (long)(rootGiB * (1 << 30)), 6_000_000, 300_000 + random.Next(100)),
                            new MountUsage("/var", 200L << 30, (80L << 30) + random.Next(1 << 20), 12_000_000, 90_000),
                            new MountUsage("/boot", 1L << 30, 200L << 20, 65_536, 400),
                        ],
                        1_000_000 + m, 2_000_000 + m, 180, 86_400 + (m * 60),
                        Enumerable.Range(0, 10).Select(p => new ProcessUsage(1000 + p, $"proc-{p}", (long)((1 + p) * (1 << 28) * (1 + (random.NextDouble() / 100))), now.AddDays(-2))).ToList());
                    return new { id = $"nod_{s}", minute = at, json = JsonSerializer.Serialize(metrics, AgentJson.Default.Metrics) };
                });
                await c.ExecuteAsync("INSERT INTO node_metrics (node_id, tenant_id, minute, metrics) VALUES (@id, 'ten_1', @minute, @json)", rows, tx);
            }
        });
    }

    private sealed class FixedTime(DateTimeOffset now) : TimeProvider
    {
        public override DateTimeOffset GetUtcNow() => now;
    }
}
