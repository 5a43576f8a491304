using System.Globalization;
using System.Net;
using System.Text.Json;
using Medic.Contracts;
using Medic.Server.Audit;
using Medic.Server.Common;
using Medic.Server.Tests.Infrastructure;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Medic.Server.Tests.Audit;

/// <summary>
/// Signed checkpoints of the audit chain heads. The attacker here holds the database (not the
/// checkpoint key, not the exported checkpoint file): they rewrite history and recompute every
/// hash and the chain head, which plain verification cannot tell from the real thing.
/// </summary>
public sealed class AuditCheckpointTests
{
    private const int Entries = 10;

    private static async Task<(MedicServer Server, string Chain)> StartAsync(string dialect, Action<MedicOptions>? configure = null)
    {
        var server = await MedicServer.StartAsync(dialect, configure);
        using var response = await server.Admin.GetAsync("/api/v1/whoami");
        var me = await response.ReadAsync(MedicJson.Default.WhoAmIResponse);
        await AppendAsync(server, me.TenantId, Entries);
        return (server, me.TenantId);
    }

    private static async Task AppendAsync(MedicServer server, string chain, int count)
    {
        var log = server.Service<AuditLog>();
        for (var i = 0; i < count; i++)
        {
            await log.AppendAsync(new AuditRecord(chain, "user:admin", "test.event", $"thing:{i}", AuditOutcomes.Success, "127.0.0.1"));
        }
    }

    private static async Task<(long Seq, string Hash)> HeadAsync(MedicServer server, string chain)
    {
        var rows = await server.Database.QueryAsync<HeadRow>("SELECT seq, hash FROM audit_heads WHERE chain = @chain", new { chain });
        return (rows.Single().Seq, rows.Single().Hash);
    }

    private static async Task<IReadOnlyList<AuditCheckpoint>> CheckpointNowAsync(MedicServer server)
    {
        using var response = await server.Admin.PostAsync("/api/v1/audit/checkpoints", null);
        response.StatusCode.ShouldBe(HttpStatusCode.OK, await response.Content.ReadAsStringAsync());
        return await response.ReadAsync(MedicJson.Default.IReadOnlyListAuditCheckpoint);
    }

    private static async Task<AuditVerification> PlainVerifyAsync(MedicServer server)
    {
        using var response = await server.Admin.GetAsync("/api/v1/audit/verify");
        return (await response.ReadAsync(MedicJson.Default.AuditVerificationReport)).Chains.Single();
    }

    /// <summary>What an attacker holding the database does: drop the append-only guard, change entry <paramref name="from"/>, recompute every later hash and the head.</summary>
    private static async Task RewriteFromAsync(MedicServer server, string chain, long from)
    {
        var db = server.Database;
        await db.ExecuteAsync(db.IsPostgres ? "ALTER TABLE audit_log DISABLE TRIGGER USER" : "DROP TRIGGER audit_log_no_update; DROP TRIGGER audit_log_no_delete;");
        var entries = new List<AuditEntry>();
        await foreach (var e in server.Service<AuditLog>().ReadChainAsync(chain))
        {
            entries.Add(e);
        }

        var prev = entries.Single(e => e.Seq == from).PrevHash;
        foreach (var original in entries.Where(e => e.Seq >= from))
        {
            var e = original.Seq == from ? original with { Actor = "user:nobody", Action = "nothing.happened" } : original;
            e = e with { PrevHash = prev };
            e = e with { Hash = AuditChain.ComputeHash(prev, e) };
            await db.ExecuteAsync("UPDATE audit_log SET actor = @Actor, action = @Action, prev_hash = @PrevHash, hash = @Hash WHERE chain = @Chain AND seq = @Seq", new { e.Actor, e.Action, e.PrevHash, e.Hash, e.Chain, e.Seq });
            prev = e.Hash;
        }

        await db.ExecuteAsync("UPDATE audit_heads SET hash = @prev WHERE chain = @chain", new { prev, chain });
    }

