using System.Globalization;
using Medic.Contracts;

namespace Medic.Contracts.Tests;

public sealed class AuditChainTests
{
    private static readonly DateTimeOffset Start = new(2026, 1, 2, 3, 4, 5, TimeSpan.Zero);

    private static AuditEntry Unhashed(int seq, string chain = "ten_1") => new(
        chain,
        seq,
        $"aud_{seq}",
        chain,
        Start.AddSeconds(seq),
        "user:admin",
        "test.event",
        $"thing:{seq}",
        AuditOutcomes.Success,
        "127.0.0.1",
        new Dictionary<string, string> { ["n"] = seq.ToString(CultureInfo.InvariantCulture) },
        "",
        "");

    /// <summary>A correctly linked chain of <paramref name="count"/> entries, as the server appends them.</summary>
    private static List<AuditEntry> Chain(int count, string chain = "ten_1")
    {
        var entries = new List<AuditEntry>();
        var prev = AuditChain.Genesis;
        for (var seq = 1; seq <= count; seq++)
        {
            var e = Unhashed(seq, chain) with { PrevHash = prev };
            e = e with { Hash = AuditChain.ComputeHash(prev, e) };
            entries.Add(e);
            prev = e.Hash;
        }

        return entries;
    }

    private static (long, string) HeadOf(List<AuditEntry> entries) => (entries[^1].Seq, entries[^1].Hash);

    [Fact]
    public void The_canonical_form_is_pinned_so_existing_logs_keep_verifying()
    {
        var entry = new AuditEntry("ten_1", 1, "aud_1", "ten_1", new DateTimeOffset(2026, 1, 2, 3, 4, 5, TimeSpan.Zero).AddTicks(1234567),
            "user:admin", "user.create", "user:usr_1", "success", "127.0.0.1",
            new Dictionary<string, string> { ["b"] = "2", ["a"] = "1" }, AuditChain.Genesis, "");

        AuditChain.Canonical(entry).ShouldBe(
            """{"chain":"ten_1","seq":1,"id":"aud_1","tenant_id":"ten_1","at":"2026-01-02T03:04:05.123456Z","actor":"user:admin","action":"user.create","target":"user:usr_1","outcome":"success","client_address":"127.0.0.1","details":{"a":"1","b":"2"}}""");
        AuditChain.ComputeHash(AuditChain.Genesis, entry).ShouldBe("a36bb7a5e368c5cb654bb6dc4561cf68cc8c8325b1fa5a754e33c1490c085cdf");
    }

    [Fact]
    public void The_canonical_form_does_not_depend_on_the_order_details_were_added_in()
    {
        var forwards = Unhashed(1) with { Details = new Dictionary<string, string> { ["alpha"] = "1", ["beta"] = "2", ["Gamma"] = "3" } };
        var backwards = Unhashed(1) with { Details = new Dictionary<string, string> { ["Gamma"] = "3", ["beta"] = "2", ["alpha"] = "1" } };

        AuditChain.Canonical(backwards).ShouldBe(AuditChain.Canonical(forwards));
        AuditChain.Canonical(forwards).ShouldContain("""{"Gamma":"3","alpha":"1","beta":"2"}""");
    }

    [Fact]
    public void The_canonical_form_is_the_same_every_time_and_leaves_out_the_hashes()
    {
        var entry = Chain(3)[2];

        AuditChain.Canonical(entry).ShouldBe(AuditChain.Canonical(entry with { }));
        AuditChain.Canonical(entry with { PrevHash = "x", Hash = "y" }).ShouldBe(AuditChain.Canonical(entry));
    }

    public static TheoryData<string> CoveredFields => new() { "chain", "seq", "id", "tenant_id", "at", "actor", "action", "target", "outcome", "client_address", "details" };

    private static AuditEntry Change(AuditEntry e, string field) => field switch
    {
        "chain" => e with { Chain = "ten_2" },
        "seq" => e with { Seq = e.Seq + 1 },
        "id" => e with { Id = "aud_other" },
        "tenant_id" => e with { TenantId = null },
        "at" => e with { At = e.At.AddTicks(10) },
        "actor" => e with { Actor = "user:mallory" },
        "action" => e with { Action = "nothing.happened" },
        "target" => e with { Target = "thing:other" },
        "outcome" => e with { Outcome = AuditOutcomes.Denied },
        "client_address" => e with { ClientAddress = null },
        "details" => e with { Details = new Dictionary<string, string>(e.Details) { ["extra"] = "x" } },
        _ => throw new ArgumentOutOfRangeException(nameof(field), field, null),
    };

