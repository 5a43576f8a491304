using System.Globalization;
using Medic.Contracts;
using Medic.Server.Ai.Tools;
using Medic.Server.Detection.Forecasting;
using Medic.Server.Detection.Monitors;
using Medic.Server.Fleet;
using Medic.Server.Incidents;
using Medic.Server.Web.Shared;
using Microsoft.AspNetCore.Components;

namespace Medic.Server.Web.Pages.Servers;

/// <summary>
/// One server: its facts, 24 h of metrics as charts, the forecasts drawn from them, the monitors
/// that apply and their state, its incidents and fleet executions, and (for operators) a panel
/// that runs a read-only diagnostic verb through the API.
/// </summary>
public partial class ServerDetail : ConsolePage
{
    private static readonly TimeSpan Window = TimeSpan.FromHours(24);

    private ServerResponse? _server;
    private bool _notFound;
    private IReadOnlyList<Chart> _charts = [];
    private IReadOnlyList<ForecastLine> _forecasts = [];
    private IReadOnlyList<MonitorLine> _monitors = [];
    private IReadOnlyList<IncidentResponse> _incidents = [];
    private IReadOnlyList<ServerExecutionRow> _executions = [];

    private string _verb = "system";
    private string _args = "";
    private bool _running;
    private TaskRunResponse? _diag;
    private string? _diagProblem;

    /// <summary>The server's id or name.</summary>
    [Parameter] public string Id { get; set; } = "";

    [Inject] private NodeStore Nodes { get; set; } = default!;
    [Inject] private IncidentQueries Incidents { get; set; } = default!;
    [Inject] private IncidentFeed Feed { get; set; } = default!;
    [Inject] private MonitorStore Monitors { get; set; } = default!;
    [Inject] private Executions Executions { get; set; } = default!;
    [Inject] private TimeProvider Time { get; set; } = default!;
    [Inject] private ConsoleApi Api { get; set; } = default!;

    private static IReadOnlyList<DiagnosticVerbInfo> Verbs => DiagnosticCatalog.Verbs;

    private DiagnosticVerbInfo? VerbInfo => Verbs.FirstOrDefault(v => v.Name == _verb);

    // Heartbeats add a point a minute; incident changes move the monitors' state and the incidents list.
    private protected override LiveOptions LiveOptions() => new(TimeSpan.FromSeconds(15), Feed, Caller.TenantId);

    /// <summary>Another server chosen (a link from this page): drop the last one's diagnostic; the base class then loads.</summary>
    protected override Task OnParametersSetAsync()
    {
        if (_server is not null && !string.Equals(Id, _server.Id, StringComparison.Ordinal) && !string.Equals(Id, _server.Name, StringComparison.Ordinal))
        {
            _diag = null;
            _diagProblem = null;
        }

        return base.OnParametersSetAsync();
    }

    private protected override async Task LoadAsync()
    {
        var tenant = Caller.TenantId;
        var node = await Nodes.FindAsync(tenant, Id);
        _notFound = node is null;
        if (node is null)
        {
            _server = null;
            return;
        }

        _server = node.ToResponse();
        var now = Time.GetUtcNow();
        var history = await Nodes.HistoryAsync(tenant, node.Id, now - Window);
        _charts = ServerCharts.From(history);
        _forecasts = ForecastLine.From(history, now);

        var open = (await Incidents.ListAsync(tenant, new IncidentQuery(Status: "active", Server: node.Id, Limit: 200), default)).Items;
        _monitors = [.. (await Monitors.ListAsync(tenant, default)).Where(m => m.AppliesTo(node)).Select(m => MonitorLine.From(m, open))];
        _incidents = (await Incidents.ListAsync(tenant, new IncidentQuery(Server: node.Id, Limit: 20), default)).Items;
        _executions = await Executions.ForServerAsync(tenant, node.Name, 10, default);
    }

