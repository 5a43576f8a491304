using Medic.Server.Fleet;

namespace Medic.Server.Ai.Tools;

/// <summary>A server's metrics over the last hours, summarised per interval: CPU, load, memory, swap, and each disk's use.</summary>
internal sealed class RecentMetricsTool(ServerScope scope, NodeStore nodes, TimeProvider time) : AiTool
{
    public override string Name => "recent_metrics";

    public override string Description => "The server's recent metrics, one row per interval (max over the interval): CPU %, load, memory and swap used %, each disk's space and inode use %.";

    public override IReadOnlyList<ToolParameter> Parameters { get; } =
    [
        ServerScope.Parameter,
        new("hours", ToolParameterType.Integer, "How far back, in hours (default 6).", Min: 1, Max: 24),
    ];

    public override async Task<ToolResult> InvokeAsync(AiToolContext context, ToolArguments arguments, CancellationToken ct)
    {
        var (server, refusal) = await scope.ResolveAsync(context, arguments.Text("server"), ct);
        if (server is null) return refusal!;
        var hours = arguments.Integer("hours") ?? 6;
        var points = await nodes.HistoryAsync(context.TenantId, server.Id, time.GetUtcNow().AddHours(-hours), ct);
        var step = TimeSpan.FromMinutes(hours <= 6 ? 15 : 60);
        var rows = points
            .GroupBy(p => p.Minute.UtcTicks / step.Ticks)
            .OrderBy(g => g.Key)
            .Select(g => new
            {
                from = new DateTimeOffset(g.Key * step.Ticks, TimeSpan.Zero),
                cpu = Math.Round(g.Max(p => p.Metrics.CpuPercent), 1),
                load1 = Math.Round(g.Max(p => p.Metrics.Load1), 2),
                memory = Math.Round(g.Max(p => Percent(p.Metrics.MemoryUsedBytes, p.Metrics.MemoryTotalBytes)), 1),
                swap = Math.Round(g.Max(p => Percent(p.Metrics.SwapUsedBytes, p.Metrics.SwapTotalBytes)), 1),
                disks = g.Last().Metrics.Mounts.ToDictionary(m => m.Mount, m => new
                {
                    space = Math.Round(g.Max(p => p.Metrics.Mounts.Where(x => x.Mount == m.Mount).Select(x => Percent(x.BytesUsed, x.BytesTotal)).DefaultIfEmpty().Max()), 1),
                    inodes = Math.Round(g.Max(p => p.Metrics.Mounts.Where(x => x.Mount == m.Mount).Select(x => Percent(x.InodesUsed, x.InodesTotal)).DefaultIfEmpty().Max()), 1),
                }),
            })
            .ToList();
        return ToolResult.Ok(ToolJson.Write(new { server = server.Name, hours, interval_minutes = (int)step.TotalMinutes, points = rows.Count == 0 ? null : rows, note = rows.Count == 0 ? "no metrics stored for this period" : null }));
    }

    private static double Percent(long used, long total) => total <= 0 ? 0 : 100.0 * used / total;
}
