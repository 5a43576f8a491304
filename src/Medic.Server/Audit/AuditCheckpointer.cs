using System.Net.Http.Json;
using Dapper;
using Medic.Contracts;
using Medic.Server.Common;
using Medic.Server.Storage;
using Microsoft.Extensions.Options;

namespace Medic.Server.Audit;

/// <summary>Why a chain got no new checkpoint.</summary>
internal enum CheckpointRefusal
{
    None,

    /// <summary>The chain does not verify: signing its head would vouch for tampered history.</summary>
    ChainBroken,
}

/// <summary>The outcome for one chain: the checkpoint that now covers its head (new or the latest), or why there is none.</summary>
internal sealed record CheckpointOutcome(string Chain, AuditCheckpoint? Checkpoint, bool Created, CheckpointRefusal Refusal, AuditVerification Verification);

/// <summary>
/// Signs audit chain heads with the <see cref="AuditCheckpointKey"/>: every interval for each
/// chain whose head moved since its last checkpoint, and on demand. Before signing, the chain is
/// verified (incrementally), so a checkpoint never vouches for a broken chain. New checkpoints are
/// stored and, when configured, POSTed to a webhook so a copy leaves the machine.
/// </summary>
internal sealed partial class AuditCheckpointer(
    Database db, AuditLog audit, AuditCheckpointKey key, IHttpClientFactory http, TimeProvider time, IOptions<MedicOptions> options, ILogger<AuditCheckpointer> log)
    : BackgroundService
{
    public const string HttpClientName = "audit-checkpoints";

    private const string Columns = "chain, seq, hash, at, public_key, signature";

    private readonly SemaphoreSlim _oneAtATime = new(1, 1);

    protected override Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var interval = Durations.TryParse(options.Value.Audit.CheckpointInterval, out var every) ? every : TimeSpan.FromHours(1);
        return PeriodicRounds.RunAsync(interval, time, CheckpointMovedChainsAsync, RoundFailed, stoppingToken);
    }

    /// <summary>One periodic round: a checkpoint for every chain whose head moved since its last one.</summary>
    public async Task<IReadOnlyList<CheckpointOutcome>> CheckpointMovedChainsAsync(CancellationToken ct)
    {
        var outcomes = new List<CheckpointOutcome>();
        foreach (var chain in await audit.ChainsAsync(ct))
        {
            var outcome = await CheckpointAsync(chain, ct);
            if (outcome.Refusal == CheckpointRefusal.ChainBroken)
            {
                ChainBroken(chain, outcome.Verification.FirstBroken?.Seq ?? 0);
            }

            outcomes.Add(outcome);
        }

        return outcomes;
    }

    /// <summary>
    /// Signs the chain's head unless its latest checkpoint already covers it (then that one is the
    /// answer), or the chain does not verify (then nothing is signed).
    /// </summary>
    public async Task<CheckpointOutcome> CheckpointAsync(string chain, CancellationToken ct)
    {
        await _oneAtATime.WaitAsync(ct);
        try
        {
            var latest = await LatestAsync(chain, ct);
            var (verification, head) = await audit.VerifyNewAsync(chain, ct);
            if (!verification.Ok)
            {
                return new CheckpointOutcome(chain, latest, false, CheckpointRefusal.ChainBroken, verification);
            }

            if (head is not { Seq: > 0 } h || (latest is not null && latest.Seq >= h.Seq))
            {
                return new CheckpointOutcome(chain, latest, false, CheckpointRefusal.None, verification);
            }

            var checkpoint = key.Sign(chain, h.Seq, h.Hash, time.GetUtcNow());
            await db.WriteAsync((c, tx) => c.ExecuteAsync(
                $"INSERT INTO audit_checkpoints ({Columns}) VALUES (@Chain, @Seq, @Hash, @At, @PublicKey, @Signature) ON CONFLICT (chain, seq) DO NOTHING", checkpoint, tx), ct);
            Signed(chain, checkpoint.Seq);
            await PublishAsync(checkpoint, ct);
            return new CheckpointOutcome(chain, checkpoint, true, CheckpointRefusal.None, verification);
        }
        finally
        {
            _oneAtATime.Release();
        }
    }

    public async Task<AuditCheckpoint?> LatestAsync(string chain, CancellationToken ct)
    {
        await using var c = await db.OpenAsync(ct);
        return (await c.QuerySingleOrDefaultAsync<CheckpointRow>(
            $"SELECT {Columns} FROM audit_checkpoints WHERE chain = @chain ORDER BY seq DESC LIMIT 1", new { chain }))?.ToCheckpoint();
    }

    /// <summary>The chain's checkpoints, oldest first.</summary>
    public async Task<IReadOnlyList<AuditCheckpoint>> ListAsync(string chain, CancellationToken ct)
    {
        await using var c = await db.OpenAsync(ct);
        return (await c.QueryAsync<CheckpointRow>($"SELECT {Columns} FROM audit_checkpoints WHERE chain = @chain ORDER BY seq", new { chain }))
            .Select(r => r.ToCheckpoint()).ToList();
    }

    /// <summary>Best effort: a webhook that is down does not stop checkpoints; the stored ones can always be exported.</summary>
    private async Task PublishAsync(AuditCheckpoint checkpoint, CancellationToken ct)
    {
        if (string.IsNullOrWhiteSpace(options.Value.Audit.CheckpointWebhook)) return;
        try
        {
            using var client = http.CreateClient(HttpClientName);
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
            timeout.CancelAfter(TimeSpan.FromSeconds(10));
            using var response = await client.PostAsJsonAsync(options.Value.Audit.CheckpointWebhook, checkpoint, MedicJson.Default.AuditCheckpoint, timeout.Token);
            if (!response.IsSuccessStatusCode)
            {
                WebhookRefused(checkpoint.Chain, checkpoint.Seq, (int)response.StatusCode);
            }
        }
        catch (Exception ex) when (ex is HttpRequestException or OperationCanceledException && !ct.IsCancellationRequested)
        {
            // The URL is not logged: it may carry a token.
            WebhookFailed(checkpoint.Chain, checkpoint.Seq, ex.GetType().Name);
        }
    }

    private sealed class CheckpointRow
    {
        public string Chain { get; set; } = "";
        public long Seq { get; set; }
        public string Hash { get; set; } = "";
        public DateTimeOffset At { get; set; }
        public string PublicKey { get; set; } = "";
        public string Signature { get; set; } = "";

        public AuditCheckpoint ToCheckpoint() => new(Chain, Seq, Hash, At, PublicKey, Signature);
    }
}
