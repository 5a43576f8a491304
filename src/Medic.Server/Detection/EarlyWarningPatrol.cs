using System.Globalization;
using Dapper;
using Medic.Server.Common;
using Medic.Server.Detection.Forecasting;
using Medic.Server.Fleet;
using Medic.Server.Incidents;
using Medic.Server.Storage;
using Microsoft.Extensions.Options;

namespace Medic.Server.Detection;

/// <summary>What one sweep did, for tests and the log.</summary>
internal sealed record EarlyWarningSweep(int Servers, int Forecasts, int Raised, int Cleared);

/// <summary>
/// Statistical early warning without any LLM: every interval, forecasts each reporting server's
/// disks (bytes and inodes) and its largest processes' memory from the metrics history, and raises
/// a warning incident for each predicted to run out within the horizon; the incident resolves once
/// the forecast no longer says so. See docs/detection.md.
/// </summary>
internal sealed partial class EarlyWarningPatrol(
    Database db, NodeStore nodes, IIncidentIngest incidents, TimeProvider time, IOptions<MedicOptions> options, ILogger<EarlyWarningPatrol> log) : BackgroundService
{
    public const string DiskType = "disk_full_forecast";
    public const string InodesType = "inodes_full_forecast";
    public const string MemoryType = "memory_growth_forecast";
    private const string Actor = "system:patrol";

    private readonly ForecastOptions _disk = new() { Horizon = Setting(options.Value.EarlyWarning.Horizon, TimeSpan.FromHours(24)) };
    private readonly ForecastOptions _memory = MemoryGrowth.Defaults with { Horizon = Setting(options.Value.EarlyWarning.Horizon, TimeSpan.FromHours(24)) };

    // Which warnings this process has raised, so a healthy series costs no write each sweep. The
    // first sweep after a start sends a resolve for every healthy series instead, which closes
    // warnings raised before a restart (a resolve for nothing open is ignored).
    private readonly HashSet<(string Tenant, string Fingerprint)> _raised = [];
    private readonly SemaphoreSlim _oneSweep = new(1, 1);
    private bool _caughtUp;

    protected override Task ExecuteAsync(CancellationToken stoppingToken) =>
        PeriodicRounds.RunAsync(Setting(options.Value.EarlyWarning.Interval, TimeSpan.FromMinutes(5)), time, async ct =>
        {
            var sweep = await SweepAsync(ct);
            if (sweep.Raised + sweep.Cleared > 0) SweepDone(sweep.Servers, sweep.Forecasts, sweep.Raised, sweep.Cleared);
        }, SweepFailed, stoppingToken);

    /// <summary>Forecasts every server heard from recently, now, and hands the warnings and resolves to the incident record.</summary>
    public async Task<EarlyWarningSweep> SweepAsync(CancellationToken ct)
    {
        await _oneSweep.WaitAsync(ct);
        try
        {
            return await SweepOnceAsync(ct);
        }
        finally
        {
            _oneSweep.Release();
        }
    }

    private async Task<EarlyWarningSweep> SweepOnceAsync(CancellationToken ct)
    {
        var now = time.GetUtcNow();
        var since = now - (_disk.Window > _memory.Window ? _disk.Window : _memory.Window);
        List<ServerRef> servers;
        await using (var c = await db.OpenAsync(ct))
        {
            // Silent servers are skipped: their forecasts would be stale, so their warnings stay as they are.
            servers = (await c.QueryAsync<ServerRef>(
                "SELECT id, tenant_id, name FROM nodes WHERE removed_at IS NULL AND last_seen_at >= @fresh ORDER BY tenant_id, id",
                new { fresh = now - _disk.StaleAfter })).ToList();
        }

        int forecasts = 0, raised = 0, cleared = 0;
        bool failed = false;
        foreach (var server in servers)
        {
            try
            {
                var (count, signals) = await ForecastAsync(server, since, now, ct);
                forecasts += count;
                if (signals.Count == 0)
                {
                    continue;
                }

                await incidents.IngestAsync(signals, ct);
                foreach (var s in signals)
                {
                    if (s.Resolved)
                    {
                        _raised.Remove((s.TenantId, s.Fingerprint));
                        cleared++;
                    }
                    else
                    {
                        _raised.Add((s.TenantId, s.Fingerprint));
                        raised++;
                    }
                }
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                // One server's bad history or a failed write must not stop the others' warnings.
                failed = true;
                ServerFailed(server.Id, ex);
            }
        }

        // Catching up ends with the first sweep in which every server went through.
        _caughtUp |= !failed;
        return new EarlyWarningSweep(servers.Count, forecasts, raised, cleared);
    }

    private async Task<(int Forecasts, List<IncidentSignal> Signals)> ForecastAsync(ServerRef server, DateTimeOffset since, DateTimeOffset now, CancellationToken ct)
    {
        var history = await nodes.HistoryAsync(server.TenantId, server.Id, since, ct);
        var signals = new List<IncidentSignal>();
        int forecasts = 0;
        foreach (var f in DiskForecast.Predict(history, now, _disk))
        {
            forecasts++;
            Decide(signals, server, f.Forecast.Alarm(now, _disk), now, f.Resource == DiskResource.Bytes ? DiskType : InodesType, f.Mount,
                () => DiskWarning(server, f, now));
        }

        foreach (var f in MemoryGrowth.Predict(history, now, _memory))
        {
            forecasts++;
            Decide(signals, server, f.Forecast.Alarm(now, _memory), now, MemoryType, f.Name, () => MemoryWarning(server, f, now));
        }

        return (forecasts, signals);
    }

    private void Decide(List<IncidentSignal> signals, ServerRef server, ForecastAlarm alarm, DateTimeOffset now, string type, string subject, Func<IncidentSignal> warning)
    {
        var fingerprint = Fingerprint(type, server.Id, subject);
        if (alarm == ForecastAlarm.Raise)
        {
            signals.Add(warning());
        }
        else if (alarm == ForecastAlarm.Clear && (!_caughtUp || _raised.Contains((server.TenantId, fingerprint))))
        {
            signals.Add(new IncidentSignal(server.TenantId, IncidentSources.Patrol, fingerprint, type, Severities.Warning, $"{Subject(type, subject)} on {server.Name} no longer predicted to run out",
                null, server.Id, null, Labels(server, type, subject), null, Resolved: true, now, Actor));
        }
    }

    /// <summary>Stable per server and mount (or process name) and kind, so repeats fold into one incident.</summary>
    public static string Fingerprint(string type, string serverId, string subject) => $"patrol:{type}:{serverId}:{subject}";

    private static IncidentSignal DiskWarning(ServerRef server, MountForecast f, DateTimeOffset now)
    {
        var type = f.Resource == DiskResource.Bytes ? DiskType : InodesType;
        var trend = f.Forecast.Trend!;
        var unit = f.Resource == DiskResource.Bytes ? "bytes" : "inodes";
        var summary = $"{Amount(f.Used, f.Resource)} of {Amount(f.Forecast.Capacity, f.Resource)} used, growing {Amount(trend.SlopePerHour, f.Resource)}/h " +
            $"over the last {Hours(trend.At - trend.From)} ({trend.Samples} samples); full around {Timestamp(f.Forecast.FullAt!.Value)}.";
        return Warning(server, type, f.Mount, f.Forecast, now, summary, f.Used, unit, new Dictionary<string, string> { ["mount"] = f.Mount });
    }

    private static IncidentSignal MemoryWarning(ServerRef server, ProcessForecast f, DateTimeOffset now)
    {
        var trend = f.Forecast.Trend!;
        var summary = $"{f.Name} (pid {f.Pid}) holds {Amount(f.Rss, DiskResource.Bytes)} and grows {Amount(trend.SlopePerHour, DiskResource.Bytes)}/h " +
            $"over the last {Hours(trend.At - trend.From)} ({trend.Samples} samples); it would hold all {Amount(f.Forecast.Capacity, DiskResource.Bytes)} the machine can give it " +
            $"around {Timestamp(f.Forecast.FullAt!.Value)}.";
        return Warning(server, MemoryType, f.Name, f.Forecast, now, summary, f.Rss, "bytes", new Dictionary<string, string>
        {
            ["process"] = f.Name,
            ["pid"] = f.Pid.ToString(CultureInfo.InvariantCulture),
            ["process_started_at"] = Timestamp(f.StartedAt),
        });
    }

    private static IncidentSignal Warning(
        ServerRef server, string type, string subject, Forecast forecast, DateTimeOffset now, string summary, double current, string unit, Dictionary<string, string> evidence)
    {
        var trend = forecast.Trend!;
        var full = forecast.FullAt!.Value;
        evidence["unit"] = unit;
        evidence["slope_per_hour"] = Number(trend.SlopePerHour);
        evidence["current"] = Number(current);
        evidence["fitted_level"] = Number(trend.Level);
        evidence["capacity"] = Number(forecast.Capacity);
        evidence["predicted_full_at"] = Timestamp(full);
        evidence["hours_to_full"] = Number(Math.Max(0, (full - now).TotalHours), "0.0");
        evidence["samples"] = trend.Samples.ToString(CultureInfo.InvariantCulture);
        evidence["fitted_from"] = Timestamp(trend.From);
        evidence["agreement"] = Number(trend.Agreement, "0.00");
        evidence["residual_mad"] = Number(trend.ResidualMad);
        var title = $"{Subject(type, subject)} on {server.Name} predicted to run out in {Hours(full - now)}";
        return new IncidentSignal(server.TenantId, IncidentSources.Patrol, Fingerprint(type, server.Id, subject), type, Severities.Warning, title, summary,
            server.Id, null, Labels(server, type, subject), evidence, Resolved: false, now, Actor);
    }

    private static Dictionary<string, string> Labels(ServerRef server, string type, string subject) => new()
    {
        ["server"] = server.Name,
        [type == MemoryType ? "process" : "mount"] = subject,
        ["forecast"] = type == InodesType ? "inodes" : type == DiskType ? "bytes" : "memory",
    };

    private static string Subject(string type, string subject) => type switch
    {
        DiskType => $"Disk {subject}",
        InodesType => $"Inodes of {subject}",
        _ => $"Memory of {subject}",
    };

    private static string Amount(double value, DiskResource resource)
    {
        if (resource == DiskResource.Inodes) return Number(value, "#,0");
        string[] units = ["B", "KiB", "MiB", "GiB", "TiB", "PiB"];
        int u = 0;
        while (Math.Abs(value) >= 1024 && u < units.Length - 1)
        {
            value /= 1024;
            u++;
        }

        return Number(value, u == 0 ? "0" : "0.0") + " " + units[u];
    }

    private static string Hours(TimeSpan span) =>
        span <= TimeSpan.Zero ? "now" : span.TotalHours >= 1 ? Number(span.TotalHours, "0.#") + " h" : Number(Math.Ceiling(span.TotalMinutes), "0") + " min";

    private static string Timestamp(DateTimeOffset at) => at.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture);

    private static string Number(double value, string format = "0") => value.ToString(format, CultureInfo.InvariantCulture);

    /// <summary>The settings were validated at start-up (ConfigLoader); a default stands in for options built in code.</summary>
    private static TimeSpan Setting(string text, TimeSpan fallback) => Durations.TryParse(text, out var span) ? span : fallback;

    public override void Dispose()
    {
        _oneSweep.Dispose();
        base.Dispose();
    }

    private sealed class ServerRef
    {
        public string Id { get; set; } = "";
        public string TenantId { get; set; } = "";
        public string Name { get; set; } = "";
    }
}
