using System.Globalization;
using System.Security.Cryptography;
using Medic.Contracts;

namespace Medic.Contracts.Tests;

public sealed class AuditCheckpointsTests
{
    private static readonly DateTimeOffset Start = new(2026, 1, 2, 3, 4, 5, TimeSpan.Zero);

    private static List<AuditEntry> Chain(int count, string actorOf5 = "user:admin")
    {
        var entries = new List<AuditEntry>();
        var prev = AuditChain.Genesis;
        for (var seq = 1; seq <= count; seq++)
        {
            var e = new AuditEntry("ten_1", seq, $"aud_{seq}", "ten_1", Start.AddSeconds(seq), seq == 5 ? actorOf5 : "user:admin", "test.event", $"thing:{seq}",
                AuditOutcomes.Success, null, new Dictionary<string, string> { ["n"] = seq.ToString(CultureInfo.InvariantCulture) }, prev, "");
            e = e with { Hash = AuditChain.ComputeHash(prev, e) };
            entries.Add(e);
            prev = e.Hash;
        }

        return entries;
    }

    [Fact]
    public void Checkpoints_of_the_real_chain_hold_and_a_rewritten_chain_fails_at_the_first_checkpoint_after_the_rewrite()
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var real = Chain(12);
        var checkpoints = new[] { 3, 8, 12 }.Select(s => AuditCheckpoints.Sign(key, "ten_1", s, real[s - 1].Hash, Start.AddMinutes(s))).ToList();
        var trusted = new[] { AuditCheckpoints.PublicKeyOf(key) };

        AuditCheckpoints.Verify("ten_1", real, checkpoints, trusted).Ok.ShouldBeTrue();

        var rewritten = Chain(12, actorOf5: "user:nobody");
        AuditChain.Verify("ten_1", rewritten, (12, rewritten[^1].Hash)).Ok.ShouldBeTrue("the rewrite recomputed every hash");
        var check = AuditCheckpoints.Verify("ten_1", rewritten, checkpoints, trusted);
        check.Ok.ShouldBeFalse();
        check.FirstBad!.Seq.ShouldBe(8);
        check.Checkpoints.ShouldBe(3);
    }

    [Fact]
    public void A_stored_hash_column_is_not_believed_the_hash_is_recomputed()
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var real = Chain(6);
        var checkpoint = AuditCheckpoints.Sign(key, "ten_1", 6, real[5].Hash, Start);
        // The fields of entry 2 change but every stored hash is left as it was.
        var edited = real.Select(e => e.Seq == 2 ? e with { Target = "thing:elsewhere" } : e).ToList();

        var check = AuditCheckpoints.Verify("ten_1", edited, [checkpoint], [AuditCheckpoints.PublicKeyOf(key)]);

        check.Ok.ShouldBeFalse();
        check.FirstBad!.Seq.ShouldBe(6);
    }

    [Fact]
    public void An_edited_or_untrusted_checkpoint_fails()
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        using var other = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var real = Chain(4);
        var good = AuditCheckpoints.Sign(key, "ten_1", 4, real[3].Hash, Start);
        var trusted = new[] { AuditCheckpoints.PublicKeyOf(key) };

        AuditCheckpoints.Verify("ten_1", real, [good with { At = Start.AddDays(1) }], trusted).FirstBad!.Reason.ShouldContain("signature that does not verify");
        AuditCheckpoints.Verify("ten_1", real, [AuditCheckpoints.Sign(other, "ten_1", 4, real[3].Hash, Start)], trusted).FirstBad!.Reason.ShouldContain("not trusted");
    }

    [Fact]
    public void A_checkpoint_beyond_the_end_of_the_chain_means_the_tail_was_deleted()
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var real = Chain(10);
        var checkpoint = AuditCheckpoints.Sign(key, "ten_1", 10, real[9].Hash, Start);

        var check = AuditCheckpoints.Verify("ten_1", real.Take(7), [checkpoint], [AuditCheckpoints.PublicKeyOf(key)]);

        check.FirstBad!.Seq.ShouldBe(10);
        check.FirstBad.Reason.ShouldContain("the chain ends at entry 7, before entry 10");
    }
}
