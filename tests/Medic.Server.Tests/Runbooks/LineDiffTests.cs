using System.Diagnostics;
using Medic.Server.Runbooks;

namespace Medic.Server.Tests.Runbooks;

public sealed class LineDiffTests
{
    [Fact]
    public void The_same_text_has_no_diff() => LineDiff.Unified("a\nb\n", "a\nb\n", "x", "y").ShouldBe("");

    [Fact]
    public void A_changed_line_shows_as_removed_then_added_with_context()
    {
        var diff = LineDiff.Unified("name: r\nversion: 1\nrisk: low\nsteps: []\n", "name: r\nversion: 2\nrisk: low\nsteps: []\n", "r v1", "r v2");

        diff.ShouldBe("--- r v1\n+++ r v2\n@@ -1,4 +1,4 @@\n name: r\n-version: 1\n+version: 2\n risk: low\n steps: []\n");
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(4)]
    [InlineData(5)]
    public void Hunks_match_what_diff_u_prints(int seed)
    {
        var random = new Random(seed);
        var a = Enumerable.Range(0, 60).Select(i => "line " + random.Next(20)).ToList();
        var b = a.ToList();
        for (var edit = 0; edit < 8; edit++)
        {
            var at = random.Next(b.Count);
            switch (random.Next(3))
            {
                case 0: b.RemoveAt(at); break;
                case 1: b.Insert(at, "new " + random.Next(1000)); break;
                default: b[at] = "changed " + random.Next(1000); break;
            }
        }

        using var dir = new Infrastructure.TempDirectory();
        var (oldFile, newFile) = (Path.Combine(dir.Path, "old"), Path.Combine(dir.Path, "new"));
        File.WriteAllText(oldFile, string.Join("\n", a) + "\n");
        File.WriteAllText(newFile, string.Join("\n", b) + "\n");

        var ours = LineDiff.Unified(File.ReadAllText(oldFile), File.ReadAllText(newFile), "old", "new");

        // Both are minimal edit scripts, but ties may be broken differently: compare what each hunk header
        // claims against the two texts, and the number of lines each side changes.
        var expected = DiffU(oldFile, newFile);
        Changed(ours).ShouldBe(Changed(expected));
        Apply(a, ours).ShouldBe(b);
    }

    private static (int Removed, int Added) Changed(string diff)
    {
        var lines = diff.Split('\n').Where(l => !l.StartsWith("---", StringComparison.Ordinal) && !l.StartsWith("+++", StringComparison.Ordinal)).ToList();
        return (lines.Count(l => l.StartsWith('-')), lines.Count(l => l.StartsWith('+')));
    }

    /// <summary>Applies a unified diff to the old lines, checking every context and removed line against them.</summary>
    private static List<string> Apply(List<string> old, string diff)
    {
        var result = new List<string>();
        var position = 0;
        foreach (var line in diff.TrimEnd('\n').Split('\n').Skip(2))
        {
            if (line.StartsWith("@@", StringComparison.Ordinal))
            {
                var start = int.Parse(line.Split(' ')[1][1..].Split(',')[0], System.Globalization.CultureInfo.InvariantCulture);
                var to = line.Split(' ')[1].Contains(",0", StringComparison.Ordinal) ? start : start - 1;
                while (position < to) result.Add(old[position++]);
                continue;
            }

            switch (line[0])
            {
                case ' ':
                    old[position].ShouldBe(line[1..]);
                    result.Add(old[position++]);
                    break;
                case '-':
                    old[position++].ShouldBe(line[1..]);
                    break;
                default:
                    result.Add(line[1..]);
                    break;
            }
        }

        while (position < old.Count) result.Add(old[position++]);
        return result;
    }

    private static string DiffU(string a, string b)
    {
        var psi = new ProcessStartInfo("diff") { RedirectStandardOutput = true, UseShellExecute = false, ArgumentList = { "-u", "--label", "old", "--label", "new", a, b } };
        using var process = Process.Start(psi)!;
        var output = process.StandardOutput.ReadToEnd();
        process.WaitForExit();
        return output;
    }
}
