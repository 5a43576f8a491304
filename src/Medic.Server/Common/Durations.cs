using Medic.Contracts;

namespace Medic.Server.Common;

/// <summary>The server's reading of <see cref="Duration"/>: the same grammar, and a setting or request value of zero is refused.</summary>
public static class Durations
{
    public static bool TryParse(string? text, out TimeSpan value) => Duration.TryParse(text, out value) && value > TimeSpan.Zero;

    public static string Format(TimeSpan span) => Duration.Format(span);
}
