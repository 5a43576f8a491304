using System.Globalization;
using Medic.Contracts;
using Medic.Server.Audit;
using Medic.Server.Auth;
using Medic.Server.Common;

namespace Medic.Server.Backup;

/// <summary>
/// <c>POST /api/v1/backup</c>: a consistent backup of the whole instance (every tenant, and the keys
/// the data needs), for superadmins, as an unencrypted tar the CLI encrypts as it receives it
/// (docs/backup.md; why there, docs/security.md). One backup at a time.
/// </summary>
internal static class BackupApi
{
    public const string ArchiveMediaType = "application/x-tar";

    public static IServiceCollection AddBackup(this IServiceCollection services)
    {
        services.AddSingleton<BackupSnapshot>();
        return services;
    }

    public static IEndpointRouteBuilder MapBackup(this IEndpointRouteBuilder app)
    {
        app.MapPost("/api/v1/backup", Create).WithTags("Backup").Requires(Permission.ManageTenants)
            .WithSummary("A consistent backup of the whole instance (database and keys) as a tar archive; superadmins. 'medic backup' encrypts it.");
        return app;
    }

    private static async Task<IResult> Create(HttpContext http, BackupSnapshot snapshot, AuditLog audit, CancellationToken ct)
    {
        var caller = Caller.From(http.User)!;
        if (!await snapshot.TryEnterAsync(ct))
        {
            return Problems.Conflict("A backup is already being written.", "wait for it to finish, then run 'medic backup' again");
        }

        string? work = null;
        try
        {
            work = snapshot.NewWorkDirectory();
            var (archive, manifest) = await snapshot.WriteAsync(work, ct);
            var length = new FileInfo(archive).Length;
            await audit.AppendAsync(new AuditRecord(caller.TenantId, caller.Actor, "backup.create", "instance", AuditOutcomes.Success,
                http.Connection.RemoteIpAddress?.ToString(), new Dictionary<string, string>
                {
                    ["dialect"] = manifest.Dialect,
                    ["bytes"] = length.ToString(CultureInfo.InvariantCulture),
                    ["files"] = manifest.Files.Count.ToString(CultureInfo.InvariantCulture),
                }), ct);
            http.MarkAudited();
            http.Response.ContentType = ArchiveMediaType;
            http.Response.ContentLength = length;
            http.Response.Headers.CacheControl = "no-store";
            await using (var file = new FileStream(archive, FileMode.Open, FileAccess.Read, FileShare.Read, 81920, FileOptions.Asynchronous | FileOptions.SequentialScan))
            {
                await file.CopyToAsync(http.Response.Body, ct);
            }

            return Results.Empty;
        }
        finally
        {
            if (work is not null && Directory.Exists(work)) Directory.Delete(work, recursive: true);
            snapshot.Exit();
        }
    }
}
