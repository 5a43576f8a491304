using Medic.Contracts;
using Medic.Server.Auth;
using Medic.Server.Common;
using Medic.Server.Storage;

namespace Medic.Server.Audit;

/// <summary>
/// Makes sure no mutating API call goes unrecorded. Handlers that change state write their own
/// entry in the same transaction as the change and mark the request audited; for everything else
/// (refused, invalid, or failed calls) this writes an entry with the outcome taken from the status.
/// </summary>
internal sealed class AuditMiddleware(RequestDelegate next)
{
    private const string AuditedKey = "medic.audited";

    public async Task InvokeAsync(HttpContext http, AuditLog audit)
    {
        if (HttpMethods.IsGet(http.Request.Method) || HttpMethods.IsHead(http.Request.Method) || HttpMethods.IsOptions(http.Request.Method)
            || !http.Request.Path.StartsWithSegments("/api", StringComparison.Ordinal))
        {
            await next(http);
            return;
        }

        int? thrownStatus = null;
        try
        {
            await next(http);
        }
        catch (Exception ex)
        {
            thrownStatus = ErrorStatus.For(ex);
            throw;
        }
        finally
        {
            // Anonymous refusals are not written: anyone could flood the log with them. Failed logins are written by the login itself.
            if (!http.Items.ContainsKey(AuditedKey) && Caller.From(http.User) is { } caller)
            {
                var status = thrownStatus ?? http.Response.StatusCode;
                var outcome = status switch
                {
                    < 400 => AuditOutcomes.Success,
                    401 or 403 => AuditOutcomes.Denied,
                    < 500 => AuditOutcomes.Rejected,
                    _ => AuditOutcomes.Failed,
                };
                var route = (http.GetEndpoint() as RouteEndpoint)?.RoutePattern.RawText ?? http.Request.Path.ToString();
                // The path is the target; a credential inside it (a token segment) is masked like any URL's.
                var target = UrlMask.MaskRelative(http.Request.Path.ToString(), keepMedicIds: true);
                await audit.AppendAsync(new AuditRecord(caller.TenantId, caller.Actor, $"{http.Request.Method} {route}", target,
                    outcome, http.Connection.RemoteIpAddress?.ToString(), new Dictionary<string, string> { ["status"] = status.ToString(System.Globalization.CultureInfo.InvariantCulture) }),
                    CancellationToken.None);
            }
        }
    }
}

internal static class AuditHttpExtensions
{
    /// <summary>Tells the audit middleware that the handler recorded this call itself.</summary>
    public static void MarkAudited(this HttpContext http) => http.Items["medic.audited"] = true;
}
