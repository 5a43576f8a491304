using System.Globalization;
using System.Text.RegularExpressions;
using Medic.Contracts;
using Medic.Server.Common;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace Medic.Server.Runbooks;

/// <summary>One problem in a runbook, at a 1-based line and column of its YAML.</summary>
internal sealed record RunbookError(int Line, int Column, string Message)
{
    public override string ToString() => $"line {Line}, column {Column}: {Message}";
}

internal sealed record RunbookParseResult(Runbook? Runbook, IReadOnlyList<RunbookError> Errors)
{
    public bool Ok => Runbook is not null && Errors.Count == 0;
}

/// <summary>
/// Reads runbook YAML (format v1) into a <see cref="Runbook"/>, or into every problem found, each
/// with its line and column. Strict on purpose: unknown keys and step types are errors, because a
/// runbook that silently means something other than what its author wrote is worse than none.
/// A pure function of the text.
/// </summary>
internal static partial class RunbookParser
{
    public const int MaxBytes = 256 * 1024;
    public const int MaxSteps = 100;
    public static readonly TimeSpan MaxTimeout = TimeSpan.FromHours(1);

    public static readonly IReadOnlyList<string> StepTypes = ["run", "shell", "diag", "service", "http", "check", "approval", "notify", "wait"];
    private static readonly string[] TopKeys = ["name", "version", "description", "risk", "remediates", "parameters", "targets", "steps", "rollback"];
    private static readonly string[] CommonStepKeys = ["name", "capture", "when", "continue_on_error", "timeout", "env", "target"];
    private static readonly string[] ParameterKeys = ["type", "description", "required", "default", "pattern", "min", "max", "values"];
    private static readonly string[] TargetKeys = ["incident", "names", "tags", "environment", "groups", "all"];
    private static readonly string[] HttpKeys = ["url", "method", "body", "from", "expect"];
    private static readonly string[] HttpMethods = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"];

    [GeneratedRegex("^[a-z][a-z0-9_]{0,62}$")]
    private static partial Regex VariablePattern();

    [GeneratedRegex("^[A-Za-z_][A-Za-z0-9_]{0,127}$")]
    private static partial Regex EnvNamePattern();

    [GeneratedRegex("^[a-z][a-z0-9-]{0,40}$")]
    private static partial Regex VerbPattern();

    [GeneratedRegex(@"^\$\{\{\s*([A-Za-z0-9_.-]+)\s*\}\}$")]
    private static partial Regex WholeReference();

    [GeneratedRegex(@"\$\{\{\s*([A-Za-z0-9_.-]*)\s*\}\}")]
    public static partial Regex EmbeddedReference();

    public static RunbookParseResult Parse(string yaml)
    {
        var p = new Context();
        if (System.Text.Encoding.UTF8.GetByteCount(yaml) > MaxBytes)
        {
            p.Add(1, 1, $"the runbook is larger than {MaxBytes / 1024} KiB");
            return new(null, p.Errors);
        }

        var stream = new YamlStream();
        try
        {
            stream.Load(new StringReader(yaml));
        }
        catch (YamlException ex)
        {
            p.Add((int)ex.Start.Line, (int)ex.Start.Column, "not valid YAML: " + YamlMessage(ex));
            return new(null, p.Errors);
        }

        if (stream.Documents.Count != 1)
        {
            p.Add(1, 1, stream.Documents.Count == 0 ? "the runbook is empty" : "one runbook per file: this file holds several YAML documents");
            return new(null, p.Errors);
        }

        if (stream.Documents[0].RootNode is not YamlMappingNode root)
        {
            p.Error(stream.Documents[0].RootNode, "a runbook is a mapping with name, version, risk and steps");
            return new(null, p.Errors);
        }

        var runbook = p.ReadRunbook(root);
        return new(p.Errors.Count == 0 ? runbook : null, p.Errors);
    }

    private static string YamlMessage(YamlException ex)
    {
        // YamlDotNet prefixes "(Line: 3, Col: 5, Idx: 20) - (Line: …): "; the position is reported separately.
        var message = ex.Message;
        var cut = message.IndexOf("): ", StringComparison.Ordinal);
        return message.StartsWith("(Line", StringComparison.Ordinal) && cut > 0 ? message[(cut + 3)..] : message;
    }