    private async Task RunDiagAsync()
    {
        if (_server is null || _running) return;
        _diagProblem = null;
        var args = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var pair in _args.Split(' ', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var parts = pair.Split('=', 2);
            if (parts.Length != 2 || parts[0].Length == 0)
            {
                _diagProblem = $"Argument '{pair}' is not name=value: write arguments as unit=nginx lines=50, separated by spaces.";
                return;
            }

            args[parts[0]] = parts[1];
        }

        _running = true;
        try
        {
            var r = await Api.PostAsync($"/api/v1/servers/{Uri.EscapeDataString(_server.Id)}/diag", new DiagRequest(_verb, args.Count > 0 ? args : null));
            if (r.Succeeded) _diag = r.Read<TaskRunResponse>();
            else _diagProblem = r.Message;
        }
        finally
        {
            _running = false;
        }
    }

    private static string Bytes(long bytes) => bytes switch
    {
        >= 1L << 40 => (bytes / (double)(1L << 40)).ToString("0.#", CultureInfo.InvariantCulture) + " TiB",
        >= 1L << 30 => (bytes / (double)(1L << 30)).ToString("0.#", CultureInfo.InvariantCulture) + " GiB",
        >= 1L << 20 => (bytes / (double)(1L << 20)).ToString("0.#", CultureInfo.InvariantCulture) + " MiB",
        _ => bytes.ToString(CultureInfo.InvariantCulture) + " B",
    };

    /// <summary>A monitor that applies to the server, firing when one of the server's open incidents came from it.</summary>
    private sealed record MonitorLine(string Name, string Kind, string SetFor, string? Incident)
    {
        public static MonitorLine From(MonitorRow m, IReadOnlyList<IncidentResponse> open)
        {
            var r = m.ToResponse();
            var firing = open.FirstOrDefault(i => i.Labels.GetValueOrDefault("monitor") == m.Name);
            var setFor = r.Server is not null ? "this server" : "tags " + string.Join(" ", (r.Tags ?? new Dictionary<string, string>()).Select(t => $"{t.Key}={t.Value}"));
            return new MonitorLine(m.Name, r.Kind, setFor, firing?.Id);
        }
    }

    /// <summary>A forecast as a row: what, how full now, the verdict in words, and when full.</summary>
    private sealed record ForecastLine(string What, string Used, string Verdict, bool Warn, DateTimeOffset? FullAt)
    {
        public static IReadOnlyList<ForecastLine> From(IReadOnlyList<MetricsPoint> history, DateTimeOffset now)
        {
            if (history.Count == 0) return [];
            var disks = DiskForecast.Predict(history, now, new ForecastOptions { Horizon = Window })
                .Select(d => new ForecastLine(
                    $"{d.Mount} {(d.Resource == DiskResource.Bytes ? "space" : "inodes")}",
                    (100 * d.Used / Math.Max(1, d.Forecast.Capacity)).ToString("0.#", CultureInfo.InvariantCulture) + " %",
                    Words(d.Forecast.Verdict), d.Forecast.Verdict == ForecastVerdict.FullWithinHorizon, d.Forecast.FullAt));
            var memory = MemoryGrowth.Predict(history, now, MemoryGrowth.Defaults with { Horizon = Window })
                .Where(p => p.Forecast.Verdict is ForecastVerdict.FullWithinHorizon or ForecastVerdict.FullLater)
                .Select(p => new ForecastLine($"{p.Name} (pid {p.Pid}) memory", Bytes((long)p.Rss), Words(p.Forecast.Verdict), p.Forecast.Verdict == ForecastVerdict.FullWithinHorizon, p.Forecast.FullAt));
            return [.. disks, .. memory];
        }

        private static string Words(ForecastVerdict verdict) => verdict switch
        {
            ForecastVerdict.FullWithinHorizon => "full within 24 h",
            ForecastVerdict.FullLater => "growing; full after 24 h",
            ForecastVerdict.NotGrowing => "not growing",
            ForecastVerdict.TooNoisy => "too erratic to call",
            ForecastVerdict.RegimeTooShort => "changed recently; too soon to tell",
            ForecastVerdict.TooFewSamples => "too little history yet",
            ForecastVerdict.Stale => "no recent data",
            _ => verdict.ToString(),
        };
    }
}