    [Theory]
    [MemberData(nameof(Dialects.Both), MemberType = typeof(Dialects))]
    public async Task A_checkpoint_signs_the_chain_head_with_a_key_kept_in_a_0600_file_outside_the_database(string dialect)
    {
        var (server, chain) = await StartAsync(dialect);
        await using var _ = server;
        var head = await HeadAsync(server, chain);

        var checkpoint = (await CheckpointNowAsync(server)).ShouldHaveSingleItem();

        checkpoint.Chain.ShouldBe(chain);
        (checkpoint.Seq, checkpoint.Hash).ShouldBe(head);
        using var keyResponse = await server.Admin.GetAsync("/api/v1/audit/checkpoints/key");
        var key = await keyResponse.ReadAsync(MedicJson.Default.AuditCheckpointKeyResponse);
        checkpoint.PublicKey.ShouldBe(key.PublicKey);
        AuditCheckpoints.SignatureHolds(checkpoint, key.PublicKey).ShouldBeTrue();
        AuditCheckpoints.SignatureHolds(checkpoint with { Hash = new string('0', 64) }, key.PublicKey).ShouldBeFalse("the signature covers the hash");

        var keyFile = Path.Combine(server.DataDir, "keys", "audit-checkpoint.key");
        File.ReadAllText(keyFile).ShouldContain("PRIVATE KEY");
        (File.GetUnixFileMode(keyFile) & (UnixFileMode.GroupRead | UnixFileMode.OtherRead | UnixFileMode.GroupWrite | UnixFileMode.OtherWrite)).ShouldBe(UnixFileMode.None);
        var dump = await server.Database.DumpAllAsync();
        dump.ShouldNotContain(File.ReadAllText(keyFile).Split('\n')[1], Case.Sensitive, "the private key is never in the database");
        (await server.Database.ScalarAsync<long>("SELECT COUNT(*) FROM audit_checkpoints WHERE chain = @chain", new { chain })).ShouldBe(1);

        // The on-demand call is audited after signing, so it is in the next checkpoint.
        var entries = (await server.Service<AuditLog>().QueryAsync(chain, new AuditQuery(Action: "audit.checkpoint"))).Items;
        entries.ShouldHaveSingleItem().Seq.ShouldBe(head.Seq + 1);
    }

    [Theory]
    [MemberData(nameof(Dialects.Both), MemberType = typeof(Dialects))]
    public async Task The_background_checkpointer_signs_moved_heads_and_nothing_while_no_head_moves(string dialect)
    {
        var (server, chain) = await StartAsync(dialect, o => o.Audit.CheckpointInterval = "1s");
        await using var _ = server;
        var head = await HeadAsync(server, chain);

        // The periodic round runs on its own; wait (generously) for it to cover the head.
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while ((await server.Database.ScalarAsync<long?>("SELECT MAX(seq) FROM audit_checkpoints WHERE chain = @chain", new { chain }) ?? 0) < head.Seq)
        {
            DateTime.UtcNow.ShouldBeLessThan(deadline, "the background checkpointer never signed the head");
            await Task.Delay(100);
        }

        var checkpointer = server.Service<AuditCheckpointer>();
        var count = await server.Database.ScalarAsync<long>("SELECT COUNT(*) FROM audit_checkpoints");
        var again = await checkpointer.CheckpointMovedChainsAsync(CancellationToken.None);
        again.ShouldAllBe(o => !o.Created, "no head moved, so nothing new is signed");
        (await server.Database.ScalarAsync<long>("SELECT COUNT(*) FROM audit_checkpoints")).ShouldBe(count);

        await AppendAsync(server, chain, 1);
        var moved = await checkpointer.CheckpointMovedChainsAsync(CancellationToken.None);
        var created = moved.Where(o => o.Created).ShouldHaveSingleItem();
        created.Chain.ShouldBe(chain);
        created.Checkpoint!.Seq.ShouldBe(head.Seq + 1);
    }

