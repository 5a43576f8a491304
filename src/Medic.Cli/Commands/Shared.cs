using System.CommandLine;

namespace Medic.Cli.Commands;

/// <summary>Options and plumbing every command shares: the context, --json, errors.</summary>
internal static class Shared
{
    public static readonly Option<string?> ContextOption = new("--context")
    {
        Description = "CLI context to use (default: MEDIC_CONTEXT, then the current context)",
        Recursive = true,
    };

    public static Option<bool> JsonOption() => new("--json") { Description = "Print JSON instead of a table" };

    /// <summary>Refuses, at parse time, a value outside <paramref name="allowed"/>, naming the values that work.</summary>
    public static Option<string?> OneOf(this Option<string?> option, IEnumerable<string> allowed)
    {
        var values = allowed.ToList();
        option.Validators.Add(result =>
        {
            if (result.GetValueOrDefault<string?>() is { } value && !values.Contains(value, StringComparer.Ordinal))
            {
                result.AddError($"'{value}' is not a valid {option.Name}; use one of: {string.Join(", ", values)}");
            }
        });
        return option;
    }

    public static void PrintError(string cause, string remedy)
    {
        Console.Error.WriteLine("error: " + cause);
        Console.Error.WriteLine("hint: " + remedy);
    }

    public sealed record Session(string Name, CliContext Context, CliConfig Config, string ConfigPath)
    {
        public ApiClient Client(TimeSpan? timeout = null) => new(Context.Server, Context.Token, timeout);
    }

    public static string? ContextName(ParseResult parse, CliConfig config) =>
        parse.GetValue(ContextOption) is { Length: > 0 } flag ? flag
        : Environment.GetEnvironmentVariable("MEDIC_CONTEXT") is { Length: > 0 } env ? env
        : config.CurrentContext;

    public static Session RequireSession(ParseResult parse)
    {
        var path = CliConfig.DefaultPath();
        var config = CliConfig.Load(path);
        var name = ContextName(parse, config);
        if (name is null)
        {
            throw new CliException("not logged in to any Medic server", "run 'medic login --server URL' (or 'medic up' on this machine)", ExitCodes.Auth);
        }

        if (!config.Contexts.TryGetValue(name, out var context))
        {
            throw new CliException($"no context named '{name}' in {path}", "run 'medic context list' to see the contexts, or 'medic login'", ExitCodes.Auth);
        }

        return new Session(name, context, config, path);
    }

    /// <summary>Reads a secret from standard input (for --password-stdin): the first line, without its newline.</summary>
    public static string ReadSecretFromStdin(string what)
    {
        var line = Console.In.ReadLine();
        if (string.IsNullOrEmpty(line))
        {
            throw new CliException($"no {what} on standard input", $"pipe the {what} in, e.g. printf '%s' \"$PASS\" | medic ... --password-stdin");
        }

        return line.TrimEnd('\r');
    }

    /// <summary>Prompts on the terminal without echo.</summary>
    public static string PromptSecret(string prompt)
    {
        if (Console.IsInputRedirected)
        {
            throw new CliException("no terminal to ask for the password", "pass it on standard input with --password-stdin");
        }

        Console.Error.Write(prompt);
        var chars = new List<char>();
        while (true)
        {
            var key = Console.ReadKey(intercept: true);
            if (key.Key == ConsoleKey.Enter) break;
            if (key.Key == ConsoleKey.Backspace)
            {
                if (chars.Count > 0) chars.RemoveAt(chars.Count - 1);
                continue;
            }

            if (!char.IsControl(key.KeyChar)) chars.Add(key.KeyChar);
        }

        Console.Error.WriteLine();
        return new string([.. chars]);
    }

    public static string Escape(string segment) => Uri.EscapeDataString(segment);
}
