using Medic.Server.Secrets;

namespace Medic.Server.Tests.Secrets;

/// <summary>What <see cref="Redaction.Apply(string)"/> leaves of a text that holds secret values.</summary>
public sealed class RedactionTests
{
    private static Redaction Of(params (string Name, string Value)[] secrets) => Redaction.Of(secrets.ToDictionary(s => s.Name, s => s.Value));

    [Fact]
    public void Every_occurrence_of_every_value_is_replaced_by_its_name()
    {
        var r = Of(("db-password", "hunter2-hunter2"), ("api.key", "sk-live-0123456789"));
        r.Apply("pw=hunter2-hunter2 key=sk-live-0123456789\nagain: hunter2-hunter2")
            .ShouldBe("pw=[secret:db-password] key=[secret:api.key]\nagain: [secret:db-password]");
    }

    [Fact]
    public void The_longest_value_wins_where_values_nest()
    {
        var r = Of(("short", "abcd1234"), ("long", "abcd1234-extended"));
        r.Apply("x abcd1234-extended y abcd1234 z").ShouldBe("x [secret:long] y [secret:short] z");
    }

    [Fact]
    public void Values_that_overlap_are_cut_together_so_no_part_of_either_is_left()
    {
        var r = Of(("a", "AAAABBBB"), ("b", "BBBBCCCC"));
        r.Apply("<AAAABBBBCCCC>").ShouldBe("<[secret:a]>");
        r.Apply("<AAAABBBB><BBBBCCCC>").ShouldBe("<[secret:a]><[secret:b]>");
    }

    [Fact]
    public void Values_shorter_than_four_characters_are_not_redacted()
    {
        var r = Of(("pin", "123"), ("word", "1234"));
        r.Count.ShouldBe(1);
        r.Apply("123 and 1234").ShouldBe("123 and [secret:word]");
    }

    [Fact]
    public void Text_without_values_is_returned_as_it_is()
    {
        var text = "nothing to see here";
        Of(("k", "zzzzzz")).Apply(text).ShouldBeSameAs(text);
        Redaction.None.Apply(text).ShouldBeSameAs(text);
    }

    [Fact]
    public void A_value_at_the_very_start_or_end_and_one_that_fills_the_text_are_replaced()
    {
        var r = Of(("k", "token-xyz"));
        r.Apply("token-xyz").ShouldBe("[secret:k]");
        r.Apply("token-xyz!token-xyz").ShouldBe("[secret:k]![secret:k]");
    }
}
