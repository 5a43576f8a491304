using System.CommandLine;
using System.CommandLine.Parsing;
using System.Text.RegularExpressions;

namespace Medic.Cli;

/// <summary>
/// Turns a command line that does not parse into one line of cause and one of remedy, in Medic's
/// words: an unknown command or option names the closest one, a value of the wrong type says what
/// was expected in the flag's terms, never a .NET type name.
/// </summary>
internal static partial class UsageErrors
{
    public static (string Cause, string Remedy) Describe(ParseResult parse, RootCommand root)
    {
        var command = parse.CommandResult.Command;
        var path = CommandPath(command, root);
        var help = $"run '{path} --help' for usage";

        if (parse.UnmatchedTokens.FirstOrDefault() is { } unmatched)
        {
            if (unmatched.StartsWith('-'))
            {
                var options = command.Options.Concat(root.Options.Where(o => o.Recursive)).Where(o => !o.Hidden)
                    .SelectMany(o => o.Aliases.Prepend(o.Name));
                return Closest(unmatched, options) is { } option
                    ? ($"unknown option '{unmatched}' for '{path}'; did you mean '{option}'?", help)
                    : ($"unknown option '{unmatched}' for '{path}'", help);
            }

            if (command.Subcommands.Count > 0)
            {
                // 'serverz list' is as close to 'server' as to 'servers': the next word decides.
                var next = parse.UnmatchedTokens.Skip(1).FirstOrDefault();
                var names = command.Subcommands.Where(c => !c.Hidden)
                    .OrderByDescending(c => next is not null && c.Subcommands.Any(s => s.Name == next))
                    .SelectMany(c => c.Aliases.Prepend(c.Name));
                return Closest(unmatched, names) is { } suggestion
                    ? ($"unknown command '{unmatched}'; did you mean '{suggestion}'?", $"run '{path} {suggestion} --help', or '{path} --help' for every command")
                    : ($"unknown command '{unmatched}'", $"run '{path} --help' for the commands");
            }

            return ($"unexpected argument '{unmatched}' for '{path}'", help);
        }

        var error = parse.Errors[0];
        if (command.Subcommands.Count > 0 && command.Action is null && parse.Errors.All(e => e.SymbolResult is CommandResult))
        {
            var names = string.Join(", ", command.Subcommands.Where(c => !c.Hidden).Select(c => c.Name));
            return ($"'{path}' needs a command: {names}", $"run '{path} --help' for what each does");
        }

        if (CannotParse().Match(error.Message) is { Success: true } m)
        {
            return ($"'{m.Groups["value"].Value}' is not {Expected(m.Groups["type"].Value)} for {m.Groups["name"].Value}", help);
        }

        return (error.Message.TrimEnd('.'), help);
    }

    /// <summary>The candidate closest to what was typed, when it is close enough to be a typo.</summary>
    internal static string? Closest(string typed, IEnumerable<string> candidates)
    {
        var bare = typed.TrimStart('-');
        string? best = null;
        var bestDistance = int.MaxValue;
        foreach (var candidate in candidates.Distinct())
        {
            var name = candidate.TrimStart('-');
            var distance = Distance(bare, name);
            if (name.StartsWith(bare, StringComparison.Ordinal) && bare.Length >= 3) distance = Math.Min(distance, 1);
            if (distance < bestDistance) // among equally close names the first wins
            {
                best = candidate;
                bestDistance = distance;
            }
        }

        return bestDistance <= Math.Max(1, bare.Length / 3) ? best : null;
    }

    private static int Distance(string a, string b)
    {
        var previous = new int[b.Length + 1];
        var current = new int[b.Length + 1];
        for (var j = 0; j <= b.Length; j++) previous[j] = j;
        for (var i = 1; i <= a.Length; i++)
        {
            current[0] = i;
            for (var j = 1; j <= b.Length; j++)
            {
                var cost = a[i - 1] == b[j - 1] ? 0 : 1;
                current[j] = Math.Min(Math.Min(current[j - 1] + 1, previous[j] + 1), previous[j - 1] + cost);
            }

            (previous, current) = (current, previous);
        }

        return previous[b.Length];
    }

    private static string Expected(string type) => type switch
    {
        "System.Int32" or "System.Int64" or "System.Nullable`1[System.Int32]" or "System.Nullable`1[System.Int64]" => "a whole number",
        "System.Double" or "System.Decimal" => "a number",
        "System.Boolean" => "true or false",
        _ => "a valid value",
    };

    internal static string CommandPath(Command command, Command root)
    {
        var names = new List<string>();
        for (var c = command; c is not null && c != root; c = c.Parents.OfType<Command>().FirstOrDefault())
        {
            names.Insert(0, c.Name);
        }

        return string.Join(' ', names.Prepend("medic"));
    }

    // System.CommandLine's wording: "Cannot parse argument 'abc' for option '--limit' as expected type 'System.Int32'."
    [GeneratedRegex("^Cannot parse argument '(?<value>.*)' for (option|argument) '(?<name>[^']+)' as expected type '(?<type>[^']+)'")]
    private static partial Regex CannotParse();
}