    [Theory]
    [MemberData(nameof(CoveredFields))]
    public void Every_field_is_covered_by_the_hash(string field)
    {
        var entry = Chain(1)[0];

        AuditChain.ComputeHash(entry.PrevHash, Change(entry, field)).ShouldNotBe(entry.Hash);
    }

    [Fact]
    public void Times_are_hashed_at_microsecond_precision_in_UTC_whatever_the_offset()
    {
        var utc = new DateTimeOffset(2026, 5, 6, 7, 8, 9, TimeSpan.Zero).AddTicks(1234567);
        var local = utc.ToOffset(TimeSpan.FromHours(5.5));

        AuditChain.FormatTime(local).ShouldBe("2026-05-06T07:08:09.123456Z");
        AuditChain.Normalize(local).ShouldBe(utc.AddTicks(-7));
        AuditChain.Normalize(local).Offset.ShouldBe(TimeSpan.Zero);
        AuditChain.Canonical(Unhashed(1) with { At = local }).ShouldBe(AuditChain.Canonical(Unhashed(1) with { At = AuditChain.Normalize(utc) }));
    }

    [Fact]
    public void An_intact_chain_verifies()
    {
        var entries = Chain(5);

        var result = AuditChain.Verify("ten_1", entries, HeadOf(entries));

        result.Ok.ShouldBeTrue();
        result.FirstBroken.ShouldBeNull();
        result.Checked.ShouldBe(5);
        result.HeadSeq.ShouldBe(5);
        result.Chain.ShouldBe("ten_1");
    }

    [Fact]
    public void An_empty_chain_with_no_head_verifies()
    {
        var result = AuditChain.Verify("ten_1", [], head: null);

        result.Ok.ShouldBeTrue();
        result.Checked.ShouldBe(0);
    }

    [Fact]
    public void A_missing_entry_is_named()
    {
        var entries = Chain(5);
        var head = HeadOf(entries);
        entries.RemoveAt(2);

        var result = AuditChain.Verify("ten_1", entries, head);

        result.Ok.ShouldBeFalse();
        var broken = result.FirstBroken.ShouldNotBeNull();
        broken.Seq.ShouldBe(3);
        broken.Id.ShouldBeNull();
        broken.Reason.ShouldContain("entry 3 is missing");
    }

    [Fact]
    public void A_missing_first_entry_is_named()
    {
        var entries = Chain(3);
        var head = HeadOf(entries);
        entries.RemoveAt(0);

        AuditChain.Verify("ten_1", entries, head).FirstBroken.ShouldNotBeNull().Seq.ShouldBe(1);
    }

    /// <summary>Fields an attacker can change in place; renumbering (seq) is covered by the reordering cases.</summary>
    public static TheoryData<string> EditableFields => new() { "chain", "id", "tenant_id", "at", "actor", "action", "target", "outcome", "client_address", "details" };

    [Theory]
    [MemberData(nameof(EditableFields))]
    public void An_edited_field_is_named_at_its_entry(string field)
    {
        var entries = Chain(5);
        var head = HeadOf(entries);
        entries[3] = Change(entries[3], field);

        var result = AuditChain.Verify("ten_1", entries, head);

        result.Ok.ShouldBeFalse();
        var broken = result.FirstBroken.ShouldNotBeNull();
        broken.Seq.ShouldBe(4);
        broken.Reason.ShouldContain("does not match its hash");
    }

    [Fact]
    public void An_entry_that_does_not_link_to_the_one_before_is_named()
    {
        var entries = Chain(5);
        var head = HeadOf(entries);
        var forged = entries[2] with { PrevHash = new string('f', 64) };
        entries[2] = forged with { Hash = AuditChain.ComputeHash(forged.PrevHash, forged) };

        var broken = AuditChain.Verify("ten_1", entries, head).FirstBroken.ShouldNotBeNull();

        broken.Seq.ShouldBe(3);
        broken.Id.ShouldBe("aud_3");
        broken.Reason.ShouldContain("does not link to entry 2");
    }

