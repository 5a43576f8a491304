using System.Text.Json;
using Medic.Server.Storage;

namespace Medic.Server.Pipeline;

/// <summary>One step of the pipeline for one incident round, as a job payload.</summary>
internal sealed record PipelineJob(string TenantId, string IncidentId, int Round, string? ApprovalId = null);

/// <summary>The pipeline's job kinds, each a thin shell over the step it runs.</summary>
internal sealed class PipelineJobs(TriageStep triage, ExecutionStep execution, VerificationStep verification, ApprovalStep approvals, IAiStage ai, string kind,
    PipelineMetrics? metrics = null) : IJobHandler
{
    public string Kind => kind;

    /// <summary>
    /// Long enough for a verification that waits for an agent to come back (a minute) and re-runs its
    /// check; an execution keeps it alive while its run goes on. A restarted <c>medic up</c> frees a dead
    /// process's leases at once (<see cref="JobOwners"/>); another replica takes over when it runs out.
    /// Triage and an AI review get longer: an AI agent's run may take up to its 5 min wall time.
    /// </summary>
    public TimeSpan Lease => kind is PipelineEntry.TriageKind or PipelineEntry.ReviewKind ? TimeSpan.FromMinutes(7) : TimeSpan.FromMinutes(2);

    public Task HandleAsync(JobRow job, CancellationToken ct) => metrics is null ? RunAsync(job, ct) : metrics.MeasureAsync(Stage, () => RunAsync(job, ct));

    /// <summary>The stage's name in metrics: the kind without its <c>pipeline.</c> prefix (triage, execute, ...).</summary>
    private string Stage => kind.StartsWith("pipeline.", StringComparison.Ordinal) ? kind["pipeline.".Length..] : kind;

    private Task RunAsync(JobRow job, CancellationToken ct)
    {
        var payload = JsonSerializer.Deserialize(job.Payload, PipelineJson.Default.PipelineJob) ?? throw new InvalidOperationException("empty pipeline job");
        return kind switch
        {
            PipelineEntry.TriageKind => triage.TriageAsync(payload, ct),
            PipelineEntry.ExecuteKind => execution.ExecuteAsync(payload, job.CreatedAt, ct),
            PipelineEntry.VerifyKind => verification.VerifyAsync(payload, job.CreatedAt, ct),
            PipelineEntry.ExpireKind => approvals.ExpireAsync(payload, ct),
            PipelineEntry.ReviewKind => ai.ReviewAsync(payload.TenantId, payload.IncidentId, payload.Round, ct),
            _ => throw new InvalidOperationException("unknown pipeline job " + kind),
        };
    }
}

[System.Text.Json.Serialization.JsonSourceGenerationOptions(PropertyNamingPolicy = System.Text.Json.Serialization.JsonKnownNamingPolicy.SnakeCaseLower)]
[System.Text.Json.Serialization.JsonSerializable(typeof(PipelineJob))]
internal sealed partial class PipelineJson : System.Text.Json.Serialization.JsonSerializerContext;
