using System.Text.Json;

namespace Medic.Server.Storage;

/// <summary>
/// The HTTP status an exception stands for: a bad request, a unique name already taken (409), a
/// database that cannot take writes (503), or a bug (500). The exception handler answers with it;
/// callers that retry or ignore a duplicate ask it whether an insert hit a unique constraint.
/// </summary>
internal static class ErrorStatus
{
    public static int For(Exception ex) => ex switch
    {
        BadHttpRequestException bad => bad.StatusCode,
        JsonException => StatusCodes.Status400BadRequest,
        Npgsql.PostgresException { SqlState: "23505" } => StatusCodes.Status409Conflict,
        Microsoft.Data.Sqlite.SqliteException { SqliteErrorCode: 19 } => StatusCodes.Status409Conflict,
        _ when StorageFaults.IsUnwritable(ex) => StatusCodes.Status503ServiceUnavailable,
        _ => StatusCodes.Status500InternalServerError,
    };

    /// <summary>Whether <paramref name="ex"/> is an insert that hit a unique constraint.</summary>
    public static bool IsDuplicate(Exception ex) => For(ex) == StatusCodes.Status409Conflict;
}
