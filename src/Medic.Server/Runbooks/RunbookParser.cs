using System.Globalization;
using System.Text.RegularExpressions;
using Medic.Contracts;
using Medic.Server.Common;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace Medic.Server.Runbooks;

/// <summary>One problem in a runbook, at a 1-based line and column of its YAML.</summary>
public sealed record RunbookError(int Line, int Column, string Message)
{
    public override string ToString() => $"line {Line}, column {Column}: {Message}";
}

public sealed record RunbookParseResult(Runbook? Runbook, IReadOnlyList<RunbookError> Errors)
{
    public bool Ok => Runbook is not null && Errors.Count == 0;
}

/// <summary>
/// Reads runbook YAML (format v1) into a <see cref="Runbook"/>, or into every problem found, each
/// with its line and column. Strict on purpose: unknown keys and step types are errors, because a
/// runbook that silently means something other than what its author wrote is worse than none.
/// A pure function of the text.
/// </summary>
public static partial class RunbookParser
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

    [GeneratedRegex(@"^\$\{\{\s*([A-Za-z0-9_.]+)\s*\}\}$")]
    private static partial Regex WholeReference();

    [GeneratedRegex(@"\$\{\{\s*([A-Za-z0-9_.]*)\s*\}\}")]
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

    private sealed class Context
    {
        public List<RunbookError> Errors { get; } = [];

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
            return name is null || version is null ? null : new Runbook(name, version.Value, description, risk, remediates, parameters, targets, steps, rollback);
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

        private List<RunbookStep> ReadSteps(YamlNode node, string section, IReadOnlyList<RunbookParameter> parameters, HashSet<string> captures, bool allowEmpty)
        {
            var steps = new List<RunbookStep>();
            if (node is not YamlSequenceNode seq)
            {
                Error(node, $"{section} is a list of steps, each starting with '- '");
                return steps;
            }

            if (seq.Children.Count == 0 && !allowEmpty) Error(seq, $"{section} is empty: a runbook does at least one thing");
            if (seq.Children.Count > MaxSteps) Error(seq, $"{section} has {seq.Children.Count} steps; the limit is {MaxSteps}");
            for (var i = 0; i < seq.Children.Count && i < MaxSteps; i++)
            {
                if (ReadStep(seq.Children[i], $"{section}[{i + 1}]", i + 1, new Scope(parameters, new HashSet<string>(captures, StringComparer.Ordinal))) is { } step)
                {
                    steps.Add(step);
                    if (step.Capture is not null) captures.Add(step.Capture);
                }
            }

            return steps;
        }

        private RunbookStep? ReadStep(YamlNode node, string where, int number, Scope scope)
        {
            if (node is not YamlMappingNode m)
            {
                Error(node, $"{where} is a mapping with one step type ({string.Join(", ", StepTypes)})");
                return null;
            }

            var keys = m.Children.Keys.OfType<YamlScalarNode>().Select(k => k.Value ?? "").ToList();
            var types = keys.Where(k => StepTypes.Contains(k)).ToList();
            if (types.Count == 0)
            {
                var unknown = m.Children.Keys.OfType<YamlScalarNode>().FirstOrDefault(k => !CommonStepKeys.Contains(k.Value) && k.Value != "args");
                Error(unknown ?? (YamlNode)m, unknown is not null
                    ? $"{where}: unknown step type '{unknown.Value}'; the types are {string.Join(", ", StepTypes)}"
                    : $"{where} has no step type; give one of {string.Join(", ", StepTypes)}");
                return null;
            }

            if (types.Count > 1)
            {
                Error(m, $"{where} has {types.Count} step types ({string.Join(", ", types)}); a step does one thing");
                return null;
            }

            var type = types[0];
            var allowed = CommonStepKeys.Append(type).Concat(type == "diag" ? ["args"] : []).ToArray();
            var map = Keys(m, allowed, $"{where} ({type})");
            var errorsBefore = Errors.Count;
            var body = map[type];
            var kind = type switch
            {
                "run" or "shell" => StepKind.Run,
                "diag" => StepKind.Diag,
                "service" => StepKind.Service,
                "http" => StepKind.Http,
                "check" => StepKind.Check,
                "approval" => StepKind.Approval,
                "notify" => StepKind.Notify,
                _ => StepKind.Wait,
            };

            var step = new RunbookStep { Kind = kind, Type = type, Name = Text(map, m, "name", required: false, 100) ?? $"{type} (step {number})", Line = (int)m.Start.Line };
            if (map.TryGetValue("when", out var whenNode))
            {
                step = step with { When = ReadCondition(whenNode, where, scope) };
            }

            if (map.TryGetValue("capture", out var captureNode))
            {
                var capture = Scalar(captureNode, $"{where}: capture");
                if (capture is not null && !VariablePattern().IsMatch(capture)) Error(captureNode, $"{where}: capture '{capture}' is not a name: use lowercase letters, digits and '_'");
                if (kind is not (StepKind.Run or StepKind.Diag or StepKind.Http or StepKind.Check)) Error(captureNode, $"{where}: a {type} step has no output to capture");
                if (capture is not null && scope.Parameters.Any(p => p.Name == capture)) Error(captureNode, $"{where}: capture '{capture}' has a parameter's name; choose another");
                step = step with { Capture = capture };
            }

            step = step with { ContinueOnError = Bool(map, "continue_on_error") ?? false };
            if (map.TryGetValue("timeout", out var timeoutNode) && Duration(timeoutNode, $"{where}: timeout") is { } timeout)
            {
                step = step with { Timeout = timeout };
            }

            var onServer = kind is StepKind.Run or StepKind.Diag or StepKind.Service or StepKind.Check or StepKind.Http;
            if (map.TryGetValue("env", out var envNode))
            {
                if (kind is not (StepKind.Run or StepKind.Check)) Error(envNode, $"{where}: only run, shell and check steps take env");
                step = step with { Env = ReadEnv(envNode, where, scope) };
            }

            if (map.TryGetValue("target", out var targetNode))
            {
                if (!onServer) Error(targetNode, $"{where}: a {type} step runs in the control plane, so it takes no target");
                step = step with { Target = Value(targetNode, $"{where}: target", scope) };
            }

            step = type switch
            {
                "run" => step with { Argv = ReadArgv(body, where, scope) },
                "shell" => step with { Shell = ReadShell(body, where) },
                "diag" => ReadDiag(step, body, map.GetValueOrDefault("args"), where, scope),
                "service" => ReadService(step, body, where, scope),
                "http" => step with { Http = ReadHttp(body, where, scope) },
                "check" => step with { Check = ReadCheck(body, where, scope) },
                "approval" or "notify" => step with { Message = ReadMessage(body, where, scope) },
                _ => step with { Wait = Duration(body, $"{where}: wait") },
            };

            if (step.Http is { FromTarget: false } && step.Target is not null)
            {
                Error(targetNode!, $"{where}: this request is made from the control plane; set from: target to make it from a server");
            }

            return Errors.Count > errorsBefore ? null : step;
        }

        private Condition? ReadCondition(YamlNode node, string where, Scope scope)
        {
            if (Scalar(node, $"{where}: when") is not { } text) return null;
            try
            {
                return Condition.Parse(text, scope.Resolve);
            }
            catch (ConditionException ex)
            {
                var quoted = node is YamlScalarNode { Style: ScalarStyle.SingleQuoted or ScalarStyle.DoubleQuoted } ? 1 : 0;
                Add((int)node.Start.Line, (int)node.Start.Column + quoted + ex.Offset, $"{where}: when: {ex.Message}");
                return null;
            }
        }

        private List<StepValue>? ReadArgv(YamlNode node, string where, Scope scope)
        {
            if (node is YamlScalarNode)
            {
                Error(node, $"{where}: run takes an argv list, such as [systemctl, restart, nginx]; for a shell script use 'shell:'");
                return null;
            }

            if (node is not YamlSequenceNode seq || seq.Children.Count == 0)
            {
                Error(node, $"{where}: run takes a non-empty argv list, such as [systemctl, restart, nginx]");
                return null;
            }

            if (seq.Children.Count > 256) Error(seq, $"{where}: the argv has {seq.Children.Count} elements; the limit is 256");
            var argv = seq.Children.Select((c, i) => Value(c, $"{where}: argv[{i}]", scope)).ToList();
            if (argv.Count > 0 && argv[0] is { Ref: not null }) Error(seq.Children[0], $"{where}: the program (argv[0]) must be written out, not taken from a parameter");
            if (argv.Count > 0 && argv[0]?.Literal?.Contains('=', StringComparison.Ordinal) == true) Error(seq.Children[0], $"{where}: the program (argv[0]) cannot contain '='");
            return argv.All(a => a is not null) ? argv.Select(a => a!).ToList() : null;
        }

        private string? ReadShell(YamlNode node, string where)
        {
            var script = Scalar(node, $"{where}: shell");
            if (script is null) return null;
            if (script.Length > 10_000) Error(node, $"{where}: the script is {script.Length} characters long; the limit is 10000");
            if (script.Contains("${{", StringComparison.Ordinal))
            {
                Error(node, $"{where}: parameters are never spliced into shell text; read them from the environment instead, such as \"$MEDIC_PARAM_UNIT\" (quoted)");
            }

            return script;
        }

        private RunbookStep ReadDiag(RunbookStep step, YamlNode verbNode, YamlNode? argsNode, string where, Scope scope)
        {
            var verb = Scalar(verbNode, $"{where}: diag");
            if (verb is not null && !VerbPattern().IsMatch(verb)) Error(verbNode, $"{where}: '{verb}' is not a diagnostic verb name, such as disk or service-status");
            var args = new Dictionary<string, StepValue>(StringComparer.Ordinal);
            if (argsNode is YamlMappingNode m)
            {
                foreach (var (k, v) in m.Children)
                {
                    if (k is YamlScalarNode { Value: { } name } && Value(v, $"{where}: args.{name}", scope) is { } value) args[name] = value;
                }
            }
            else if (argsNode is not null)
            {
                Error(argsNode, $"{where}: args is a mapping of the verb's arguments, such as {{unit: nginx}}");
            }

            return step with { Verb = verb, Args = args };
        }

        private RunbookStep ReadService(RunbookStep step, YamlNode node, string where, Scope scope)
        {
            if (node is not YamlMappingNode m)
            {
                Error(node, $"{where}: service is a mapping: {{action: restart, unit: nginx}}");
                return step;
            }

            var map = Keys(m, ["action", "unit"], $"{where} (service)");
            var action = Text(map, m, "action", required: true, 20);
            if (action is not null and not ("restart" or "start" or "stop")) Error(map["action"], $"{where}: service action '{action}' is not restart, start or stop");
            StepValue? unit = null;
            if (!map.TryGetValue("unit", out var unitNode)) Error(m, $"{where}: service needs a unit, such as nginx or ${{{{ params.unit }}}}");
            else unit = Value(unitNode, $"{where}: unit", scope);
            return step with { ServiceAction = action, Unit = unit };
        }

        private HttpSpec? ReadHttp(YamlNode node, string where, Scope scope)
        {
            if (node is not YamlMappingNode m)
            {
                Error(node, $"{where}: http is a mapping with at least a url");
                return null;
            }

            var map = Keys(m, HttpKeys, $"{where} (http)");
            var url = Text(map, m, "url", required: true, 2000);
            if (url is not null)
            {
                ReadMessage(map["url"], where, scope);
                var probe = EmbeddedReference().Replace(url, "x");
                if (!Uri.TryCreate(probe, UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https"))
                {
                    Error(map["url"], $"{where}: '{url}' is not an http:// or https:// URL");
                }
            }

            var method = (Text(map, m, "method", required: false, 10) ?? "GET").ToUpperInvariant();
            if (!HttpMethods.Contains(method)) Error(map["method"], $"{where}: method '{method}' is not one of {string.Join(", ", HttpMethods)}");
            var body = Text(map, m, "body", required: false, 100_000);
            if (body?.Contains("${{", StringComparison.Ordinal) == true) Error(map["body"], $"{where}: the body is sent as written; it takes no ${{{{ }}}} references");
            var from = Text(map, m, "from", required: false, 20) ?? "control_plane";
            if (from is not ("control_plane" or "target")) Error(map["from"], $"{where}: from '{from}' is not control_plane or target");
            if (from == "target" && (method != "GET" || body is not null))
            {
                Error(m, $"{where}: a request from the target goes through the agent's read-only http-probe: GET without a body");
            }

            int? status = null;
            string? expectBody = null;
            if (map.TryGetValue("expect", out var expectNode))
            {
                if (expectNode is YamlMappingNode e)
                {
                    var expect = Keys(e, ["status", "body"], $"{where} (http.expect)");
                    status = Int(expect, e, "status", required: false, 100, 599);
                    expectBody = Text(expect, e, "body", required: false, 500);
                    if (expectBody is not null) ValidRegex(expect["body"], expectBody, $"{where}: expect.body");
                }
                else
                {
                    Error(expectNode, $"{where}: expect is a mapping: status (an HTTP status) and body (a regular expression)");
                }
            }

            return url is null ? null : new HttpSpec(url, method, body, from == "target", status, expectBody);
        }

        private CheckSpec? ReadCheck(YamlNode node, string where, Scope scope)
        {
            if (node is not YamlMappingNode m)
            {
                Error(node, $"{where}: check is a mapping with one of run, shell, diag or http, and optional retries and delay");
                return null;
            }

            var map = Keys(m, ["run", "shell", "diag", "args", "http", "retries", "delay", "expect_output"], $"{where} (check)");
            var probes = new[] { "run", "shell", "diag", "http" }.Where(map.ContainsKey).ToList();
            if (probes.Count != 1)
            {
                Error(m, $"{where}: a check has exactly one of run, shell, diag or http");
                return null;
            }

            if (map.ContainsKey("args") && probes[0] != "diag") Error(map["args"], $"{where}: only a diag check takes args");
            var retries = Int(map, m, "retries", required: false, 0, 100) ?? 0;
            var delay = map.TryGetValue("delay", out var d) ? Duration(d, $"{where}: delay") ?? TimeSpan.Zero : TimeSpan.FromSeconds(2);
            var expectOutput = Text(map, m, "expect_output", required: false, 500);
            if (expectOutput is not null)
            {
                if (probes[0] == "http") Error(map["expect_output"], $"{where}: an http check says what it expects in http.expect");
                ValidRegex(map["expect_output"], expectOutput, $"{where}: expect_output");
            }

            switch (probes[0])
            {
                case "run":
                    return ReadArgv(map["run"], where, scope) is { } argv ? new CheckSpec(argv, null, null, retries, delay, expectOutput) : null;
                case "shell":
                    return ReadShell(map["shell"], where) is { } shell ? new CheckSpec(null, shell, null, retries, delay, expectOutput) : null;
                case "diag":
                    var diag = ReadDiag(new RunbookStep { Kind = StepKind.Diag, Type = "diag", Name = "", Line = 0 }, map["diag"], map.GetValueOrDefault("args"), where, scope);
                    return diag.Verb is null ? null : new CheckSpec(null, null, null, retries, delay, expectOutput) { Verb = diag.Verb, Args = diag.Args };
                default:
                    return ReadHttp(map["http"], where, scope) is { } http ? new CheckSpec(null, null, http, retries, delay, null) : null;
            }
        }

        /// <summary>Text in which <c>${{ name }}</c> references are replaced when the step runs; each must name something.</summary>
        private string? ReadMessage(YamlNode node, string where, Scope scope)
        {
            var text = Scalar(node, where);
            if (text is null) return null;
            if (text.Length > 4000) Error(node, $"{where}: the text is {text.Length} characters long; the limit is 4000");
            foreach (Match match in EmbeddedReference().Matches(text))
            {
                if (scope.Resolve(match.Groups[1].Value) is null)
                {
                    Error(node, $"{where}: ${{{{ {match.Groups[1].Value} }}}} names no parameter and no capture of an earlier step");
                }
            }

            return text;
        }

        private Dictionary<string, StepValue> ReadEnv(YamlNode node, string where, Scope scope)
        {
            var env = new Dictionary<string, StepValue>(StringComparer.Ordinal);
            if (node is not YamlMappingNode m)
            {
                Error(node, $"{where}: env is a mapping of variable names to values");
                return env;
            }

            foreach (var (k, v) in m.Children)
            {
                var name = (k as YamlScalarNode)?.Value ?? "";
                if (!EnvNamePattern().IsMatch(name))
                {
                    Error(k, $"{where}: '{name}' is not an environment variable name");
                    continue;
                }

                if (name.StartsWith("MEDIC_", StringComparison.Ordinal))
                {
                    Error(k, $"{where}: names starting with MEDIC_ are Medic's own (parameters arrive as MEDIC_PARAM_NAME)");
                    continue;
                }

                if (Value(v, $"{where}: env.{name}", scope) is { } value) env[name] = value;
            }

            return env;
        }

        /// <summary>A literal, or a reference that is the whole value: never text with a value spliced into it.</summary>
        private StepValue? Value(YamlNode node, string where, Scope scope)
        {
            var text = Scalar(node, where);
            if (text is null) return null;
            if (text.Length > ParameterValues.MaxLength) Error(node, $"{where} is longer than {ParameterValues.MaxLength} characters");
            if (!text.Contains("${{", StringComparison.Ordinal)) return StepValue.Text(text);
            var whole = WholeReference().Match(text);
            if (!whole.Success)
            {
                Error(node, $"{where}: a ${{{{ }}}} reference must be the whole value, such as '${{{{ params.unit }}}}'; values are never spliced into text (use a separate argv element, or $MEDIC_PARAM_NAME in a shell script)");
                return null;
            }

            if (scope.Resolve(whole.Groups[1].Value) is not { } reference)
            {
                Error(node, $"{where}: ${{{{ {whole.Groups[1].Value} }}}} names no parameter and no capture of an earlier step");
                return null;
            }

            return new StepValue(null, reference);
        }

        private void ValidRegex(YamlNode node, string pattern, string where)
        {
            try
            {
                _ = new Regex(pattern, RegexOptions.None, TimeSpan.FromSeconds(1));
            }
            catch (ArgumentException ex)
            {
                Error(node, $"{where} is not a valid regular expression: {ex.Message}");
            }
        }

        /// <summary>The mapping's entries by key; unknown and repeated keys are errors.</summary>
        private Dictionary<string, YamlNode> Keys(YamlMappingNode m, string[] known, string where)
        {
            var map = new Dictionary<string, YamlNode>(StringComparer.Ordinal);
            foreach (var (k, v) in m.Children)
            {
                if (k is not YamlScalarNode { Value: { } key })
                {
                    Error(k, $"{where}: keys must be plain words");
                    continue;
                }

                if (!known.Contains(key))
                {
                    Error(k, $"{where}: unknown key '{key}'; the keys are {string.Join(", ", known)}");
                    continue;
                }

                if (!map.TryAdd(key, v)) Error(k, $"{where}: '{key}' is given twice");
            }

            return map;
        }

        private string? Scalar(YamlNode node, string where)
        {
            if (node is YamlScalarNode s)
            {
                if (s.Value is null || (s.Style == ScalarStyle.Plain && s.Value is "" or "~" or "null"))
                {
                    Error(node, $"{where} is empty");
                    return null;
                }

                if (s.Value.Contains('\0', StringComparison.Ordinal))
                {
                    Error(node, $"{where} contains a NUL character");
                    return null;
                }

                return s.Value;
            }

            Error(node, $"{where} must be a single value, not a {(node is YamlSequenceNode ? "list" : "mapping")}");
            return null;
        }

        private string? Text(Dictionary<string, YamlNode> map, YamlNode owner, string key, bool required, int maxLength)
        {
            if (!map.TryGetValue(key, out var node))
            {
                if (required) Error(owner, $"'{key}' is missing");
                return null;
            }

            var text = Scalar(node, key);
            if (text is not null && text.Length > maxLength)
            {
                Error(node, $"{key} is {text.Length} characters long; the limit is {maxLength}");
                return null;
            }

            return text;
        }

        private int? Int(Dictionary<string, YamlNode> map, YamlNode owner, string key, bool required, int min, int max)
        {
            var text = Text(map, owner, key, required, 20);
            if (text is null) return null;
            if (int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var n) && n >= min && n <= max) return n;
            Error(map[key], $"{key} '{text}' is not a whole number from {min} to {max}");
            return null;
        }

        private long? Long(Dictionary<string, YamlNode> map, string key)
        {
            if (!map.TryGetValue(key, out var node) || Scalar(node, key) is not { } text) return null;
            if (long.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var n)) return n;
            Error(node, $"{key} '{text}' is not a whole number");
            return null;
        }

        private bool? Bool(Dictionary<string, YamlNode> map, string key)
        {
            if (!map.TryGetValue(key, out var node) || Scalar(node, key) is not { } text) return null;
            if (text is "true" or "false") return text == "true";
            Error(node, $"{key} '{text}' is not true or false");
            return null;
        }

        private TimeSpan? Duration(YamlNode node, string where)
        {
            if (Scalar(node, where) is not { } text) return null;
            if (Durations.TryParse(text, out var span) && span <= MaxTimeout) return span;
            Error(node, $"{where}: '{text}' is not a duration from 1s to 1h, such as 30s or 5m");
            return null;
        }

        private List<string> TextList(YamlNode node, string where, int max)
        {
            if (node is not YamlSequenceNode seq)
            {
                Error(node, $"{where} is a list");
                return [];
            }

            if (seq.Children.Count > max) Error(seq, $"{where} has more than {max} entries");
            return seq.Children.Select(c => Scalar(c, where)).OfType<string>().ToList();
        }

        private Dictionary<string, string> TextMap(YamlNode node, string where)
        {
            var map = new Dictionary<string, string>(StringComparer.Ordinal);
            if (node is not YamlMappingNode m)
            {
                Error(node, $"{where} is a mapping of names to values");
                return map;
            }

            foreach (var (k, v) in m.Children)
            {
                if (Scalar(k, where) is { } key && Scalar(v, $"{where}.{key}") is { } value && !map.TryAdd(key, value))
                {
                    Error(k, $"{where}: '{key}' is given twice");
                }
            }

            return map;
        }
    }
}
