using Medic.Server.Detection.Forecasting;
using Medic.Server.Fleet;

namespace Medic.Server.Ai.Tools;

/// <summary>The statistical forecasts for a server: when each disk fills (space, inodes) and which processes' memory grows steadily.</summary>
internal sealed class ForecastsTool(ServerScope scope, NodeStore nodes, TimeProvider time) : AiTool
{
    public override string Name => "forecasts";

    public override string Description => "Forecasts from the last 24 h of metrics: when each disk's space or inodes will be full, and processes whose memory grows steadily (robust trend lines, not a model).";

    public override IReadOnlyList<ToolParameter> Parameters { get; } = [ServerScope.Parameter];

    public override async Task<ToolResult> InvokeAsync(AiToolContext context, ToolArguments arguments, CancellationToken ct)
    {
        var (server, refusal) = await scope.ResolveAsync(context, arguments.Text("server"), ct);
        if (server is null) return refusal!;
        var now = time.GetUtcNow();
        var history = await nodes.HistoryAsync(context.TenantId, server.Id, now.AddHours(-24), ct);
        var disks = DiskForecast.Predict(history, now, new ForecastOptions { Horizon = TimeSpan.FromHours(24) });
        var memory = MemoryGrowth.Predict(history, now, MemoryGrowth.Defaults with { Horizon = TimeSpan.FromHours(24) });
        return ToolResult.Ok(ToolJson.Write(new
        {
            server = server.Name,
            samples = history.Count,
            disks = disks.Select(d => new { mount = d.Mount, resource = d.Resource.ToString().ToLowerInvariant(), used_percent = Math.Round(100 * d.Used / Math.Max(1, d.Forecast.Capacity), 1), verdict = d.Forecast.Verdict.ToString(), full_at = d.Forecast.FullAt }),
            processes = memory.Select(p => new { name = p.Name, pid = p.Pid, rss_mb = Math.Round(p.Rss / 1048576, 1), verdict = p.Forecast.Verdict.ToString(), full_at = p.Forecast.FullAt }),
        }));
    }
}
