using System.Data.Common;
using Dapper;
using Medic.Contracts;

namespace Medic.Server.Incidents;

/// <summary>
/// The incident record as the remediation pipeline works on it: each move is made inside the
/// pipeline's own transaction (with the step's job and its state), and published after it commits.
/// </summary>
internal sealed class PipelineIncidents(IncidentWrites writes, IncidentQueries queries, IncidentFeed feed, TimeProvider time)
{
    public Task<IncidentDetailResponse?> GetAsync(string tenantId, string id, CancellationToken ct) => queries.GetAsync(tenantId, id, ct);

    /// <summary>
    /// The incident alone, without its occurrences and timeline: what a step reads to decide. A
    /// flapping alert's timeline grows with every round, so reading it whole on each round made every
    /// triage cost more than the last.
    /// </summary>
    public async Task<IncidentResponse?> IncidentAsync(string tenantId, string id, CancellationToken ct) =>
        (await queries.RowAsync(tenantId, id, ct))?.ToResponse();

    /// <summary>
    /// Moves the incident by <paramref name="trigger"/> inside the caller's transaction (the pipeline's
    /// own step), with a timeline event and an audit entry naming <paramref name="actor"/>. Returns the
    /// incident after the move, or the refusal when the trigger does not apply in its status now; null
    /// when there is no such incident. The caller publishes the change after commit (<see cref="Publish"/>).
    /// </summary>
    public async Task<(IncidentResponse? Incident, string? Refusal)> TransitionAsync(DbConnection c, DbTransaction tx, string tenantId, string id, IncidentTrigger trigger,
        string actor, string message, IReadOnlyDictionary<string, string>? data, int? round = null)
    {
        var row = await writes.LockAsync(c, tx, tenantId, id);
        if (row is null) return (null, "no such incident");
        if (round is not null && row.PipelineRound != round) return (row.ToResponse(), $"the incident moved on to pipeline round {row.PipelineRound}");
        var refusal = await writes.MoveAsync(c, tx, row, trigger, actor, message, data, time.GetUtcNow());
        return (row.ToResponse(), refusal);
    }

    /// <summary>Starts a new pipeline round without queueing triage (a person's proposal is that round's triage); returns its number.</summary>
    public async Task<int> NextRoundAsync(DbConnection c, DbTransaction tx, string tenantId, string id)
    {
        await c.ExecuteAsync("UPDATE incidents SET pipeline_round = pipeline_round + 1 WHERE tenant_id = @tenantId AND id = @id", new { tenantId, id }, tx);
        return await c.ExecuteScalarAsync<int>("SELECT pipeline_round FROM incidents WHERE tenant_id = @tenantId AND id = @id", new { tenantId, id }, tx);
    }

    /// <summary>The incident as the pipeline sees it inside its transaction (locked on PostgreSQL).</summary>
    public async Task<(IncidentResponse Incident, int Round)?> LockForPipelineAsync(DbConnection c, DbTransaction tx, string tenantId, string id) =>
        await writes.LockAsync(c, tx, tenantId, id) is { } row ? (row.ToResponse(), row.PipelineRound) : null;

    /// <summary>Adds a timeline event in the caller's transaction (the pipeline's notes: "no recipe applies", a run's output).</summary>
    public Task NoteAsync(DbConnection c, DbTransaction tx, string tenantId, string id, string kind, string actor, string message, IReadOnlyDictionary<string, string>? data) =>
        IncidentWrites.AddEventAsync(c, tx, tenantId, id, time.GetUtcNow(), kind, actor, message, data);

    /// <summary>Sends a change the pipeline committed to live watchers and the notifier ("updated": an escalation is notified).</summary>
    public void Publish(string tenantId, string action, IncidentResponse incident) => feed.Publish(tenantId, new IncidentFeedMessage(action, incident));
}
