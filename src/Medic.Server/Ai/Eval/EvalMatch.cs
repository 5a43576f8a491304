namespace Medic.Server.Ai.Eval;

/// <summary>How the eval compares a model's values with a scenario's: the same text, give or take a trailing slash on a path and <c>.service</c> on a unit.</summary>
internal static class EvalMatch
{
    public static bool SameValue(string expected, string actual)
    {
        expected = expected.Trim();
        actual = actual.Trim();
        if (string.Equals(expected, actual, StringComparison.Ordinal)) return true;
        if (expected.StartsWith('/') && actual.StartsWith('/') && expected.Length > 1 && actual.Length > 1)
        {
            return string.Equals(expected.TrimEnd('/'), actual.TrimEnd('/'), StringComparison.Ordinal);
        }

        return string.Equals(Unit(expected), Unit(actual), StringComparison.Ordinal) && (expected.EndsWith(".service", StringComparison.Ordinal) || actual.EndsWith(".service", StringComparison.Ordinal));
    }

    /// <summary>Whether every listed parameter has one of its accepted values in <paramref name="actual"/>.</summary>
    public static bool Params(IReadOnlyDictionary<string, IReadOnlyList<string>> wanted, IReadOnlyDictionary<string, string> actual) =>
        wanted.All(w => actual.TryGetValue(w.Key, out var value) && w.Value.Any(v => SameValue(v, value)));

    private static string Unit(string value) => value.EndsWith(".service", StringComparison.Ordinal) ? value[..^".service".Length] : value;
}
