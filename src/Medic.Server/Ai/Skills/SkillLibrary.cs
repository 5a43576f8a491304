using System.Text;
using System.Text.RegularExpressions;
using Medic.Contracts;

namespace Medic.Server.Ai.Skills;

/// <summary>A skill as listed: where it comes from and how many tokens it costs.</summary>
internal sealed record SkillInfo(string Name, string Description, string When, bool Builtin, bool Overrides, int Tokens, string? UpdatedBy, DateTimeOffset? UpdatedAt)
{
    public AiSkillSummary ToSummary() => new(Name, Description, When, Builtin, Overrides, Tokens, UpdatedBy, UpdatedAt);
}

/// <summary>
/// The skills an AI agent may be given: the built-in library (Markdown files in <c>Ai/Skills/Library</c>,
/// embedded in the server) and the tenant's own, a tenant skill replacing a built-in one of the same name.
/// </summary>
internal sealed partial class SkillLibrary(SkillStore store)
{
    private const string Prefix = "skills/";

    private static readonly Lazy<IReadOnlyDictionary<string, SkillDocument>> Library = new(LoadBuiltIn);

    /// <summary>The built-in skills by name; a broken one is a bug in this release and fails loudly.</summary>
    public static IReadOnlyDictionary<string, SkillDocument> BuiltIn => Library.Value;

    /// <summary>Every library file as (file name, Markdown), in name order.</summary>
    public static IReadOnlyList<(string File, string Markdown)> Files()
    {
        var assembly = typeof(SkillLibrary).Assembly;
        return [.. assembly.GetManifestResourceNames()
            .Where(n => n.StartsWith(Prefix, StringComparison.Ordinal) && n.EndsWith(".md", StringComparison.Ordinal))
            .Order(StringComparer.Ordinal)
            .Select(n =>
            {
                using var reader = new StreamReader(assembly.GetManifestResourceStream(n)!);
                return (n[Prefix.Length..], reader.ReadToEnd());
            })];
    }

    public async Task<IReadOnlyList<SkillInfo>> ListAsync(string tenantId, CancellationToken ct) =>
        [.. (await EffectiveAsync(tenantId, ct)).Values.Select(s => s.Info).OrderBy(s => s.Name, StringComparer.Ordinal)];

    /// <summary>The skill the tenant sees under <paramref name="name"/> (its own, else the built-in one), with where it comes from.</summary>
    public async Task<(SkillDocument Doc, SkillInfo Info)?> FindAsync(string tenantId, string name, CancellationToken ct)
    {
        var all = await EffectiveAsync(tenantId, ct);
        return all.TryGetValue(name, out var found) ? found : null;
    }

    /// <summary>
    /// The named skills, in the order given, each whole under a <c>## Skill: NAME</c> header, within
    /// <paramref name="tokenBudget"/> (characters / 4). A skill that does not fit whole is left out and
    /// the later ones are still tried; the text ends with a note naming what was left out or not found.
    /// No names: no skills, an empty text.
    /// </summary>
    public async Task<string> LoadAsync(string tenantId, IReadOnlyList<string> names, int tokenBudget, CancellationToken ct)
    {
        if (names.Count == 0) return "";
        var all = await EffectiveAsync(tenantId, ct);
        var included = new List<SkillDocument>();
        var leftOut = new List<string>();
        var missing = new List<string>();
        var used = 0;
        foreach (var name in names.Distinct(StringComparer.Ordinal))
        {
            if (!all.TryGetValue(name, out var skill))
            {
                missing.Add(name);
                continue;
            }

            var tokens = SkillDocument.Tokens(skill.Doc.Section + "\n");
            if (used + tokens > tokenBudget)
            {
                leftOut.Add(name);
                continue;
            }

            included.Add(skill.Doc);
            used += tokens;
        }

        // The note must fit too: drop the last included skills until it does.
        while (true)
        {
            var text = Render(included, leftOut, missing);
            if (SkillDocument.Tokens(text) <= tokenBudget || included.Count == 0) return SkillDocument.Tokens(text) <= tokenBudget ? text : "";
            leftOut.Insert(0, included[^1].Name);
            included.RemoveAt(included.Count - 1);
        }
    }

