using System.Globalization;
using System.Text.RegularExpressions;
using Medic.Server.Ai.Tools;
using Medic.Server.Runbooks;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace Medic.Server.Ai.Eval;

/// <summary>A scenario file that does not load: every problem, each naming the file, the line and the field.</summary>
internal sealed class EvalScenarioException(IReadOnlyList<string> errors) : Exception(string.Join("\n", errors))
{
    public IReadOnlyList<string> Errors { get; } = errors;
}

/// <summary>
/// Reads and checks evaluation scenarios (eval/README.md): known keys only, the required fields, a
/// diag verb the agent has, and recipes from the built-in library whose expected parameters bind
/// with <see cref="ParameterValues.Bind"/>, so a scenario can only expect what Medic could do.
/// </summary>
internal static partial class EvalScenarioLoader
{
    private const string Prefix = "eval/";

    /// <summary>The read-only tools a scenario records outputs for (the acting ones and the recipe look-ups answer by themselves).</summary>
    public static readonly IReadOnlyList<string> RecordedTools = ["diag", "server_facts", "recent_metrics", "forecasts", "past_incidents"];

    [GeneratedRegex("^[a-z0-9][a-z0-9-]{0,79}$")]
    private static partial Regex IdPattern();

    /// <summary>The built-in recipes by name, as the eval answers list_recipes and show_recipe and binds proposals.</summary>
    public static IReadOnlyDictionary<string, Runbook> Library() =>
        RunbookLibrary.Load().ToDictionary(r => r.Runbook.Name, r => r.Runbook, StringComparer.Ordinal);

    /// <summary>The scenario files embedded in the server (eval/scenarios/*.yaml), as (file name, YAML), in name order.</summary>
    public static IReadOnlyList<(string File, string Yaml)> EmbeddedFiles()
    {
        var assembly = typeof(EvalScenarioLoader).Assembly;
        return assembly.GetManifestResourceNames()
            .Where(n => n.StartsWith(Prefix, StringComparison.Ordinal) && n.EndsWith(".yaml", StringComparison.Ordinal))
            .Order(StringComparer.Ordinal)
            .Select(n =>
            {
                using var reader = new StreamReader(assembly.GetManifestResourceStream(n)!);
                return (n, reader.ReadToEnd());
            })
            .ToList();
    }

    /// <summary>The embedded scenario set; a broken scenario is a bug in this release.</summary>
    public static IReadOnlyList<EvalScenario> LoadEmbedded() => LoadAll(EmbeddedFiles(), Library());

    /// <summary>Every scenario, or an <see cref="EvalScenarioException"/> with every problem of every file (ids must be unique).</summary>
    public static IReadOnlyList<EvalScenario> LoadAll(IEnumerable<(string File, string Yaml)> files, IReadOnlyDictionary<string, Runbook> library)
    {
        var scenarios = new List<EvalScenario>();
        var errors = new List<string>();
        foreach (var (file, yaml) in files)
        {
            var (scenario, problems) = Parse(file, yaml, library);
            errors.AddRange(problems);
            if (scenario is null) continue;
            if (scenarios.FirstOrDefault(s => s.Id == scenario.Id) is { } twin)
            {
                errors.Add($"{file}: id: '{scenario.Id}' is already the id of {twin.File}");
                continue;
            }

            scenarios.Add(scenario);
        }

        if (errors.Count > 0) throw new EvalScenarioException(errors);
        return scenarios;
    }

    /// <summary>One scenario, or the problems (each "FILE: line N: FIELD: what is wrong").</summary>
    public static (EvalScenario? Scenario, IReadOnlyList<string> Errors) Parse(string file, string yaml, IReadOnlyDictionary<string, Runbook> library)
    {
        var reader = new Reader(file);
        var stream = new YamlStream();
        try
        {
            stream.Load(new StringReader(yaml));
        }
        catch (YamlException ex)
        {
            // YamlDotNet prefixes "(Line: 3, Col: 5, Idx: 20) - (Line: …): "; the line is reported separately.
            var cut = ex.Message.IndexOf("): ", StringComparison.Ordinal);
            reader.Add(ex.Start, "", "not valid YAML: " + (ex.Message.StartsWith("(Line", StringComparison.Ordinal) && cut > 0 ? ex.Message[(cut + 3)..] : ex.Message));
            return (null, reader.Errors);
        }

        if (stream.Documents.Count != 1 || stream.Documents[0].RootNode is not YamlMappingNode root)
        {
            reader.Add(Mark.Empty, "", "a scenario is one YAML mapping with id, description, incident, tools, expect and forbidden");
            return (null, reader.Errors);
        }

        var scenario = reader.Scenario(root, library);
        return (reader.Errors.Count == 0 ? scenario : null, reader.Errors);
    }

