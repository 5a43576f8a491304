using System.Text.RegularExpressions;
using Medic.Contracts;
using Medic.Server.Ai.Agents;
using Medic.Server.Common;

namespace Medic.Server.Ai.OperatorTools;

/// <summary>
/// What makes an operator tool valid; a pure function of the request. The program is an absolute
/// path and never a shell or a command launcher; each arg is one argv element; a URL reaches only
/// the server itself; every reference names a declared, typed parameter and every parameter is used.
/// </summary>
internal static partial class OperatorToolRules
{
    public const string String = "string";
    public const string Integer = "integer";
    public const string Enum = "enum";

    public const int MaxParameters = 10;
    public const int MaxArgs = 32;
    public const int MaxArgLength = 1000;
    public const int DefaultMaxLength = 200;
    public const int DefaultTimeoutSeconds = 10;
    public const int MaxTimeoutSeconds = 60;

    /// <summary>An http_request runs as the agent's http-probe verb, which waits at most 10 s.</summary>
    public const int MaxHttpTimeoutSeconds = 10;

    public const int DefaultOutputLimit = 8000;
    public const int MinOutputLimit = 256;
    public const int MaxOutputLimit = 64000;

    /// <summary>Names the run loop gives tools of its own: a built-in one, a patrol's, and the argument every server tool takes.</summary>
    public static readonly IReadOnlyList<string> Reserved = [.. AiToolNames.BuiltIn, "report_finding"];

    /// <summary>Programs that run another program or a shell string: a template naming one would be a shell by another name.</summary>
    public static readonly IReadOnlyList<string> Launchers =
    [
        "sh", "bash", "dash", "zsh", "ksh", "mksh", "ash", "csh", "tcsh", "fish", "busybox", "env", "sudo", "su", "doas", "runuser", "pkexec",
        "xargs", "nohup", "setsid", "nice", "ionice", "timeout", "stdbuf", "chroot", "nsenter", "unshare", "flock", "script", "expect",
        "chrt", "taskset", "watch", "systemd-run", "ssh", "eval", "exec", "command", "time", "strace", "ltrace", "gdb",
    ];

    private static readonly TimeSpan MatchTimeout = TimeSpan.FromMilliseconds(100);

    [GeneratedRegex("^[a-z][a-z0-9_]{0,31}$")]
    private static partial Regex ParameterName();

    [GeneratedRegex("^/[A-Za-z0-9._+/-]*[A-Za-z0-9._+-]$")]
    private static partial Regex ProgramPath();

    /// <summary>A string parameter's pattern as the value is checked: the whole value must match (<c>\z</c>, so a trailing newline does not slip past <c>$</c>).</summary>
    public static Regex Compile(string pattern) => new($"^(?:{pattern})\\z", RegexOptions.CultureInvariant, MatchTimeout);

    /// <summary>The template to save, every field filled in, or null with the field errors.</summary>
    public static AiToolRequest? Validate(string name, AiToolRequest? request, Validator errors)
    {
        if (!AiToolNames.Pattern().IsMatch(name))
        {
            errors.Add("name", $"'{Clip(name)}' is not a tool name: a lowercase letter, then up to 62 lowercase letters, digits and '_' (e.g. restart_queue)");
        }
        else if (Reserved.Contains(name, StringComparer.Ordinal))
        {
            errors.Add("name", $"'{name}' is a built-in tool; an operator tool needs a name of its own (built-in: {string.Join(", ", Reserved)})");
        }

        if (request is null)
        {
            errors.Add("body", "is required: a JSON object with description, kind, program and args (shell_command) or url (http_request), parameters");
            return null;
        }

        if (request.Name is { } named && named != name) errors.Add("name", $"the body names '{Clip(named)}' but the path names '{Clip(name)}'; they must be the same");
        errors.Require("description", request.Description?.Trim(), 1000);

        var parameters = Parameters(request.Parameters, errors);
        var declared = parameters.Select(p => p.Name).ToHashSet(StringComparer.Ordinal);
        var used = new HashSet<string>(StringComparer.Ordinal);
        string? program = null, method = null, url = null;
        List<string> args = [];
        var timeoutMax = MaxTimeoutSeconds;
        switch (request.Kind)
        {
            case OperatorToolDefinition.ShellCommand:
                program = request.Program?.Trim();
                ValidateProgram(program, errors);
                if (request.Url is not null || request.Method is not null) errors.Add("url", "a shell_command has program and args; url and method belong to an http_request");
                args = [.. request.Args ?? []];
                if (args.Count > MaxArgs) errors.Add("args", $"has {args.Count} arguments; the limit is {MaxArgs}");
                for (var i = 0; i < args.Count; i++) ValidateArg(i, args[i] ?? "", declared, used, errors);
                break;
            case OperatorToolDefinition.HttpRequest:
                timeoutMax = MaxHttpTimeoutSeconds;
                if (request.Program is not null || request.Args is not null) errors.Add("program", "an http_request has a url; program and args belong to a shell_command");
                method = (request.Method ?? "GET").Trim().ToUpperInvariant();
                if (method != "GET")
                {
                    errors.Add("method", $"'{Clip(method)}' is not supported: an http_request is a GET (the agent's http-probe verb), with parameters in the URL's path or query");
                }

                url = request.Url?.Trim();
                ValidateUrl(url, declared, used, errors);
                break;
            default:
                errors.Add("kind", request.Kind is null ? "is required: shell_command or http_request" : $"'{Clip(request.Kind)}' is not a kind; use shell_command or http_request");
                break;
        }

        foreach (var unused in parameters.Where(p => !used.Contains(p.Name) && request.Kind is OperatorToolDefinition.ShellCommand or OperatorToolDefinition.HttpRequest))
        {
            errors.Add("parameters", $"'{unused.Name}' is not used: reference it as {{{{ {unused.Name} }}}} in {(request.Kind == OperatorToolDefinition.HttpRequest ? "the url" : "an arg")}, or remove it");
        }

        var timeout = request.TimeoutSeconds ?? Math.Min(DefaultTimeoutSeconds, timeoutMax);
        if (timeout < 1 || timeout > timeoutMax)
        {
            errors.Add("timeout_seconds", $"is {timeout}; it must be from 1 to {timeoutMax}" + (timeoutMax == MaxHttpTimeoutSeconds ? " for an http_request (the agent's http-probe verb waits at most 10 s)" : ""));
        }

        var output = request.OutputLimit ?? DefaultOutputLimit;
        if (output < MinOutputLimit || output > MaxOutputLimit) errors.Add("output_limit", $"is {output}; it must be from {MinOutputLimit} to {MaxOutputLimit} characters");

        return errors.Ok
            ? new AiToolRequest(name, request.Description!.Trim(), request.Kind, program, program is null ? null : args, method, url, parameters, timeout, output)
            : null;
    }