    /// <summary>Where a value is: the runbook's parameters, and the captures that steps before it set.</summary>
    private sealed record Scope(IReadOnlyList<RunbookParameter> Parameters, IReadOnlySet<string> Captures)
    {
        public ValueRef? Resolve(string name)
        {
            // A secret is looked up when the step runs: one set later still counts, one missing then fails that step.
            if (name.StartsWith("secrets.", StringComparison.Ordinal))
            {
                var s = name["secrets.".Length..];
                return Secrets.SecretNames.IsValid(s) ? new ValueRef(RefScope.Secrets, s) : null;
            }

            if (name.StartsWith("params.", StringComparison.Ordinal))
            {
                var p = name["params.".Length..];
                return Parameters.Any(x => x.Name == p) ? new ValueRef(RefScope.Params, p) : null;
            }

            if (name.StartsWith("captures.", StringComparison.Ordinal))
            {
                var c = name["captures.".Length..];
                return Captures.Contains(c) ? new ValueRef(RefScope.Captures, c) : null;
            }

            if (Parameters.Any(x => x.Name == name)) return new ValueRef(RefScope.Params, name);
            return Captures.Contains(name) ? new ValueRef(RefScope.Captures, name) : null;
        }
    }

    /// <summary>
    /// One pass over the YAML that collects every problem; its readers are split by what they read:
    /// the runbook and its parameters here, steps in RunbookParser.Steps.cs, YAML scalars and maps in
    /// RunbookParser.Yaml.cs. One class on purpose: all of them add to the same error list.
    /// </summary>
    private sealed partial class Context
    {
        public List<RunbookError> Errors { get; } = [];

        public SortedSet<string> SecretNames { get; } = new(StringComparer.Ordinal);

        public void Add(int line, int column, string message) => Errors.Add(new RunbookError(line, column, message));

        public void Error(YamlNode node, string message) => Add((int)node.Start.Line, (int)node.Start.Column, message);

        public Runbook? ReadRunbook(YamlMappingNode root)
        {
            var map = Keys(root, TopKeys, "the runbook");
            var name = Text(map, root, "name", required: true, 63);
            if (name is not null && !ResourceNames.IsValid(name))
            {
                Error(map["name"], $"'{name}' is not a runbook name: use lowercase letters, digits, '.', '_' and '-', such as restart-service");
            }

            var version = Int(map, root, "version", required: true, 1, 1_000_000);
            var description = Text(map, root, "description", required: false, 2000) ?? "";
            var risk = Risk.Low;
            if (Text(map, root, "risk", required: true, 10) is { } riskText)
            {
                switch (riskText)
                {
                    case "low": risk = Risk.Low; break;
                    case "medium": risk = Risk.Medium; break;
                    case "high": risk = Risk.High; break;
                    default: Error(map["risk"], $"risk '{riskText}' is not low, medium or high"); break;
                }
            }

            var remediates = map.TryGetValue("remediates", out var r) ? ReadRemediates(r) : RunbookRemediates.None;
            var parameters = map.TryGetValue("parameters", out var ps) ? ReadParameters(ps) : [];
            var targets = map.TryGetValue("targets", out var t) ? ReadTargets(t) : RunbookTargets.IncidentServer;

            var steps = new List<RunbookStep>();
            var captures = new HashSet<string>(StringComparer.Ordinal);
            if (!map.TryGetValue("steps", out var stepsNode))
            {
                Error(root, "the runbook has no 'steps': list what it does");
            }
            else
            {
                steps = ReadSteps(stepsNode, "steps", parameters, captures, allowEmpty: false);
            }

            var rollback = map.TryGetValue("rollback", out var rb) ? ReadSteps(rb, "rollback", parameters, captures, allowEmpty: true) : [];
            return name is null || version is null ? null : new Runbook(name, version.Value, description, risk, remediates, parameters, targets, steps, rollback) { SecretNames = [.. SecretNames] };
        }

        private RunbookRemediates ReadRemediates(YamlNode node)
        {
            if (node is not YamlMappingNode m)
            {
                Error(node, "remediates is a mapping: types (incident types) and labels (exact values an incident must carry)");
                return RunbookRemediates.None;
            }

            var map = Keys(m, ["types", "labels"], "remediates");
            var types = map.TryGetValue("types", out var t) ? TextList(t, "remediates.types", 100) : [];
            var labels = map.TryGetValue("labels", out var l) ? TextMap(l, "remediates.labels") : new Dictionary<string, string>();
            return new RunbookRemediates(types, labels);
        }

        private List<RunbookParameter> ReadParameters(YamlNode node)
        {
            var list = new List<RunbookParameter>();
            if (node is not YamlMappingNode m)
            {
                Error(node, "parameters is a mapping from each parameter's name to its schema (type, default, ...)");
                return list;
            }

            foreach (var (keyNode, valueNode) in m.Children)
            {
                if (keyNode is not YamlScalarNode { Value: { } name })
                {
                    Error(keyNode, "a parameter's name must be text");
                    continue;
                }

                if (!VariablePattern().IsMatch(name))
                {
                    Error(keyNode, $"'{name}' is not a parameter name: use lowercase letters, digits and '_', starting with a letter");
                    continue;
                }

                if (valueNode is not YamlMappingNode schema)
                {
                    Error(valueNode, $"parameter '{name}' needs a schema mapping, such as {{type: string, pattern: '[a-z0-9@._-]+'}}");
                    continue;
                }

                if (ReadParameter(name, schema) is { } parameter) list.Add(parameter);
            }

            return list;
        }