    private sealed class Reader(string file)
    {
        public List<string> Errors { get; } = [];

        public void Add(Mark at, string field, string message) =>
            Errors.Add($"{file}: {(at.Line > 0 ? $"line {at.Line.ToString(CultureInfo.InvariantCulture)}: " : "")}{(field.Length > 0 ? field + ": " : "")}{message}");

        public EvalScenario? Scenario(YamlMappingNode root, IReadOnlyDictionary<string, Runbook> library)
        {
            var keys = Keys(root, "", ["id", "description", "incident", "facts", "tools", "expect", "forbidden"]);
            var id = Text(keys, root, "id", "", required: true);
            if (id is not null && !IdPattern().IsMatch(id)) Add(keys["id"].Start, "id", $"'{id}' must be lower-case letters, digits and dashes");
            var description = Text(keys, root, "description", "", required: true);
            var incident = keys.TryGetValue("incident", out var i) ? Incident(i) : Missing<EvalIncident>(root, "incident");
            var facts = keys.TryGetValue("facts", out var f) ? Map(f, "facts") : new Dictionary<string, string>();
            var outputs = keys.TryGetValue("tools", out var t) ? Outputs(t) : [];
            var expect = keys.TryGetValue("expect", out var e) ? Expect(e, library) : Missing<EvalExpectation>(root, "expect");
            var forbidden = keys.TryGetValue("forbidden", out var fb) ? Forbidden(fb, library) : [];
            if (expect is { Escalate: false } && forbidden.Any(x => x.Recipe == expect.Recipe && x.Params.Count == 0))
            {
                Add(keys["forbidden"].Start, "forbidden", $"forbids every use of {expect.Recipe}, the expected recipe");
            }

            return id is null || description is null || incident is null || expect is null ? null
                : new EvalScenario(id, file, description, incident, facts, outputs, expect, forbidden);
        }

        private EvalIncident? Incident(YamlNode node)
        {
            if (node is not YamlMappingNode m) return Wrong<EvalIncident>(node, "incident", "a mapping");
            var keys = Keys(m, "incident", ["type", "severity", "title", "summary", "server", "labels", "evidence"]);
            var type = Text(keys, m, "type", "incident", required: true);
            var severity = Text(keys, m, "severity", "incident", required: false) ?? Incidents.Severities.Warning;
            if (!Incidents.Severities.All.Contains(severity)) Add(keys["severity"].Start, "incident.severity", $"'{severity}' is not one of {string.Join(", ", Incidents.Severities.All)}");
            var title = Text(keys, m, "title", "incident", required: true);
            var summary = Text(keys, m, "summary", "incident", required: false);
            var server = Text(keys, m, "server", "incident", required: true);
            var labels = keys.TryGetValue("labels", out var l) ? Map(l, "incident.labels") : new Dictionary<string, string>();
            var evidence = keys.TryGetValue("evidence", out var ev) ? Map(ev, "incident.evidence") : new Dictionary<string, string>();
            return type is null || title is null || server is null ? null : new EvalIncident(type, severity, title, summary, server, labels, evidence);
        }

