using Medic.Server.Secrets;

namespace Medic.Server.Tests.Secrets;

/// <summary>Live output redacted as it streams (<see cref="LiveRedaction"/>): a value split across chunks never shows.</summary>
public sealed class LiveRedactionTests
{
    private static Redaction Of(params (string Name, string Value)[] secrets) => Redaction.Of(secrets.ToDictionary(s => s.Name, s => s.Value));

    private static string Stream(Redaction redaction, IEnumerable<string> chunks)
    {
        var live = new LiveRedaction(redaction);
        var shown = string.Concat(chunks.Select(c => live.Push("stdout", c)));
        return shown + string.Concat(live.Flush().Select(f => f.Text));
    }

    [Fact]
    public void A_value_split_across_two_chunks_is_cut_whole()
    {
        var r = Of(("db", "hunter2-hunter2"));
        var live = new LiveRedaction(r);
        live.Push("stdout", "password=hunt").ShouldBe("password=");
        live.Push("stdout", "er2-hunter2 ok\n").ShouldBe("[secret:db] ok\n");
        live.Flush().ShouldBeEmpty();
    }

    [Fact]
    public void Output_that_cannot_begin_a_value_goes_out_at_once()
    {
        var live = new LiveRedaction(Of(("db", "hunter2-hunter2")));
        live.Push("stdout", "progress 10%\n").ShouldBe("progress 10%\n");
        live.Push("stdout", "still going, no h at the end").ShouldBe("still going, no h at the end");
    }

    [Fact]
    public void A_held_beginning_that_turns_out_not_to_be_a_value_is_shown_with_the_next_chunk_or_at_the_end()
    {
        var live = new LiveRedaction(Of(("db", "hunter2-hunter2")));
        live.Push("stdout", "the hunt").ShouldBe("the ");
        live.Push("stdout", "ing season").ShouldBe("hunting season");
        live.Push("stdout", "last: hunter2-").ShouldBe("last: ");
        live.Flush().ShouldBe([("stdout", "hunter2-")]);
    }

    [Fact]
    public void Streams_are_held_apart()
    {
        var live = new LiveRedaction(Of(("k", "sk-live-0123456789")));
        live.Push("stdout", "a sk-live-01").ShouldBe("a ");
        live.Push("stderr", "23456789 is not a key here").ShouldBe("23456789 is not a key here");
        live.Push("stdout", "23456789 b").ShouldBe("[secret:k] b");
    }

    [Fact]
    public void A_longer_value_that_may_still_come_is_waited_for_before_a_shorter_one_is_cut()
    {
        var live = new LiveRedaction(Of(("short", "abcd1234"), ("long", "abcd1234-extended")));
        live.Push("stdout", "x abcd1234-ext").ShouldBe("x ");
        live.Push("stdout", "ended y").ShouldBe("[secret:long] y");
        live.Push("stdout", "z abcd1234").ShouldBe("z ");
        live.Push("stdout", "!").ShouldBe("[secret:short]!");
    }

    [Fact]
    public void Every_split_of_output_gives_what_redacting_it_whole_gives()
    {
        var r = Of(("a", "hunter2-hunter2"), ("b", "sk-live-0123456789"), ("c", "abcd1234"), ("d", "abcd1234-extended"));
        string[] pieces = ["hunter2-hunter2", "sk-live-0123456789", "abcd1234", "abcd1234-extended", "hunt", "sk-", "abcd", "h", " ", "\n", "x"];
        foreach (var (text, chunks) in Splits(pieces, new Random(20261207)))
        {
            Stream(r, chunks).ShouldBe(r.Apply(text), $"text '{text}' in chunks [{string.Join("|", chunks)}]");
        }
    }

    [Fact]
    public void No_split_of_output_shows_a_value_even_where_values_overlap_themselves()
    {
        // Runs of a value that overlaps itself may come out as one marker or several; never as the value.
        string[] values = ["hhhhh", "hunter2-hunter2", "abab-abab"];
        var r = Of([.. values.Select((v, i) => ("v" + i, v))]);
        string[] pieces = ["hhhhh", "hhhh", "h", "hunter2-", "hunter2-hunter2", "abab-", "abab-abab", "ab", " "];
        foreach (var (text, chunks) in Splits(pieces, new Random(7)))
        {
            var shown = Stream(r, chunks);
            values.ShouldAllBe(v => !shown.Contains(v), $"text '{text}' in chunks [{string.Join("|", chunks)}] showed '{shown}'");
        }
    }

    private static IEnumerable<(string Text, List<string> Chunks)> Splits(string[] pieces, Random random)
    {
        for (var i = 0; i < 500; i++)
        {
            var text = string.Concat(Enumerable.Range(0, random.Next(1, 12)).Select(_ => pieces[random.Next(pieces.Length)]));
            var cuts = Enumerable.Range(0, random.Next(0, 6)).Select(_ => random.Next(0, text.Length + 1)).Append(0).Append(text.Length).Distinct().Order().ToList();
            yield return (text, cuts.Zip(cuts.Skip(1), (from, to) => text[from..to]).ToList());
        }
    }
}