    [Theory]
    [MemberData(nameof(Dialects.Both), MemberType = typeof(Dialects))]
    public async Task A_rewrite_with_recomputed_hashes_passes_plain_verify_but_not_verify_with_checkpoints_which_names_the_first_bad_checkpoint(string dialect)
    {
        var (server, chain) = await StartAsync(dialect);
        await using var _ = server;
        using var cli = new MedicCli(server, server.AdminToken);
        var first = (await CheckpointNowAsync(server)).Single();
        await AppendAsync(server, chain, 5);
        var second = (await CheckpointNowAsync(server)).Single();
        second.Seq.ShouldBeGreaterThan(first.Seq);
        var file = Path.Combine(cli.Home, "checkpoints.jsonl");
        var export = await cli.RunAsync("audit", "checkpoints", "export", "--output", file);
        export.ExitCode.ShouldBe(0, export.ToString());
        File.ReadAllLines(file).Length.ShouldBe(2);
        (await cli.RunAsync("audit", "verify", "--checkpoints", file)).ExitCode.ShouldBe(0, "the untouched chain holds against its checkpoints");

        await RewriteFromAsync(server, chain, 5);

        (await PlainVerifyAsync(server)).Ok.ShouldBeTrue("the rewrite recomputed every hash, so the chain alone still verifies");
        var plain = await cli.RunAsync("audit", "verify");
        plain.ExitCode.ShouldBe(0, plain.ToString());

        var anchored = await cli.RunAsync("audit", "verify", "--checkpoints", file);
        anchored.ExitCode.ShouldBe(1, anchored.ToString());
        anchored.Stdout.ShouldContain($"BROKEN  chain {chain}: checkpoint at entry {first.Seq}", Case.Sensitive, anchored.ToString());
        anchored.Stdout.ShouldContain($"entry {first.Seq} no longer has the hash this checkpoint signed", Case.Sensitive, anchored.ToString());
        anchored.Stderr.ShouldContain("tampered with");

        // Pinning the key on the command line gives the same answer without asking the server for it.
        var pinned = await cli.RunAsync("audit", "verify", "--checkpoints", file, "--public-key", first.PublicKey, "--json");
        pinned.ExitCode.ShouldBe(1, pinned.ToString());
        var report = JsonSerializer.Deserialize(pinned.Stdout, MedicJson.Default.AuditCheckpointReport)!;
        report.Checkpoints.Single().FirstBad!.Seq.ShouldBe(first.Seq);
    }

    [Theory]
    [MemberData(nameof(Dialects.Both), MemberType = typeof(Dialects))]
    public async Task Deleting_the_tail_through_a_checkpoint_is_detected_even_when_the_head_is_rewound(string dialect)
    {
        var (server, chain) = await StartAsync(dialect);
        await using var _ = server;
        using var cli = new MedicCli(server, server.AdminToken);
        var checkpoint = (await CheckpointNowAsync(server)).Single();
        var file = Path.Combine(cli.Home, "checkpoints.jsonl");
        (await cli.RunAsync("audit", "checkpoints", "export", "--output", file)).ExitCode.ShouldBe(0);

        var keep = checkpoint.Seq - 3;
        var db = server.Database;
        await db.ExecuteAsync(db.IsPostgres ? "ALTER TABLE audit_log DISABLE TRIGGER USER" : "DROP TRIGGER audit_log_no_update; DROP TRIGGER audit_log_no_delete;");
        await db.ExecuteAsync("DELETE FROM audit_log WHERE chain = @chain AND seq > @keep", new { chain, keep });
        var lastHash = await db.ScalarAsync<string>("SELECT hash FROM audit_log WHERE chain = @chain AND seq = @keep", new { chain, keep });
        await db.ExecuteAsync("UPDATE audit_heads SET seq = @keep, hash = @lastHash WHERE chain = @chain", new { keep, lastHash, chain });

        (await PlainVerifyAsync(server)).Ok.ShouldBeTrue("with the head rewound, the shortened chain verifies on its own");
        var anchored = await cli.RunAsync("audit", "verify", "--checkpoints", file);
        anchored.ExitCode.ShouldBe(1, anchored.ToString());
        anchored.Stdout.ShouldContain($"checkpoint at entry {checkpoint.Seq}", Case.Sensitive, anchored.ToString());
        anchored.Stdout.ShouldContain($"the chain ends at entry {keep}, before entry {checkpoint.Seq}", Case.Sensitive, anchored.ToString());
    }

    [Theory]
    [MemberData(nameof(Dialects.Both), MemberType = typeof(Dialects))]
    public async Task Checkpoints_forged_with_another_key_are_refused_when_the_servers_key_is_trusted(string dialect)
    {
        var (server, chain) = await StartAsync(dialect);
        await using var _ = server;
        using var cli = new MedicCli(server, server.AdminToken);
        await RewriteFromAsync(server, chain, 5);

        // The attacker signs the rewritten head with a key of their own and hands that file in.
        var head = await HeadAsync(server, chain);
        using var forger = System.Security.Cryptography.ECDsa.Create(System.Security.Cryptography.ECCurve.NamedCurves.nistP256);
        var forged = AuditCheckpoints.Sign(forger, chain, head.Seq, head.Hash, DateTimeOffset.UtcNow);
        var file = Path.Combine(cli.Home, "forged.jsonl");
        File.WriteAllText(file, JsonSerializer.Serialize(forged, MedicJson.Default.AuditCheckpoint) + "\n");

        var result = await cli.RunAsync("audit", "verify", "--checkpoints", file);

        result.ExitCode.ShouldBe(1, result.ToString());
        result.Stdout.ShouldContain("signed by a key that is not trusted", Case.Sensitive, result.ToString());
    }