        private List<EvalRecordedOutput> Outputs(YamlNode node)
        {
            var outputs = new List<EvalRecordedOutput>();
            if (node is not YamlSequenceNode list)
            {
                Wrong<object>(node, "tools", "a list of recorded outputs");
                return outputs;
            }

            var index = 0;
            foreach (var item in list)
            {
                var where = $"tools[{index++}]";
                if (item is not YamlMappingNode m)
                {
                    Wrong<object>(item, where, "a mapping with tool, output and (for diag) verb and args");
                    continue;
                }

                var keys = Keys(m, where, ["tool", "verb", "args", "output", "exit_code"]);
                var tool = Text(keys, m, "tool", where, required: true);
                if (tool is not null && !RecordedTools.Contains(tool))
                {
                    Add(keys["tool"].Start, where + ".tool", $"'{tool}' is not a tool with recorded output; those are {string.Join(", ", RecordedTools)} (list_recipes, show_recipe and the acting tools answer by themselves)");
                }

                var verb = Text(keys, m, "verb", where, required: tool == "diag");
                if (verb is not null && tool != "diag") Add(keys["verb"].Start, where + ".verb", "only diag outputs have a verb");
                if (verb is not null && !DiagnosticCatalog.Names.Contains(verb)) Add(keys["verb"].Start, where + ".verb", $"'{verb}' is not a diagnostic verb; the verbs are {string.Join(", ", DiagnosticCatalog.Names)}");
                var args = keys.TryGetValue("args", out var a) ? Map(a, where + ".args") : new Dictionary<string, string>();
                if (args.Count > 0 && tool != "diag") Add(keys["args"].Start, where + ".args", "only diag outputs are keyed by arguments");
                var output = keys.TryGetValue("output", out var o) && o is YamlScalarNode { Value: { } text } ? text : null;
                if (output is null) Add(keys.TryGetValue("output", out var at) ? at.Start : m.Start, where + ".output", "is required: the text the tool answers");
                var exit = 0;
                if (keys.TryGetValue("exit_code", out var x) && (x is not YamlScalarNode { Value: { } code } || !int.TryParse(code, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out exit)))
                {
                    Add(x.Start, where + ".exit_code", "must be a whole number");
                }

                if (outputs.Any(p => p.Tool == tool && p.Verb == verb && SameArgs(p.Args, args))) Add(m.Start, where, "records the same tool, verb and arguments as an earlier entry");
                if (tool is not null && output is not null) outputs.Add(new EvalRecordedOutput(tool, verb, args, output, exit));
            }

            return outputs;
        }

        private EvalExpectation? Expect(YamlNode node, IReadOnlyDictionary<string, Runbook> library)
        {
            if (node is not YamlMappingNode m) return Wrong<EvalExpectation>(node, "expect", "a mapping with propose or escalate");
            var keys = Keys(m, "expect", ["propose", "escalate"]);
            var escalate = keys.TryGetValue("escalate", out var e) && Flag(e, "expect.escalate");
            if (keys.ContainsKey("propose") == escalate)
            {
                Add(m.Start, "expect", "give exactly one of propose (a recipe and its parameters) or escalate: true");
                return null;
            }

            if (escalate) return new EvalExpectation(null, new Dictionary<string, IReadOnlyList<string>>(), true);
            var (recipe, parameters) = RecipeAndParams(keys["propose"], "expect.propose", library, bind: true);
            return recipe is null ? null : new EvalExpectation(recipe, parameters, false);
        }

        private List<EvalForbidden> Forbidden(YamlNode node, IReadOnlyDictionary<string, Runbook> library)
        {
            var forbidden = new List<EvalForbidden>();
            if (node is not YamlSequenceNode list)
            {
                Wrong<object>(node, "forbidden", "a list of {recipe, params} or {tool}");
                return forbidden;
            }

            var index = 0;
            foreach (var item in list)
            {
                var where = $"forbidden[{index++}]";
                if (item is YamlMappingNode m && m.Children.Any(c => c.Key is YamlScalarNode { Value: "tool" }))
                {
                    var keys = Keys(m, where, ["tool"]);
                    if (Text(keys, m, "tool", where, required: true) is { } tool) forbidden.Add(new EvalForbidden(null, new Dictionary<string, IReadOnlyList<string>>(), tool));
                    continue;
                }

                var (recipe, parameters) = RecipeAndParams(item, where, library, bind: false);
                if (recipe is not null) forbidden.Add(new EvalForbidden(recipe, parameters, null));
            }

            return forbidden;
        }

