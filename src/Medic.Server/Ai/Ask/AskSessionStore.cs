using System.Text.Json;
using Dapper;
using Medic.Contracts;
using Medic.Server.Common;
using Medic.Server.Storage;

namespace Medic.Server.Ai.Ask;

internal sealed class AskSessionRow
{
    public string Id { get; set; } = "";
    public string Owner { get; set; } = "";
    public string Title { get; set; } = "";
    public string? Model { get; set; }
    public string Messages { get; set; } = "[]";
    public int Turns { get; set; }
    public DateTimeOffset CreatedAt { get; set; }
    public DateTimeOffset UpdatedAt { get; set; }

    public AskSessionSummary ToSummary() => new(Id, Title, Model, Turns, CreatedAt, UpdatedAt);

    public List<AskTurn> Read() => JsonSerializer.Deserialize(Messages, MedicJson.Default.ListAskTurn) ?? [];
}

/// <summary>
/// <c>medic ask</c> sessions: a person's turns with the ops agent (question and answer text, redacted),
/// per tenant and per user; nobody else's sessions are visible. The model sees the last turns of the session.
/// </summary>
internal sealed class AskSessionStore(Database db, TimeProvider time)
{
    /// <summary>How many earlier turns a question carries to the model.</summary>
    public const int HistoryTurns = 20;

    private const string Columns = "id, owner, title, model, messages, turns, created_at, updated_at";

    public async Task<IReadOnlyList<AskSessionSummary>> ListAsync(string tenantId, string owner, CancellationToken ct)
    {
        await using var c = await db.OpenAsync(ct);
        return [.. (await c.QueryAsync<AskSessionRow>($"SELECT {Columns} FROM ai_sessions WHERE tenant_id = @tenantId AND owner = @owner ORDER BY updated_at DESC LIMIT 100",
            new { tenantId, owner })).Select(r => r.ToSummary())];
    }

    public async Task<AskSessionRow?> GetAsync(string tenantId, string owner, string id, CancellationToken ct)
    {
        await using var c = await db.OpenAsync(ct);
        return await c.QuerySingleOrDefaultAsync<AskSessionRow>($"SELECT {Columns} FROM ai_sessions WHERE tenant_id = @tenantId AND owner = @owner AND id = @id",
            new { tenantId, owner, id });
    }

    public async Task<AskSessionRow?> LatestAsync(string tenantId, string owner, CancellationToken ct)
    {
        await using var c = await db.OpenAsync(ct);
        return await c.QueryFirstOrDefaultAsync<AskSessionRow>($"SELECT {Columns} FROM ai_sessions WHERE tenant_id = @tenantId AND owner = @owner ORDER BY updated_at DESC LIMIT 1",
            new { tenantId, owner });
    }

    public async Task<AskSessionRow> CreateAsync(string tenantId, string owner, string question, string? model, CancellationToken ct)
    {
        var now = time.GetUtcNow();
        var row = new AskSessionRow { Id = Ids.New("ask"), Owner = owner, Title = Texts.Truncate(question.ReplaceLineEndings(" "), 80), Model = model, CreatedAt = now, UpdatedAt = now };
        await db.WriteAsync((c, tx) => c.ExecuteAsync(
            "INSERT INTO ai_sessions (id, tenant_id, owner, title, model, messages, turns, created_at, updated_at) VALUES (@Id, @tenantId, @Owner, @Title, @Model, @Messages, 0, @CreatedAt, @UpdatedAt)",
            new { row.Id, tenantId, row.Owner, row.Title, row.Model, row.Messages, row.CreatedAt, row.UpdatedAt }, tx), ct);
        return row;
    }

    /// <summary>Adds a question and its answer to the session.</summary>
    public async Task AppendAsync(string tenantId, AskSessionRow row, string question, string answer, string runId, CancellationToken ct)
    {
        var now = time.GetUtcNow();
        var turns = row.Read();
        turns.Add(new AskTurn("user", question, now));
        turns.Add(new AskTurn("assistant", answer, now, runId));
        var messages = JsonSerializer.Serialize(turns.TakeLast(HistoryTurns * 4).ToList(), MedicJson.Default.ListAskTurn);
        await db.WriteAsync((c, tx) => c.ExecuteAsync(
            "UPDATE ai_sessions SET messages = @messages, turns = turns + 1, updated_at = @now WHERE tenant_id = @tenantId AND id = @Id",
            new { messages, now, tenantId, row.Id }, tx), ct);
    }
}
