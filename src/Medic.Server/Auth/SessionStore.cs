using System.Data.Common;
using Dapper;
using Medic.Server.Common;
using Medic.Server.Storage;

namespace Medic.Server.Auth;

/// <summary>Why a console session ended, as stored in <c>console_sessions.end_reason</c>.</summary>
internal enum SessionEnd
{
    SignedOut,
    PasswordReset,
}

/// <summary>
/// Console sessions kept on the server. The cookie carries only the session's id (inside the
/// encrypted ticket); a session ended here refuses its cookie from the next request on, so a copy
/// of the cookie taken before sign-out or a password reset is worth nothing.
/// </summary>
internal sealed class SessionStore(Database db, TimeProvider time)
{
    public const string ClaimType = "medic:session_id";

    public async Task<string> StartAsync(Caller caller, CancellationToken ct = default)
    {
        var id = Ids.New("ses");
        await db.WriteAsync((c, tx) => c.ExecuteAsync(
            "INSERT INTO console_sessions (id, tenant_id, user_id, created_at) VALUES (@id, @tenantId, @userId, @at)",
            new { id, tenantId = caller.TenantId, userId = caller.UserId, at = time.GetUtcNow() }, tx), ct);
        return id;
    }

    public async Task<bool> IsActiveAsync(string sessionId, string userId, CancellationToken ct = default)
    {
        await using var c = await db.OpenAsync(ct);
        return await c.ExecuteScalarAsync<long>(
            "SELECT COUNT(*) FROM console_sessions WHERE id = @sessionId AND user_id = @userId AND ended_at IS NULL", new { sessionId, userId }) > 0;
    }

    public static Task<int> EndAsync(DbConnection c, DbTransaction tx, string sessionId, SessionEnd reason, DateTimeOffset at) =>
        c.ExecuteAsync("UPDATE console_sessions SET ended_at = @at, end_reason = @reason WHERE id = @sessionId AND ended_at IS NULL",
            new { sessionId, at, reason = Wire(reason) }, tx);

    /// <summary>Ends every open session of the user except <paramref name="keep"/> (the one making the change, if any).</summary>
    public static Task<int> EndAllAsync(DbConnection c, DbTransaction tx, string tenantId, string userId, string? keep, SessionEnd reason, DateTimeOffset at) =>
        c.ExecuteAsync(
            "UPDATE console_sessions SET ended_at = @at, end_reason = @reason WHERE tenant_id = @tenantId AND user_id = @userId AND ended_at IS NULL" +
            (keep is null ? "" : " AND id <> @keep"),
            new { tenantId, userId, keep, at, reason = Wire(reason) }, tx);

    private static string Wire(SessionEnd reason) => reason switch
    {
        SessionEnd.SignedOut => "signed_out",
        SessionEnd.PasswordReset => "password_reset",
        _ => throw new ArgumentOutOfRangeException(nameof(reason)),
    };
}