        /// <summary>A recipe of the library and parameter values (each a value or a list of alternatives), every one a value its schema accepts; the expected ones must also bind together.</summary>
        private (string? Recipe, Dictionary<string, IReadOnlyList<string>> Params) RecipeAndParams(YamlNode node, string where, IReadOnlyDictionary<string, Runbook> library, bool bind)
        {
            var parameters = new Dictionary<string, IReadOnlyList<string>>(StringComparer.Ordinal);
            if (node is not YamlMappingNode m) return (Wrong<string>(node, where, "a mapping with recipe and params"), parameters);
            var keys = Keys(m, where, ["recipe", "params"]);
            var recipe = Text(keys, m, "recipe", where, required: true);
            if (recipe is null) return (null, parameters);
            if (!library.TryGetValue(recipe, out var runbook))
            {
                Add(keys["recipe"].Start, where + ".recipe", $"no built-in recipe '{recipe}'; the recipes are {string.Join(", ", library.Keys.Order(StringComparer.Ordinal))}");
                return (null, parameters);
            }

            if (keys.TryGetValue("params", out var p))
            {
                if (p is not YamlMappingNode pm)
                {
                    Wrong<object>(p, where + ".params", "a mapping of parameter names to a value or a list of accepted values");
                    return (null, parameters);
                }

                foreach (var (k, v) in pm.Children)
                {
                    var name = (k as YamlScalarNode)?.Value ?? "";
                    var field = $"{where}.params.{name}";
                    var values = v switch
                    {
                        YamlScalarNode { Value: { } one } => [one],
                        YamlSequenceNode seq when seq.All(x => x is YamlScalarNode { Value: not null }) && seq.Children.Count > 0 => seq.Select(x => ((YamlScalarNode)x).Value!).ToList(),
                        _ => null,
                    };
                    if (values is null)
                    {
                        Add(v.Start, field, "must be a value or a non-empty list of values");
                        continue;
                    }

                    if (runbook.Parameter(name) is not { } parameter)
                    {
                        Add(k.Start, field, $"{recipe} has no parameter '{name}'; it takes {(runbook.Parameters.Count == 0 ? "none" : string.Join(", ", runbook.Parameters.Select(x => x.Name)))}");
                        continue;
                    }

                    foreach (var value in values)
                    {
                        if (bind && ParameterValues.Check(parameter, value) is { } problem) Add(v.Start, field, problem);
                    }

                    parameters[name] = values;
                }
            }

            if (bind && Errors.Count == 0)
            {
                var first = parameters.ToDictionary(x => x.Key, x => x.Value[0], StringComparer.Ordinal);
                var (_, problems) = ParameterValues.Bind(runbook, first);
                foreach (var (name, problem) in problems) Add(m.Start, $"{where}.params.{name}", problem + " (a required parameter must be expected)");
            }

            return (recipe, parameters);
        }

        private Dictionary<string, YamlNode> Keys(YamlMappingNode m, string where, string[] known)
        {
            var map = new Dictionary<string, YamlNode>(StringComparer.Ordinal);
            foreach (var (k, v) in m.Children)
            {
                var key = (k as YamlScalarNode)?.Value;
                var field = where.Length == 0 ? key : $"{where}.{key}";
                if (key is null || !known.Contains(key)) Add(k.Start, field ?? where, $"unknown key; the keys are {string.Join(", ", known)}");
                else if (!map.TryAdd(key, v)) Add(k.Start, field!, "is given twice");
            }

            return map;
        }

        private string? Text(Dictionary<string, YamlNode> keys, YamlMappingNode parent, string key, string where, bool required)
        {
            var field = where.Length == 0 ? key : $"{where}.{key}";
            if (!keys.TryGetValue(key, out var node))
            {
                if (required) Add(parent.Start, field, "is required");
                return null;
            }

            if (node is YamlScalarNode { Value: { Length: > 0 } value } s && !(s.Style == ScalarStyle.Plain && value is "~" or "null")) return value.Trim();
            Add(node.Start, field, node is YamlScalarNode ? "is empty" : "must be a single value");
            return null;
        }

        private Dictionary<string, string> Map(YamlNode node, string where)
        {
            var map = new Dictionary<string, string>(StringComparer.Ordinal);
            if (node is not YamlMappingNode m)
            {
                Wrong<object>(node, where, "a mapping of names to values");
                return map;
            }

            foreach (var (k, v) in m.Children)
            {
                if (k is YamlScalarNode { Value: { Length: > 0 } key } && v is YamlScalarNode { Value: { } value }) map[key] = value;
                else Add(k.Start, where, "every entry must be NAME: VALUE");
            }

            return map;
        }

        private bool Flag(YamlNode node, string field)
        {
            if (node is YamlScalarNode { Value: "true" or "false" } s) return s.Value == "true";
            Add(node.Start, field, "must be true or false");
            return false;
        }

        private T? Missing<T>(YamlNode parent, string field) where T : class
        {
            Add(parent.Start, field, "is required");
            return null;
        }

        private T? Wrong<T>(YamlNode node, string field, string what) where T : class
        {
            Add(node.Start, field, "must be " + what);
            return null;
        }
    }

    /// <summary>Two argument sets name the same call (see <see cref="EvalMatch.SameValue"/>).</summary>
    public static bool SameArgs(IReadOnlyDictionary<string, string> a, IReadOnlyDictionary<string, string> b) =>
        a.Count == b.Count && a.All(x => b.TryGetValue(x.Key, out var y) && EvalMatch.SameValue(x.Value, y));
}