    private static List<AiToolParameter> Parameters(IReadOnlyList<AiToolParameter>? given, Validator errors)
    {
        var parameters = new List<AiToolParameter>();
        if (given is null) return parameters;
        if (given.Count > MaxParameters) errors.Add("parameters", $"has {given.Count} parameters; the limit is {MaxParameters}");
        foreach (var p in given)
        {
            if (p is null) continue;
            var field = $"parameters.{Clip(p.Name ?? "")}";
            if (p.Name is null || !ParameterName().IsMatch(p.Name))
            {
                errors.Add("parameters", $"'{Clip(p.Name ?? "")}' is not a parameter name: a lowercase letter, then up to 31 lowercase letters, digits and '_'");
                continue;
            }

            if (p.Name == "server") errors.Add(field, "'server' is taken: every operator tool has it (the server to run on; for an incident, only its own)");
            if (parameters.Any(q => q.Name == p.Name)) errors.Add(field, "is declared twice");
            if (p.Description is { Length: > 500 }) errors.Add(field, "description is longer than 500 characters");
            switch (p.Type)
            {
                case String:
                    if (p.Min is not null || p.Max is not null || p.Values is not null) errors.Add(field, "a string parameter has pattern and max_length; min, max and values belong to integer and enum");
                    if (string.IsNullOrEmpty(p.Pattern))
                    {
                        errors.Add(field, "a string parameter needs a pattern its whole value must match, e.g. \"[a-z0-9@._-]+\" for a unit name");
                    }
                    else if (p.Pattern.Length > 500)
                    {
                        errors.Add(field, "pattern is longer than 500 characters");
                    }
                    else
                    {
                        try
                        {
                            Compile(p.Pattern);
                        }
                        catch (ArgumentException e)
                        {
                            errors.Add(field, $"pattern is not a valid regular expression: {e.Message}");
                        }
                    }

                    if (p.MaxLength is < 1 or > 1000) errors.Add(field, $"max_length is {p.MaxLength}; it must be from 1 to 1000");
                    parameters.Add(p with { MaxLength = p.MaxLength ?? DefaultMaxLength, Description = p.Description ?? "" });
                    break;
                case Integer:
                    if (p.Pattern is not null || p.MaxLength is not null || p.Values is not null) errors.Add(field, "an integer parameter has min and max; pattern, max_length and values belong to string and enum");
                    var min = p.Min ?? int.MinValue;
                    var max = p.Max ?? int.MaxValue;
                    if (min < int.MinValue || max > int.MaxValue) errors.Add(field, $"min and max must be from {int.MinValue} to {int.MaxValue}");
                    if (min > max) errors.Add(field, $"min {min} is above max {max}");
                    parameters.Add(p with { Description = p.Description ?? "" });
                    break;
                case Enum:
                    if (p.Pattern is not null || p.MaxLength is not null || p.Min is not null || p.Max is not null) errors.Add(field, "an enum parameter has values; pattern, max_length, min and max belong to string and integer");
                    var values = (p.Values ?? []).ToList();
                    if (values.Count is 0 or > 50) errors.Add(field, "an enum parameter needs 1 to 50 values");
                    if (values.Any(v => string.IsNullOrEmpty(v) || v.Length > 200 || v.Any(char.IsControl))) errors.Add(field, "each value is 1 to 200 characters without control characters");
                    if (values.Distinct(StringComparer.Ordinal).Count() != values.Count) errors.Add(field, "a value is listed twice");
                    parameters.Add(p with { Description = p.Description ?? "" });
                    break;
                default:
                    errors.Add(field, p.Type is null ? "type is required: string, integer or enum" : $"'{Clip(p.Type)}' is not a type; use string, integer or enum");
                    break;
            }
        }

        return parameters;
    }

