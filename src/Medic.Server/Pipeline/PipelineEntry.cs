using System.Data.Common;
using System.Text.Json;
using Medic.Server.Incidents;
using Medic.Server.Storage;

namespace Medic.Server.Pipeline;

/// <summary>
/// Opens a round of the pipeline: the incident record calls it in the transaction that opens,
/// reopens or re-enters an incident, and it queues that round's triage job under the key
/// <c>pipeline:{incident}:{round}:triage</c>, so the job exists exactly when the incident does.
/// </summary>
internal sealed class PipelineEntry(JobQueue jobs, JobSignal signal) : IPipelineEntry
{
    public const string TriageKind = "pipeline.triage";
    public const string ExecuteKind = "pipeline.execute";
    public const string VerifyKind = "pipeline.verify";
    public const string ExpireKind = "pipeline.expire";
    public const string ReviewKind = "pipeline.review";

    public async Task EnterAsync(DbConnection c, DbTransaction tx, string tenantId, string incidentId, int round, string why) =>
        await jobs.EnqueueAsync(c, tx, tenantId, TriageKind, Key(incidentId, round, "triage"), Payload(new PipelineJob(tenantId, incidentId, round)));

    public Task ResolvedAsync(DbConnection c, DbTransaction tx, string incidentId, int round) =>
        jobs.MakeDueAsync(c, tx, Key(incidentId, round, "verify"));

    /// <summary>After the incident's transaction commits: the worker picks the job up now rather than at its next poll.</summary>
    public void Committed() => signal.Wake();

    public static string Key(string incidentId, int round, string step) => $"pipeline:{incidentId}:{round}:{step}";

    public static string Payload(PipelineJob job) => JsonSerializer.Serialize(job, PipelineJson.Default.PipelineJob);
}