    [Fact]
    public void A_replaced_first_entry_does_not_start_the_chain()
    {
        var entries = Chain(2);
        var head = HeadOf(entries);
        var forged = entries[0] with { PrevHash = new string('1', 64) };
        entries[0] = forged with { Hash = AuditChain.ComputeHash(forged.PrevHash, forged) };

        var broken = AuditChain.Verify("ten_1", entries, head).FirstBroken.ShouldNotBeNull();

        broken.Seq.ShouldBe(1);
        broken.Reason.ShouldContain("does not start the chain");
    }

    [Fact]
    public void Entries_renumbered_into_another_order_are_named_at_the_first_moved_position()
    {
        // What swapping two rows' sequence numbers in the database looks like once read back in sequence order.
        var entries = Chain(5);
        var head = HeadOf(entries);
        (entries[1], entries[3]) = (entries[3] with { Seq = 2 }, entries[1] with { Seq = 4 });

        var broken = AuditChain.Verify("ten_1", entries, head).FirstBroken.ShouldNotBeNull();

        broken.Seq.ShouldBe(2);
        broken.Id.ShouldBe("aud_4");
        broken.Reason.ShouldContain("does not link to entry 1");
    }

    [Fact]
    public void Entries_given_out_of_order_are_named()
    {
        var entries = Chain(4);
        var head = HeadOf(entries);
        (entries[1], entries[2]) = (entries[2], entries[1]);

        var result = AuditChain.Verify("ten_1", entries, head);

        result.Ok.ShouldBeFalse();
        result.FirstBroken.ShouldNotBeNull().Seq.ShouldBe(2);
    }

    [Fact]
    public void A_duplicated_entry_is_named_as_out_of_order()
    {
        var entries = Chain(3);
        var head = HeadOf(entries);
        entries.Insert(2, entries[1]);

        var broken = AuditChain.Verify("ten_1", entries, head).FirstBroken.ShouldNotBeNull();

        broken.Reason.ShouldContain("entry 2 appears out of order after entry 2");
    }

    [Fact]
    public void Entries_deleted_at_the_end_are_caught_by_the_head()
    {
        var entries = Chain(6);
        var head = HeadOf(entries);
        entries.RemoveRange(4, 2);

        var result = AuditChain.Verify("ten_1", entries, head);

        result.Ok.ShouldBeFalse();
        result.HeadSeq.ShouldBe(6);
        var broken = result.FirstBroken.ShouldNotBeNull();
        broken.Seq.ShouldBe(5);
        broken.Reason.ShouldContain("records 6 entries but only 4 remain");
    }

    [Fact]
    public void A_head_whose_hash_differs_from_the_last_entry_is_a_mismatch()
    {
        var entries = Chain(3);

        var result = AuditChain.Verify("ten_1", entries, (3, new string('e', 64)));

        result.Ok.ShouldBeFalse();
        result.FirstBroken.ShouldNotBeNull().Reason.ShouldContain("does not match the last entry 3");
    }

    [Fact]
    public void A_head_with_every_entry_deleted_is_caught()
    {
        var entries = Chain(3);

        var result = AuditChain.Verify("ten_1", [], HeadOf(entries));

        result.Ok.ShouldBeFalse();
        result.FirstBroken.ShouldNotBeNull().Seq.ShouldBe(1);
    }

    [Fact]
    public void An_entry_moved_from_another_chain_does_not_verify()
    {
        var other = Chain(1, "ten_2");

        var result = AuditChain.Verify("ten_1", [other[0] with { Chain = "ten_1" }], (1, other[0].Hash));

        result.Ok.ShouldBeFalse();
        result.FirstBroken.ShouldNotBeNull().Reason.ShouldContain("does not match its hash");
    }

    [Fact]
    public void A_partial_export_verifies_from_its_first_entry()
    {
        var entries = Chain(6);

        var fromMiddle = AuditChain.Verify("ten_1", entries.Skip(2), HeadOf(entries), fromFirstEntry: true);
        var strict = AuditChain.Verify("ten_1", entries.Skip(2), HeadOf(entries));

        fromMiddle.Ok.ShouldBeTrue();
        fromMiddle.Checked.ShouldBe(4);
        strict.Ok.ShouldBeFalse();
    }
}