    /// <summary>
    /// Up to <paramref name="max"/> skills whose words match <paramref name="text"/> (an incident's type
    /// and title): a word in the skill's name counts 3, in its description or when-to-use 1, and an
    /// incident type written whole in them (<c>service_failed</c>) 2 more; ties go by name.
    /// </summary>
    public async Task<IReadOnlyList<string>> SuggestAsync(string tenantId, string text, int max, CancellationToken ct)
    {
        var words = Words(text).ToHashSet(StringComparer.Ordinal);
        if (words.Count == 0 || max <= 0) return [];
        var types = Identifiers(text).ToHashSet(StringComparer.Ordinal);
        var all = await EffectiveAsync(tenantId, ct);
        return [.. all.Values
            .Select(s => (s.Doc.Name, Score: Score(words, s.Doc) + TypeScore(types, s.Doc)))
            .Where(s => s.Score > 0)
            .OrderByDescending(s => s.Score)
            .ThenBy(s => s.Name, StringComparer.Ordinal)
            .Take(max)
            .Select(s => s.Name)];
    }

    internal static int Score(IReadOnlySet<string> words, SkillDocument skill)
    {
        var name = Words(skill.Name).ToHashSet(StringComparer.Ordinal);
        var about = Words(skill.Description + " " + skill.When).ToHashSet(StringComparer.Ordinal);
        return words.Sum(w => (name.Contains(w) ? 3 : 0) + (about.Contains(w) ? 1 : 0));
    }

    /// <summary>How much the incident types in <paramref name="types"/> that the skill's description or when-to-use names whole add.</summary>
    internal static int TypeScore(IReadOnlySet<string> types, SkillDocument skill)
    {
        var named = Identifiers(skill.Description + " " + skill.When).ToHashSet(StringComparer.Ordinal);
        return types.Count(named.Contains) * 2;
    }

    /// <summary>Lower-case snake_case identifiers (incident types such as disk_full): letters and digits joined by '_'.</summary>
    internal static IEnumerable<string> Identifiers(string text) =>
        IdentifierPattern().Matches((text ?? "").ToLowerInvariant()).Select(m => m.Value);

    [GeneratedRegex("[a-z0-9]+(?:_[a-z0-9]+)+")]
    private static partial Regex IdentifierPattern();

    private static readonly HashSet<string> StopWords = new(StringComparer.Ordinal)
    {
        "the", "and", "for", "with", "from", "that", "this", "are", "was", "not", "its", "into", "when", "what", "which", "has", "have", "any", "all", "one", "use", "out", "over", "than",
    };

    /// <summary>Lower-case words of three letters or more, split at anything not a letter or digit (so disk_full is disk and full).</summary>
    internal static IEnumerable<string> Words(string text)
    {
        var word = new StringBuilder();
        foreach (var ch in (text ?? "") + " ")
        {
            if (char.IsLetterOrDigit(ch))
            {
                word.Append(char.ToLowerInvariant(ch));
                continue;
            }

            if (word.Length >= 3 && !StopWords.Contains(word.ToString())) yield return word.ToString();
            word.Clear();
        }
    }

    private static string Render(IReadOnlyList<SkillDocument> included, IReadOnlyList<string> leftOut, IReadOnlyList<string> missing)
    {
        var text = new StringBuilder();
        foreach (var skill in included) text.Append(skill.Section).Append('\n');
        if (leftOut.Count > 0) text.Append("(Skills left out to stay within the token budget: ").AppendJoin(", ", leftOut).Append(".)\n");
        if (missing.Count > 0) text.Append("(Skills not found: ").AppendJoin(", ", missing).Append(".)\n");
        return text.ToString();
    }

    private async Task<Dictionary<string, (SkillDocument Doc, SkillInfo Info)>> EffectiveAsync(string tenantId, CancellationToken ct)
    {
        var all = BuiltIn.Values.ToDictionary(b => b.Name, b => (b, new SkillInfo(b.Name, b.Description, b.When, true, false, SkillDocument.Tokens(b.Section), null, null)), StringComparer.Ordinal);
        foreach (var row in await store.ListAsync(tenantId, ct))
        {
            // A stored skill is validated when saved; one a later release cannot read is skipped, not fatal.
            if (SkillDocument.Parse(row.Markdown, out _) is not { } doc) continue;
            all[row.Name] = (doc, new SkillInfo(row.Name, doc.Description, doc.When, false, BuiltIn.ContainsKey(row.Name), SkillDocument.Tokens(doc.Section), row.UpdatedBy, row.UpdatedAt));
        }

        return all;
    }

    private static IReadOnlyDictionary<string, SkillDocument> LoadBuiltIn() => Files().Select(f =>
    {
        var doc = SkillDocument.Parse(f.Markdown, out var errors)
            ?? throw new InvalidOperationException($"built-in skill {f.File} is invalid: {string.Join("; ", errors)}");
        return doc.Name + ".md" == f.File ? doc : throw new InvalidOperationException($"built-in skill {f.File} is named '{doc.Name}' in its header");
    }).ToDictionary(d => d.Name, StringComparer.Ordinal);
}
