namespace Medic.Cli;

/// <summary>Process exit codes; documented in docs/cli.md.</summary>
internal static class ExitCodes
{
    public const int Ok = 0;
    public const int CheckFailed = 1;
    public const int Usage = 2;
    public const int Auth = 3;
    public const int NotFound = 4;
    public const int Unreachable = 5;
    public const int ServerError = 6;
    public const int RateLimited = 7;
    public const int Internal = 70;

    public static int ForStatus(int status) => status switch
    {
        401 or 403 => Auth,
        404 => NotFound,
        429 => RateLimited,
        >= 500 => ServerError,
        _ => Usage,
    };
}

/// <summary>A failure the user can act on: printed as one line of cause and one of remedy.</summary>
internal sealed class CliException(string cause, string remedy, int exitCode = ExitCodes.Usage) : Exception(cause)
{
    public string Remedy { get; } = remedy;

    public int ExitCode { get; } = exitCode;
}
