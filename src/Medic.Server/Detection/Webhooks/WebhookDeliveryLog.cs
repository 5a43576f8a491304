using System.Threading.Channels;
using Dapper;
using Medic.Contracts;
using Medic.Server.Storage;

namespace Medic.Server.Detection.Webhooks;

/// <summary>One delivery to write to its source's log.</summary>
internal sealed record WebhookDeliveryRecord(string TenantId, string Source, DateTimeOffset At, int Status, WebhookOutcome Outcome, string? Auth, string? ClientAddress, int Alerts, string? Detail);

/// <summary>
/// Each source's last <see cref="Kept"/> deliveries (time, status, outcome, client address, alert count,
/// why a refusal was refused) and its refusals counted by reason. Never the body or a credential.
/// Deliveries are answered without waiting for their line: a background writer commits what arrived
/// together in one transaction and prunes each source to <see cref="Kept"/>. When the writer falls
/// <see cref="Backlog"/> lines behind (a flood of refused deliveries), new lines are dropped rather than
/// slowing deliveries down. Reading a log first waits for the lines already queued.
/// </summary>
internal sealed class WebhookDeliveryLog : IAsyncDisposable
{
    public const int Kept = 200;
    private const int Backlog = 10_000;
    private const int MaxBatch = 256;
    private const int MaxDetail = 500;

    private readonly Database _db;
    private readonly Channel<Item> _pending = Channel.CreateBounded<Item>(new BoundedChannelOptions(Backlog) { SingleReader = true, FullMode = BoundedChannelFullMode.Wait });
    private readonly Task _writer;

    public WebhookDeliveryLog(Database db)
    {
        _db = db;
        _writer = Task.Run(WriteAsync);
    }

    /// <summary>Queues the line; drops it when the writer is <see cref="Backlog"/> lines behind.</summary>
    public void Record(WebhookDeliveryRecord record) => _pending.Writer.TryWrite(new Item(record, null));

    /// <summary>Waits until every line queued before this call is committed.</summary>
    public async Task FlushAsync(CancellationToken ct)
    {
        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await _pending.Writer.WriteAsync(new Item(null, done), ct);
        await done.Task.WaitAsync(ct);
    }

    /// <summary>The source's last <paramref name="limit"/> deliveries, newest first, and its refusal counters.</summary>
    public async Task<WebhookDeliveriesResponse> ReadAsync(string tenantId, string source, int limit, CancellationToken ct)
    {
        await FlushAsync(ct);
        await using var c = await _db.OpenAsync(ct);
        var rows = await c.QueryAsync<DeliveryRow>(
            "SELECT at, status, outcome, auth, client_address, alerts, detail FROM webhook_deliveries WHERE tenant_id = @tenantId AND source = @source ORDER BY seq DESC LIMIT @limit",
            new { tenantId, source, limit });
        var counts = await c.QueryAsync<(string Reason, long Count)>(
            "SELECT reason, count FROM webhook_refusal_counts WHERE tenant_id = @tenantId AND source = @source ORDER BY reason", new { tenantId, source });
        return new WebhookDeliveriesResponse(source,
            rows.Select(r => new WebhookDeliveryEntry(r.At, r.Status, StateText.Parse<WebhookOutcome>(r.Outcome), r.Auth, r.ClientAddress, r.Alerts, r.Detail)).ToList(),
            counts.ToDictionary(x => x.Reason, x => x.Count, StringComparer.Ordinal), Kept);
    }

    private async Task WriteAsync()
    {
        var batch = new List<Item>(MaxBatch);
        while (await _pending.Reader.WaitToReadAsync())
        {
            batch.Clear();
            while (batch.Count < MaxBatch && _pending.Reader.TryRead(out var item)) batch.Add(item);
            var lines = batch.Where(i => i.Record is not null).Select(i => i.Record!).ToList();
            try
            {
                if (lines.Count > 0) await _db.WriteAsync((c, tx) => WriteBatchAsync(c, tx, lines), CancellationToken.None);
            }
            catch (Exception)
            {
                // The log is a diagnostic aid: a batch that cannot be written (the disk is full) is dropped
                // and deliveries carry on; the next batch tries again.
            }

            foreach (var item in batch) item.Flushed?.TrySetResult();
        }
    }

    private static async Task WriteBatchAsync(System.Data.Common.DbConnection c, System.Data.Common.DbTransaction tx, List<WebhookDeliveryRecord> lines)
    {
        foreach (var r in lines)
        {
            await c.ExecuteAsync(
                "INSERT INTO webhook_deliveries (tenant_id, source, at, status, outcome, auth, client_address, alerts, detail) " +
                "VALUES (@TenantId, @Source, @At, @Status, @outcome, @Auth, @ClientAddress, @Alerts, @detail)",
                new { r.TenantId, r.Source, r.At, r.Status, outcome = r.Outcome.ToText(), r.Auth, r.ClientAddress, r.Alerts, detail = Clip(r.Detail) }, tx);
        }

        foreach (var refused in lines.Where(r => r.Outcome != WebhookOutcome.Accepted).GroupBy(r => (r.TenantId, r.Source, Reason: r.Outcome.ToText())))
        {
            await c.ExecuteAsync(
                "INSERT INTO webhook_refusal_counts (tenant_id, source, reason, count, last_at) VALUES (@TenantId, @Source, @Reason, @count, @at) " +
                "ON CONFLICT (tenant_id, source, reason) DO UPDATE SET count = webhook_refusal_counts.count + excluded.count, last_at = excluded.last_at",
                new { refused.Key.TenantId, refused.Key.Source, refused.Key.Reason, count = (long)refused.Count(), at = refused.Max(r => r.At) }, tx);
        }

        foreach (var (tenantId, source) in lines.Select(r => (r.TenantId, r.Source)).Distinct())
        {
            await c.ExecuteAsync(
                "DELETE FROM webhook_deliveries WHERE tenant_id = @tenantId AND source = @source AND seq <= " +
                "(SELECT seq FROM webhook_deliveries WHERE tenant_id = @tenantId AND source = @source ORDER BY seq DESC LIMIT 1 OFFSET @kept)",
                new { tenantId, source, kept = Kept }, tx);
        }
    }

    private static string? Clip(string? detail) => detail is null ? null : Texts.Truncate(detail, MaxDetail);

    public async ValueTask DisposeAsync()
    {
        _pending.Writer.TryComplete();
        await _writer;
    }

    private sealed record Item(WebhookDeliveryRecord? Record, TaskCompletionSource? Flushed);

    private sealed class DeliveryRow
    {
        public DateTimeOffset At { get; set; }
        public int Status { get; set; }
        public string Outcome { get; set; } = "";
        public string? Auth { get; set; }
        public string? ClientAddress { get; set; }
        public int Alerts { get; set; }
        public string? Detail { get; set; }
    }
}
