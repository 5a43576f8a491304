using System.Text.RegularExpressions;

namespace Medic.Server.Secrets;

/// <summary>
/// The rule for a secret's name: 1 to 64 lowercase letters, digits, '.', '_' and '-', starting with
/// a letter or digit (so a name is never read as a command-line option).
/// </summary>
internal static partial class SecretNames
{
    public const int MaxLength = 64;

    /// <summary>The most characters a value may hold (UTF-16; the API refuses more than 64 KiB of UTF-8).</summary>
    public const int MaxValueBytes = 64 * 1024;

    [GeneratedRegex("^[a-z0-9][a-z0-9._-]{0,63}$")]
    private static partial Regex Pattern();

    public static bool IsValid(string? name) => name is not null && Pattern().IsMatch(name);

    public const string Rule = "use 1 to 64 lowercase letters, digits, '.', '_' and '-', starting with a letter or digit, such as slack-webhook or openai.key";
}
