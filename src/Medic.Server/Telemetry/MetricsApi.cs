using Medic.Server.Auth;
using Medic.Server.Common;
using System.Diagnostics.Metrics;
using OpenTelemetry.Metrics;

namespace Medic.Server.Telemetry;

/// <summary>
/// <c>/metrics</c>: the control plane's own health in the Prometheus text format (docs/metrics.md).
/// Capabilities record on <see cref="MedicMeter"/> with System.Diagnostics.Metrics instruments; the
/// OpenTelemetry SDK aggregates them and its Prometheus exporter writes the exposition. Only a
/// <c>metrics</c> token a superadmin created may scrape (<see cref="Permission.ScrapeMetrics"/>).
/// </summary>
internal static class MetricsApi
{
    /// <summary>.NET's own meters exported next to Medic's: the runtime (GC, thread pool) and ASP.NET Core's request durations.</summary>
    private static readonly string[] PlatformMeters = ["System.Runtime", "Microsoft.AspNetCore.Hosting"];

    public static IServiceCollection AddMetricsExport(this IServiceCollection services)
    {
        services.AddSingleton<MedicMeter>();
        services.AddHostedService<MetricInstrumentsStartup>();
        services.AddOpenTelemetry().WithMetrics(b => ((IDeferredMeterProviderBuilder)b)
            .Configure((sp, builder) => builder.AddView(OnlyThisHost(sp.GetRequiredService<IMeterFactory>())))
            .AddMeter([MedicMeter.Name, .. PlatformMeters])
            .AddPrometheusExporter(o =>
            {
                // Gauges read from the database are cached already (MetricsOptions.RefreshSeconds); each scrape sees the latest counters.
                o.ScrapeResponseCacheDurationMilliseconds = 0;
                o.TargetInfoEnabled = false;
                o.ScopeInfoEnabled = false;
            }));
        return services;
    }

    /// <summary>
    /// Drops the instruments of meters another host's <see cref="IMeterFactory"/> made. A meter provider
    /// listens by meter name, process-wide: with two control planes in one process (the tests), each would
    /// otherwise export the other's counters and gauges as its own.
    /// </summary>
    private static Func<Instrument, MetricStreamConfiguration?> OnlyThisHost(IMeterFactory ours) =>
        instrument => instrument.Meter.Scope is IMeterFactory factory && !ReferenceEquals(factory, ours) ? MetricStreamConfiguration.Drop : null;

    public static IEndpointRouteBuilder MapMetrics(this IEndpointRouteBuilder app)
    {
        app.MapPrometheusScrapingEndpoint(TokenAuthenticationHandler.MetricsPath, meterProvider: null, configureBranchedPipeline: b => b.Use(RefreshReadingsAsync), optionsName: null)
            .Requires(Permission.ScrapeMetrics)
            .WithTags("Metrics")
            .ExcludeFromDescription();
        return app;
    }

    /// <summary>Before the exporter collects: the database readings older than their maximum age are read again, one query each.</summary>
    private static async Task RefreshReadingsAsync(HttpContext http, RequestDelegate next)
    {
        foreach (var reading in http.RequestServices.GetServices<IScrapeReading>())
        {
            await reading.RefreshAsync(http.RequestAborted);
        }

        await next(http);
    }

    /// <summary>Creates every registered instrument owner at start, so each series exists before the first measurement.</summary>
    private sealed class MetricInstrumentsStartup(IServiceProvider services) : IHostedService
    {
        public Task StartAsync(CancellationToken cancellationToken)
        {
            _ = services.GetServices<IMetricInstruments>().Count();
            _ = services.GetServices<IScrapeReading>().Count();
            return Task.CompletedTask;
        }

        public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    }
}