        private RunbookParameter? ReadParameter(string name, YamlMappingNode schema)
        {
            var errorsBefore = Errors.Count;
            var map = Keys(schema, ParameterKeys, $"parameter '{name}'");
            var typeText = Text(map, schema, "type", required: true, 10);
            var type = typeText switch
            {
                "string" => ParameterType.String,
                "int" => ParameterType.Int,
                "bool" => ParameterType.Bool,
                "enum" => ParameterType.Enum,
                null => ParameterType.String,
                _ => (ParameterType?)null,
            };
            if (type is null)
            {
                Error(map["type"], $"parameter '{name}': type '{typeText}' is not string, int, bool or enum");
                return null;
            }

            var description = Text(map, schema, "description", required: false, 500);
            var required = Bool(map, "required") ?? false;
            var pattern = Text(map, schema, "pattern", required: false, 500);
            var min = Long(map, "min");
            var max = Long(map, "max");
            var values = map.TryGetValue("values", out var v) ? TextList(v, $"parameter '{name}' values", 200) : [];
            if (pattern is not null)
            {
                if (type != ParameterType.String)
                {
                    Error(map["pattern"], $"parameter '{name}': only string parameters take a pattern");
                }
                else
                {
                    try
                    {
                        _ = new Regex(pattern, RegexOptions.None, TimeSpan.FromSeconds(1));
                    }
                    catch (ArgumentException ex)
                    {
                        Error(map["pattern"], $"parameter '{name}': the pattern is not a valid regular expression: {ex.Message}");
                    }
                }
            }

            if ((min is not null || max is not null) && type is ParameterType.Bool or ParameterType.Enum)
            {
                Error(map[map.ContainsKey("min") ? "min" : "max"], $"parameter '{name}': min and max apply to int values and string lengths, not to {typeText}");
            }

            if (type == ParameterType.String && min < 0) Error(map["min"], $"parameter '{name}': a length cannot be negative");
            if (min is not null && max is not null && min > max) Error(map["min"], $"parameter '{name}': min {min} is above max {max}");
            if (type == ParameterType.Enum && values.Count == 0)
            {
                Error(map.GetValueOrDefault("values") ?? schema, $"parameter '{name}': an enum needs values, a list of the allowed words");
            }

            if (type != ParameterType.Enum && map.ContainsKey("values")) Error(map["values"], $"parameter '{name}': only enum parameters take values");
            if (values.Distinct(StringComparer.Ordinal).Count() != values.Count) Error(map["values"], $"parameter '{name}': values repeat");
            if (Errors.Count > errorsBefore) return null;

            var parameter = new RunbookParameter(name, type.Value, description, required, null, pattern, min, max, values);
            if (map.TryGetValue("default", out var defaultNode))
            {
                if (defaultNode is not YamlScalarNode { Value: { } defaultValue })
                {
                    Error(defaultNode, $"parameter '{name}': the default must be a single value");
                    return null;
                }

                if (required) Error(map["required"], $"parameter '{name}' has a default, so it is never missing: drop 'required' or the default");
                if (ParameterValues.Check(parameter, defaultValue) is { } problem) Error(defaultNode, $"parameter '{name}': the default {problem}");
                parameter = parameter with { Default = defaultValue };
            }

            return Errors.Count > errorsBefore ? null : parameter;
        }

        private RunbookTargets ReadTargets(YamlNode node)
        {
            if (node is YamlScalarNode { Value: "incident" }) return RunbookTargets.IncidentServer;
            if (node is not YamlMappingNode m)
            {
                Error(node, "targets is 'incident' (the incident's server) or a selector mapping: names, tags, environment, groups, all");
                return RunbookTargets.IncidentServer;
            }

            var map = Keys(m, TargetKeys, "targets");
            var incident = Bool(map, "incident") ?? false;
            var all = Bool(map, "all") ?? false;
            var names = map.TryGetValue("names", out var n) ? TextList(n, "targets.names", 1000) : null;
            var tags = map.TryGetValue("tags", out var t) ? TextMap(t, "targets.tags") : null;
            var environment = Text(map, m, "environment", required: false, 100);
            var groups = map.TryGetValue("groups", out var g) ? TextList(g, "targets.groups", 100) : null;
            var selects = all || names is { Count: > 0 } || tags is { Count: > 0 } || environment is not null || groups is { Count: > 0 };
            if (incident && selects) Error(m, "targets: 'incident' cannot be combined with a selector; choose one");
            if (!incident && !selects) Error(m, "targets names no servers: give names, tags, environment, groups, all: true, or incident: true");
            return incident ? RunbookTargets.IncidentServer : new RunbookTargets(false, new ExecSelector(names, tags, environment, groups, all));
        }
    }
}
