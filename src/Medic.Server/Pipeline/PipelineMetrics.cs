using System.Diagnostics;
using System.Diagnostics.Metrics;
using Medic.Server.Common;
using Medic.Server.Storage;

namespace Medic.Server.Pipeline;

/// <summary>How long each pipeline stage's job takes, by stage and outcome (docs/metrics.md).</summary>
internal sealed class PipelineMetrics(MedicMeter meter) : IMetricInstruments
{
    private readonly Histogram<double> _stage = meter.Meter.CreateHistogram<double>("medic.pipeline.stage.duration", unit: "s",
        description: "One run of a pipeline stage's job (triage, execute, verify, expire, review), by outcome: done, deferred (waiting for a run or an agent) or failed (retried).",
        advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300] });

    public async Task MeasureAsync(string stage, Func<Task> run)
    {
        var started = Stopwatch.GetTimestamp();
        var outcome = "failed";
        try
        {
            await run();
            outcome = "done";
        }
        catch (JobDeferredException)
        {
            outcome = "deferred";
            throw;
        }
        finally
        {
            _stage.Record(Stopwatch.GetElapsedTime(started).TotalSeconds, new("stage", stage), new("outcome", outcome));
        }
    }
}