    [Theory]
    [MemberData(nameof(Dialects.Both), MemberType = typeof(Dialects))]
    public async Task A_broken_chain_is_never_checkpointed(string dialect)
    {
        var (server, chain) = await StartAsync(dialect);
        await using var _ = server;
        var db = server.Database;
        await db.ExecuteAsync(db.IsPostgres ? "ALTER TABLE audit_log DISABLE TRIGGER USER" : "DROP TRIGGER audit_log_no_update; DROP TRIGGER audit_log_no_delete;");
        await db.ExecuteAsync("UPDATE audit_log SET actor = 'user:mallory' WHERE chain = @chain AND seq = 4", new { chain });

        using var response = await server.Admin.PostAsync("/api/v1/audit/checkpoints", null);

        response.StatusCode.ShouldBe(HttpStatusCode.Conflict);
        response.Content.Headers.ContentType!.MediaType.ShouldBe("application/problem+json");
        (await response.Content.ReadAsStringAsync()).ShouldContain("entry 4");
        (await db.ScalarAsync<long>("SELECT COUNT(*) FROM audit_checkpoints WHERE chain = @chain", new { chain })).ShouldBe(0);
    }

    [Theory]
    [MemberData(nameof(Dialects.Both), MemberType = typeof(Dialects))]
    public async Task A_new_checkpoint_is_posted_to_the_configured_webhook(string dialect)
    {
        var received = new List<string>();
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        await using var hook = builder.Build();
        hook.MapPost("/checkpoints", async (Microsoft.AspNetCore.Http.HttpRequest request) =>
        {
            using var reader = new StreamReader(request.Body);
            var body = await reader.ReadToEndAsync();
            lock (received) received.Add(body);
            return Microsoft.AspNetCore.Http.Results.NoContent();
        });
        await hook.StartAsync();
        var url = hook.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.Single() + "/checkpoints?token=s3cret";

        var (server, _) = await StartAsync(dialect, o => o.Audit.CheckpointWebhook = url);
        await using var __ = server;
        var checkpoint = (await CheckpointNowAsync(server)).Single();

        string body;
        lock (received) body = received.ShouldHaveSingleItem();
        var posted = JsonSerializer.Deserialize(body, MedicJson.Default.AuditCheckpoint)!;
        posted.ShouldBe(checkpoint);
        AuditCheckpoints.SignatureHolds(posted, posted.PublicKey).ShouldBeTrue();
    }

    [Theory]
    [MemberData(nameof(Dialects.Both), MemberType = typeof(Dialects))]
    public async Task The_checkpoint_cli_appends_to_a_file_and_lists_with_json(string dialect)
    {
        var (server, chain) = await StartAsync(dialect);
        await using var _ = server;
        using var cli = new MedicCli(server, server.AdminToken);
        var file = Path.Combine(cli.Home, "offsite.jsonl");

        var one = await cli.RunAsync("audit", "checkpoint", "--output", file);
        var two = await cli.RunAsync("audit", "checkpoint", "--output", file);
        var list = await cli.RunAsync("audit", "checkpoints", "list", "--json");

        one.ExitCode.ShouldBe(0, one.ToString());
        two.ExitCode.ShouldBe(0, two.ToString());
        var lines = File.ReadAllLines(file).Select(l => JsonSerializer.Deserialize(l, MedicJson.Default.AuditCheckpoint)!).ToList();
        lines.Count.ShouldBe(2);
        lines[1].Seq.ShouldBe(lines[0].Seq + 1, "the second covers the first call's own audit entry");
        var listed = JsonSerializer.Deserialize(list.Stdout, MedicJson.Default.IReadOnlyListAuditCheckpoint)!;
        listed.Select(c => c.Seq).ShouldBe(lines.Select(c => c.Seq));
        listed.ShouldAllBe(c => c.Chain == chain);
        (await cli.RunAsync("audit", "verify", "--checkpoints", file)).ExitCode.ShouldBe(0);
    }

    private sealed class HeadRow
    {
        public long Seq { get; set; }
        public string Hash { get; set; } = "";
    }
}
