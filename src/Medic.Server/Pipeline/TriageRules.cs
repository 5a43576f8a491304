using System.Text.RegularExpressions;
using Medic.Contracts;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace Medic.Server.Pipeline;

/// <summary>
/// One triage rule: incidents it matches (type, source, monitor kind, labels), the recipe it
/// proposes, that recipe's parameters (literal, or taken whole from the incident), and how far the
/// rule is trusted to act on its own.
/// </summary>
internal sealed record TriageRule(
    string Name,
    string? Type,
    string? Source,
    IReadOnlyDictionary<string, string> Labels,
    string Recipe,
    IReadOnlyDictionary<string, string> Parameters,
    Trust Trust,
    IReadOnlyList<DiagnosisStep>? Diagnose = null)
{
    /// <summary>Evidence values that must hold after the diagnosis (exact, or "*" for present): how rules for one type choose by what was found.</summary>
    public IReadOnlyDictionary<string, string> Evidence { get; init; } = new Dictionary<string, string>();

    /// <summary>The rationale, with references to the evidence spliced in (display text, never a command).</summary>
    public string? Because { get; init; }

    /// <summary>What still works but should be written differently (the old <c>${labels.x}</c> references), each naming the new form.</summary>
    public IReadOnlyList<string> Warnings { get; init; } = [];
}

/// <summary>A read-only diagnostic verb the rule runs on the incident's server before proposing (its output goes on the timeline as evidence).</summary>
internal sealed record DiagnosisStep(string Verb, IReadOnlyDictionary<string, string> Args);

/// <summary>What triage proposes for an incident: the rule that matched, the recipe and its parameters, and the diagnosis to collect first (references resolved).</summary>
internal sealed record TriageProposal(string Rule, string Recipe, IReadOnlyDictionary<string, string> Parameters, Trust Trust, IReadOnlyList<DiagnosisStep>? Diagnose = null, string? Because = null);

internal sealed class TriageRuleException(string message) : Exception(message);

/// <summary>
/// The built-in triage engine (no LLM): the first rule whose match holds proposes its recipe.
/// Parameter values are literals or a whole reference to the incident — <c>${{ labels.unit }}</c>,
/// <c>${{ evidence.pid }}</c>, <c>${{ server }}</c>, <c>${{ type }}</c>, the runbooks' syntax — never
/// text spliced into a command: the runbook's own parameter schema then checks each value before
/// anything runs. The older <c>${labels.unit}</c> form is still read, with a warning naming the new one.
/// </summary>
internal static partial class TriageRules
{
    [GeneratedRegex(@"^\$\{(?<new>\{\s*)?(?:(?<map>labels|evidence)\.(?<key>[A-Za-z0-9_.-]{1,100})|(?<field>server|type|source|title))(?(new)\s*\}\}|\})$")]
    private static partial Regex Reference();

    /// <summary>The warning for a value written in the old <c>${labels.x}</c> form, or null.</summary>
    private static string? OldForm(string where, string value)
    {
        var m = Reference().Match(value);
        if (!m.Success || m.Groups["new"].Success) return null;
        var name = m.Groups["map"].Success ? $"{m.Groups["map"].Value}.{m.Groups["key"].Value}" : m.Groups["field"].Value;
        return $"{where}: '{value}' is the old reference syntax; write '${{{{ {name} }}}}' (it is still read for now)";
    }

    [GeneratedRegex(@"\$\{\{\s*(?:(?<map>labels|evidence)\.(?<key>[A-Za-z0-9_.-]{1,100})|(?<field>server|type|source|title))\s*\}\}")]
    private static partial Regex Embedded();

    [GeneratedRegex(@"^finding (?<key>[a-z][a-z0-9_]{0,63})=(?<value>[^\r\n]{0,1000})$", RegexOptions.Multiline)]
    private static partial Regex FindingLine();

    /// <summary>The proposal of the first matching rule whose referenced values all exist, or null when none applies (no diagnosis: the incident's own evidence only).</summary>
    public static TriageProposal? Propose(IReadOnlyList<TriageRule> rules, IncidentResponse incident)
    {
        var evidence = incident.Evidence ?? new Dictionary<string, string>();
        foreach (var rule in rules)
        {
            if (!Matches(rule, incident)) continue;
            if (Complete(rule, incident, evidence, Diagnosis(rule, incident, evidence)) is { } proposal) return proposal;
        }

        return null;
    }

    /// <summary>The rule's type, source and labels hold for the incident (its evidence condition is checked after the diagnosis, by <see cref="Complete"/>).</summary>
    public static bool Matches(TriageRule rule, IncidentResponse incident) =>
        (rule.Type is null || rule.Type == incident.Type)
        && (rule.Source is null || rule.Source == incident.Source)
        && rule.Labels.All(l => incident.Labels.TryGetValue(l.Key, out var v) && v == l.Value);

