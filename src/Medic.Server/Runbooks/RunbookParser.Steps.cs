using System.Globalization;
using System.Text.RegularExpressions;
using Medic.Contracts;
using Medic.Server.Common;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace Medic.Server.Runbooks;

internal static partial class RunbookParser
{
    private sealed partial class Context
    {
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
                return Condition.Parse(text, name => scope.Resolve(name) is { Scope: not RefScope.Secrets } r ? r : null);
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
                if (scope.Resolve(match.Groups[1].Value) is { Scope: RefScope.Secrets })
                {
                    Error(node, $"{where}: ${{{{ {match.Groups[1].Value} }}}}: a secret goes only into a whole value (an argv element, an env value or a diag argument), never into a message or URL");
                }
                else if (scope.Resolve(match.Groups[1].Value) is null)
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
                Error(node, whole.Groups[1].Value.StartsWith("secrets.", StringComparison.Ordinal)
                    ? $"{where}: '{whole.Groups[1].Value["secrets.".Length..]}' is not a secret name: {Secrets.SecretNames.Rule}"
                    : $"{where}: ${{{{ {whole.Groups[1].Value} }}}} names no parameter and no capture of an earlier step");
                return null;
            }

            if (reference.Scope == RefScope.Secrets) SecretNames.Add(reference.Name);

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
    }
}
