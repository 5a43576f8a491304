using System.Threading.Channels;
using Medic.Server.Audit;
using Medic.Server.Storage;

namespace Medic.Server.Detection.Webhooks;

/// <summary>
/// Writes the audit entry of each accepted delivery, committing the entries of deliveries that
/// arrive together in one transaction (group commit). A delivery is answered only once its entry
/// is committed, so nothing is lost, but a burst of deliveries costs one audit transaction instead
/// of one each; on SQLite, where writers take turns, that halves the writes per delivery.
/// </summary>
internal sealed class WebhookAudit : IAsyncDisposable
{
    private const int MaxBatch = 256;

    private readonly Database _db;
    private readonly AuditLog _audit;
    private readonly Channel<(AuditRecord Record, TaskCompletionSource Done)> _pending =
        Channel.CreateBounded<(AuditRecord, TaskCompletionSource)>(new BoundedChannelOptions(10_000) { SingleReader = true, FullMode = BoundedChannelFullMode.Wait });

    private readonly Task _writer;

    public WebhookAudit(Database db, AuditLog audit)
    {
        _db = db;
        _audit = audit;
        _writer = Task.Run(WriteAsync);
    }

    public async Task AppendAsync(AuditRecord record, CancellationToken ct)
    {
        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await _pending.Writer.WriteAsync((record, done), ct);
        await done.Task;
    }

    private async Task WriteAsync()
    {
        var batch = new List<(AuditRecord Record, TaskCompletionSource Done)>(MaxBatch);
        while (await _pending.Reader.WaitToReadAsync())
        {
            batch.Clear();
            while (batch.Count < MaxBatch && _pending.Reader.TryRead(out var item)) batch.Add(item);
            try
            {
                await _db.WriteAsync(async (c, tx) =>
                {
                    foreach (var (record, _) in batch) await _audit.AppendAsync(c, tx, record);
                }, CancellationToken.None);
                foreach (var (_, done) in batch) done.TrySetResult();
            }
            catch (Exception ex)
            {
                // Each waiting delivery fails with the cause (a 500 the sender retries), as a direct append would.
                foreach (var (_, done) in batch) done.TrySetException(ex);
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        _pending.Writer.TryComplete();
        await _writer;
    }
}