    /// <summary>The rule's diagnosis with its references resolved; a step whose reference is missing is left out, it never blocks the rule.</summary>
    public static IReadOnlyList<DiagnosisStep> Diagnosis(TriageRule rule, IncidentResponse incident, IReadOnlyDictionary<string, string> evidence)
    {
        var diagnose = new List<DiagnosisStep>();
        foreach (var step in rule.Diagnose ?? [])
        {
            var args = step.Args.ToDictionary(a => a.Key, a => Resolve(a.Value, incident, evidence), StringComparer.Ordinal);
            if (args.Values.All(v => v is not null)) diagnose.Add(new DiagnosisStep(step.Verb, args.ToDictionary(a => a.Key, a => a.Value!, StringComparer.Ordinal)));
        }

        return diagnose;
    }

    /// <summary>
    /// The rule's proposal once the evidence is in (the incident's own, plus the diagnosis's findings):
    /// null when an evidence condition does not hold or a parameter's reference is missing.
    /// </summary>
    public static TriageProposal? Complete(TriageRule rule, IncidentResponse incident, IReadOnlyDictionary<string, string> evidence, IReadOnlyList<DiagnosisStep> diagnosis)
    {
        foreach (var (key, wanted) in rule.Evidence)
        {
            if (!evidence.TryGetValue(key, out var value) || (wanted != "*" && value != wanted)) return null;
        }

        var parameters = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var (name, value) in rule.Parameters)
        {
            if (Resolve(value, incident, evidence) is not { } resolved) return null;
            parameters[name] = resolved;
        }

