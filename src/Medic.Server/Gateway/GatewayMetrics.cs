using System.Diagnostics;
using System.Diagnostics.Metrics;
using Medic.Contracts;
using Medic.Contracts.Agent;
using Medic.Server.Common;

namespace Medic.Server.Gateway;

/// <summary>Agents connected to this process, per tenant, and how long tasks take from dispatch to result (docs/metrics.md).</summary>
internal sealed class GatewayMetrics : IMetricInstruments
{
    private readonly Histogram<double> _roundTrip;

    public GatewayMetrics(MedicMeter meter, AgentConnections connections)
    {
        meter.Meter.CreateObservableGauge("medic.agent.connections",
            () => connections.CountByTenant().Select(t => new Measurement<int>(t.Value, new KeyValuePair<string, object?>("tenant_id", t.Key))),
            description: "Agents connected to this control plane process, per tenant.");
        _roundTrip = meter.Meter.CreateHistogram<double>("medic.task.round_trip.duration", unit: "s",
            description: "From sending a signed task (or an ssh command to an agentless server) to its result, by task kind and result status.",
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300] });
    }

    public void TaskEnded(TaskKind kind, TaskRunStatus status, long startedTimestamp) =>
        _roundTrip.Record(Stopwatch.GetElapsedTime(startedTimestamp).TotalSeconds,
            new("kind", kind.ToText()), new("status", status.ToText()));
}
