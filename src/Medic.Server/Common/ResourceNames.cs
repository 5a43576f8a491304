using System.Text.RegularExpressions;

namespace Medic.Server.Common;

/// <summary>
/// The one rule for names people give to checks, monitors, runbooks, notification channels and
/// rules: 1 to 63 lowercase letters, digits, '.', '_' and '-', starting with a letter or digit.
/// </summary>
internal static partial class ResourceNames
{
    [GeneratedRegex("^[a-z0-9][a-z0-9._-]{0,62}$")]
    public static partial Regex Pattern();

    public static bool IsValid(string? name) => name is not null && Pattern().IsMatch(name);
}