        var because = rule.Because is null ? null : Embedded().Replace(rule.Because, m => Resolve(m.Value, incident, evidence) ?? "?");
        return new TriageProposal(rule.Name, rule.Recipe, parameters, rule.Trust, diagnosis, because);
    }

    /// <summary>The <c>finding KEY=VALUE</c> lines a diagnostic verb prints after its report (docs/pipeline.md), the last of each key winning.</summary>
    public static IReadOnlyDictionary<string, string> Findings(string output)
    {
        var findings = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (Match m in FindingLine().Matches(output)) findings[m.Groups["key"].Value] = m.Groups["value"].Value.Trim();
        return findings;
    }

    private static string? Resolve(string value, IncidentResponse incident, IReadOnlyDictionary<string, string> evidence)
    {
        var m = Reference().Match(value);
        if (!m.Success) return value;
        if (m.Groups["map"].Success)
        {
            var map = m.Groups["map"].Value == "labels" ? incident.Labels : evidence;
            return map.GetValueOrDefault(m.Groups["key"].Value);
        }

        return m.Groups["field"].Value switch
        {
            "server" => incident.Server,
            "type" => incident.Type,
            "source" => incident.Source,
            _ => incident.Title,
        };
    }

    /// <summary>Reads rules from YAML; every error names the line and column.</summary>
    public static IReadOnlyList<TriageRule> Parse(string yaml, string source)
    {
        var stream = new YamlStream();
        try
        {
            stream.Load(new StringReader(yaml));
        }
        catch (YamlException ex)
        {
            throw new TriageRuleException($"{source}, line {ex.Start.Line}, column {ex.Start.Column}: {ex.InnerException?.Message ?? ex.Message}");
        }

        if (stream.Documents.Count == 0) return [];
        if (stream.Documents[0].RootNode is not YamlMappingNode root) throw Error(source, stream.Documents[0].RootNode, "expected a mapping with 'rules:'");
        var rules = new List<TriageRule>();
        foreach (var (key, value) in root.Children)
        {
            if (Scalar(key) != "rules") throw Error(source, key, $"unknown setting '{Scalar(key)}' (known: rules)");
            if (value is not YamlSequenceNode list) throw Error(source, value, "'rules' is a list");
            foreach (var item in list) rules.Add(ParseRule(item, source));
        }

        var duplicate = rules.GroupBy(r => r.Name, StringComparer.Ordinal).FirstOrDefault(g => g.Count() > 1);
        if (duplicate is not null) throw new TriageRuleException($"{source}: two rules are named '{duplicate.Key}'");
        return rules;
    }

    private static TriageRule ParseRule(YamlNode node, string source)
    {
        if (node is not YamlMappingNode map) throw Error(source, node, "a rule is a mapping with name, match, recipe");
        string? name = null, type = null, src = null, recipe = null;
        var labels = new Dictionary<string, string>(StringComparer.Ordinal);
        var evidence = new Dictionary<string, string>(StringComparer.Ordinal);
        var parameters = new Dictionary<string, string>(StringComparer.Ordinal);
        string? because = null;
        var trust = Trust.Supervised;
        var diagnose = new List<DiagnosisStep>();
        var warnings = new List<string>();
        foreach (var (k, v) in map.Children)
        {
            switch (Scalar(k))
            {
                case "diagnose":
                    if (v is not YamlSequenceNode steps) throw Error(source, v, "'diagnose' is a list of {verb, args}");
                    foreach (var step in steps) diagnose.Add(ParseDiagnosis(step, source));
                    break;
                case "name": name = Text(source, v); break;
                case "because": because = Text(source, v); break;
                case "recipe": recipe = Text(source, v); break;
                case "trust":
                    trust = Text(source, v) switch
                    {
                        "autonomous" => Trust.Autonomous,
                        "supervised" => Trust.Supervised,
                        "manual" => Trust.Manual,
                        var other => throw Error(source, v, $"trust '{other}' is not autonomous, supervised or manual"),
                    };
                    break;
                case "match":
                    if (v is not YamlMappingNode match) throw Error(source, v, "'match' is a mapping of type, source, labels, evidence");
                    foreach (var (mk, mv) in match.Children)
                    {
                        switch (Scalar(mk))
                        {
                            case "type": type = Text(source, mv); break;
                            case "source": src = Text(source, mv); break;
                            case "labels": Pairs(source, mv, labels, "labels"); break;
                            case "evidence": Pairs(source, mv, evidence, "evidence"); break;
                            default: throw Error(source, mk, $"unknown match key '{Scalar(mk)}' (known: type, source, labels, evidence)");
                        }
                    }

                    break;
                case "params": Pairs(source, v, parameters, "params"); break;
                default: throw Error(source, k, $"unknown rule key '{Scalar(k)}' (known: name, match, recipe, params, trust, diagnose, because)");
            }
        }

        if (name is null) throw Error(source, map, "the rule has no name");
        if (recipe is null) throw Error(source, map, $"rule '{name}' names no recipe");
        if (type is null && src is null && labels.Count == 0) throw Error(source, map, $"rule '{name}' matches everything; give match.type, match.source or match.labels");
        foreach (var (param, value) in parameters)
        {
            if (value.Contains("${", StringComparison.Ordinal) && !Reference().IsMatch(value))
            {
                throw Error(source, map, $"rule '{name}', param '{param}': '{value}' must be a literal or exactly one reference such as ${{{{ labels.unit }}}}, ${{{{ evidence.pid }}}} or ${{{{ server }}}}");
            }

            if (OldForm($"rule '{name}', param '{param}'", value) is { } warning) warnings.Add(warning);
        }

        foreach (var step in diagnose)
        {
            foreach (var (arg, value) in step.Args)
            {
                if (OldForm($"rule '{name}', diagnosis {step.Verb}, arg '{arg}'", value) is { } warning) warnings.Add(warning);
            }
        }

        return new TriageRule(name, type, src, labels, recipe, parameters, trust, diagnose) { Warnings = warnings, Evidence = evidence, Because = because };
    }

    private static DiagnosisStep ParseDiagnosis(YamlNode node, string source)
    {
        if (node is not YamlMappingNode map) throw Error(source, node, "a diagnosis step is a mapping with verb and args");
        string? verb = null;
        var args = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var (k, v) in map.Children)
        {
            switch (Scalar(k))
            {
                case "verb": verb = Text(source, v); break;
                case "args": Pairs(source, v, args, "args"); break;
                default: throw Error(source, k, $"unknown diagnosis key '{Scalar(k)}' (known: verb, args)");
            }
        }

        if (verb is null || !VerbName().IsMatch(verb)) throw Error(source, map, "a diagnosis step names a diagnostic verb, such as service-status or disk (medic diag --help lists them)");
        foreach (var (arg, value) in args)
        {
            if (value.Contains("${", StringComparison.Ordinal) && !Reference().IsMatch(value))
            {
                throw Error(source, map, $"diagnosis {verb}, arg '{arg}': '{value}' must be a literal or exactly one reference such as ${{{{ evidence.unit }}}}");
            }
        }

        return new DiagnosisStep(verb, args);
    }

    [GeneratedRegex("^[a-z][a-z0-9-]{0,39}$")]
    private static partial Regex VerbName();

    private static void Pairs(string source, YamlNode node, Dictionary<string, string> into, string what)
    {
        if (node is not YamlMappingNode map) throw Error(source, node, $"'{what}' is a mapping of names to values");
        foreach (var (k, v) in map.Children) into[Scalar(k)] = Text(source, v);
    }

    private static string Scalar(YamlNode node) => (node as YamlScalarNode)?.Value ?? "";

    private static string Text(string source, YamlNode node) =>
        node is YamlScalarNode { Value: { Length: > 0 } value } ? value : throw Error(source, node, "expected a value");

    private static TriageRuleException Error(string source, YamlNode node, string message) =>
        new($"{source}, line {node.Start.Line}, column {node.Start.Column}: {message}");
}
