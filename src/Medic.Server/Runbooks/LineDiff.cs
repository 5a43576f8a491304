using System.Text;

namespace Medic.Server.Runbooks;

/// <summary>
/// A unified line diff (the <c>diff -u</c> format, 3 lines of context) from a longest common
/// subsequence of lines. After the common head and tail are set aside, the middle costs time and
/// memory quadratic in its lines, so a middle over <see cref="MaxLines"/> lines on either side is
/// shown as replaced whole instead.
/// </summary>
internal static class LineDiff
{
    public const int MaxLines = 2000;
    private const int Context = 3;

    private enum Op { Same, Removed, Added }

    public static string Unified(string oldText, string newText, string oldLabel, string newLabel)
    {
        var a = Lines(oldText);
        var b = Lines(newText);
        var edits = Diff(a, b);
        if (edits.All(e => e.Op == Op.Same)) return "";

        var output = new StringBuilder();
        output.Append("--- ").AppendLine(oldLabel);
        output.Append("+++ ").AppendLine(newLabel);
        var i = 0;
        while (i < edits.Count)
        {
            if (edits[i].Op == Op.Same)
            {
                i++;
                continue;
            }

            // A hunk: from a change, back up to 3 lines of context, and extend while changes are at most 6 lines apart.
            var start = Math.Max(0, i - Context);
            var end = i;
            while (true)
            {
                while (end < edits.Count && edits[end].Op != Op.Same) end++;
                var next = end;
                while (next < edits.Count && edits[next].Op == Op.Same) next++;
                if (next < edits.Count && next - end <= 2 * Context)
                {
                    end = next;
                    continue;
                }

                end = Math.Min(edits.Count, end + Context);
                break;
            }

            var hunk = edits.GetRange(start, end - start);
            var oldStart = hunk[0].OldLine;
            var newStart = hunk[0].NewLine;
            var oldCount = hunk.Count(e => e.Op != Op.Added);
            var newCount = hunk.Count(e => e.Op != Op.Removed);
            output.AppendLine($"@@ -{Range(oldStart, oldCount)} +{Range(newStart, newCount)} @@");
            foreach (var e in hunk)
            {
                output.Append(e.Op switch { Op.Same => ' ', Op.Removed => '-', _ => '+' }).AppendLine(e.Text);
            }

            i = end;
        }

        return output.ToString();
    }

    // In unified diffs an empty range names the line before it.
    private static string Range(int start, int count) => count == 0 ? $"{start - 1},0" : count == 1 ? $"{start}" : $"{start},{count}";

    private readonly record struct Edit(Op Op, string Text, int OldLine, int NewLine);

    private static string[] Lines(string text)
    {
        if (text.Length == 0) return [];
        var lines = text.Replace("\r\n", "\n", StringComparison.Ordinal).Split('\n');
        return text.EndsWith('\n') ? lines[..^1] : lines;
    }

    private static List<Edit> Diff(string[] a, string[] b)
    {
        var head = 0;
        while (head < a.Length && head < b.Length && a[head] == b[head]) head++;
        var tail = 0;
        while (tail < a.Length - head && tail < b.Length - head && a[^(tail + 1)] == b[^(tail + 1)]) tail++;
        var midA = a[head..(a.Length - tail)];
        var midB = b[head..(b.Length - tail)];
        var middle = midA.Length > MaxLines || midB.Length > MaxLines ? Replace(midA, midB) : Lcs(midA, midB);
        var edits = new List<Edit>(a.Length + b.Length);
        edits.AddRange(a[..head].Select((l, i) => new Edit(Op.Same, l, i + 1, i + 1)));
        edits.AddRange(middle.Select(e => e with { OldLine = e.OldLine + head, NewLine = e.NewLine + head }));
        edits.AddRange(a[(a.Length - tail)..].Select((l, i) => new Edit(Op.Same, l, a.Length - tail + i + 1, b.Length - tail + i + 1)));
        return edits;
    }

    private static List<Edit> Lcs(string[] a, string[] b)
    {
        // length[i, j]: the LCS length of a[i..] and b[j..].
        var length = new int[a.Length + 1, b.Length + 1];
        for (var i = a.Length - 1; i >= 0; i--)
        {
            for (var j = b.Length - 1; j >= 0; j--)
            {
                length[i, j] = a[i] == b[j] ? length[i + 1, j + 1] + 1 : Math.Max(length[i + 1, j], length[i, j + 1]);
            }
        }

        var edits = new List<Edit>(a.Length + b.Length);
        int x = 0, y = 0;
        while (x < a.Length || y < b.Length)
        {
            if (x < a.Length && y < b.Length && a[x] == b[y])
            {
                edits.Add(new Edit(Op.Same, a[x], x + 1, y + 1));
                x++;
                y++;
            }
            else if (y < b.Length && (x == a.Length || length[x, y + 1] >= length[x + 1, y]))
            {
                edits.Add(new Edit(Op.Added, b[y], x + 1, y + 1));
                y++;
            }
            else
            {
                edits.Add(new Edit(Op.Removed, a[x], x + 1, y + 1));
                x++;
            }
        }

        // Removals read better before the additions that replace them.
        return Reorder(edits);
    }

    private static List<Edit> Reorder(List<Edit> edits)
    {
        var result = new List<Edit>(edits.Count);
        var i = 0;
        while (i < edits.Count)
        {
            if (edits[i].Op == Op.Same)
            {
                result.Add(edits[i++]);
                continue;
            }

            var run = new List<Edit>();
            while (i < edits.Count && edits[i].Op != Op.Same) run.Add(edits[i++]);
            var removed = run.Where(e => e.Op == Op.Removed).ToList();
            var added = run.Where(e => e.Op == Op.Added).ToList();
            var oldLine = run.Min(e => e.OldLine);
            var newLine = run.Min(e => e.NewLine);
            result.AddRange(removed.Select((e, k) => e with { OldLine = oldLine + k, NewLine = newLine }));
            result.AddRange(added.Select((e, k) => e with { OldLine = oldLine + removed.Count, NewLine = newLine + k }));
        }

        return result;
    }

    private static List<Edit> Replace(string[] a, string[] b) =>
        [.. a.Select((l, i) => new Edit(Op.Removed, l, i + 1, 1)), .. b.Select((l, i) => new Edit(Op.Added, l, a.Length + 1, i + 1))];
}