    private static void ValidateProgram(string? program, Validator errors)
    {
        if (string.IsNullOrEmpty(program))
        {
            errors.Add("program", "is required: the absolute path of the program, e.g. /usr/bin/systemctl");
            return;
        }

        if (!ProgramPath().IsMatch(program) || program.Split('/').Any(s => s is "." or ".."))
        {
            errors.Add("program", $"'{Clip(program)}' is not an absolute path to a program: no spaces, quotes, '{{{{ }}}}', ';', '|', '$' or other shell syntax; give the words after it in args (there is no shell)");
            return;
        }

        var basename = program[(program.LastIndexOf('/') + 1)..];
        if (Launchers.Contains(basename, StringComparer.Ordinal))
        {
            errors.Add("program", $"'{basename}' runs other programs or a shell string, which an operator tool must not (the model never gets a shell); name the program itself, e.g. /usr/bin/systemctl");
        }
    }

    private static void ValidateArg(int index, string arg, HashSet<string> declared, HashSet<string> used, Validator errors)
    {
        var field = $"args[{index}]";
        if (arg.Length > MaxArgLength) errors.Add(field, $"is longer than {MaxArgLength} characters");
        if (arg.Any(char.IsControl)) errors.Add(field, "contains a control character (a newline, a tab, NUL)");
        var (names, error) = ToolTemplate.References(arg);
        if (error is not null) errors.Add(field, error);
        if (names.Count > 1) errors.Add(field, $"references {names.Count} parameters; an arg holds at most one (each is one argv element: split them into separate args)");
        foreach (var name in names) Reference(field, name, declared, used, errors);
    }

    private static void ValidateUrl(string? url, HashSet<string> declared, HashSet<string> used, Validator errors)
    {
        if (string.IsNullOrEmpty(url))
        {
            errors.Add("url", "is required: e.g. http://127.0.0.1:8080/status?queue={{ queue }}");
            return;
        }

        var (names, error) = ToolTemplate.References(url);
        if (error is not null) errors.Add("url", error);
        foreach (var name in names) Reference("url", name, declared, used, errors);
        if (url.Length > 2048 || ToolTemplate.Fill(url, _ => "x").Any(c => char.IsControl(c) || char.IsWhiteSpace(c)))
        {
            errors.Add("url", "must be at most 2048 characters without spaces or control characters (outside its {{ param }} references)");
            return;
        }
        var scheme = url.IndexOf("://", StringComparison.Ordinal);
        var authorityEnd = scheme < 0 ? -1 : url.IndexOfAny(['/', '?', '#'], scheme + 3);
        var authority = scheme < 0 ? "" : authorityEnd < 0 ? url[(scheme + 3)..] : url[(scheme + 3)..authorityEnd];
        if (authority.Contains("{{", StringComparison.Ordinal))
        {
            errors.Add("url", "the host and port must be written out: parameters go in the path or the query");
            return;
        }

        if (!Uri.TryCreate(ToolTemplate.Fill(url, _ => "x"), UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https"))
        {
            errors.Add("url", $"'{Clip(url)}' is not an http:// or https:// URL");
            return;
        }

        if (uri.UserInfo.Length > 0) errors.Add("url", "credentials in the URL are not accepted");
        if (uri.Fragment.Length > 0) errors.Add("url", "a '#' fragment is never sent to the server; remove it");
        if (!uri.IsLoopback)
        {
            errors.Add("url", $"'{uri.Host}' is not this server: the request runs on the incident's server through its agent, so it may reach only localhost, 127.0.0.1 or [::1]");
        }
    }

    private static void Reference(string field, string name, HashSet<string> declared, HashSet<string> used, Validator errors)
    {
        if (declared.Contains(name)) used.Add(name);
        else errors.Add(field, $"references {{{{ {Clip(name)} }}}}, which is not a declared parameter" + (declared.Count == 0 ? " (it declares none)" : $" ({string.Join(", ", declared)})"));
    }

    private static string Clip(string text) => text.Length <= 64 ? text : text[..63] + "…";
}
