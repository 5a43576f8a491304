using Medic.Contracts;
using Medic.Server.Common;
using Medic.Server.Storage;
using Microsoft.AspNetCore.Http.HttpResults;

namespace Medic.Server.Hosting;

public static class HealthApi
{
    public static string Version => MedicVersion.Current;

    public static IEndpointRouteBuilder MapHealth(this IEndpointRouteBuilder app)
    {
        app.MapGet("/healthz", () => TypedResults.Ok(new HealthResponse("ok", Version)))
            .AllowAnonymous().WithTags("Health").WithSummary("Liveness: the process serves requests.");
        app.MapGet("/readyz", Ready)
            .AllowAnonymous().WithTags("Health").WithSummary("Readiness: the database answers, takes writes, and every migration is applied.");
        return app;
    }

    private static async Task<Results<Ok<ReadinessResponse>, JsonHttpResult<ReadinessResponse>>> Ready(Database db, Migrator migrator, WriteProbe probe, CancellationToken ct)
    {
        try
        {
            var status = await migrator.StatusAsync(ct);
            if (status.Pending.Count > 0)
            {
                return TypedResults.Json(
                    new ReadinessResponse("migrations pending", db.Dialect.Name, true, status.Applied, status.Known, Version,
                        $"migrations {string.Join(", ", status.Pending)} are not applied; restart the server to apply them"),
                    statusCode: StatusCodes.Status503ServiceUnavailable);
            }

            if (await probe.ProblemAsync(ct) is { } unwritable)
            {
                return TypedResults.Json(
                    new ReadinessResponse("database not writable", db.Dialect.Name, true, status.Applied, status.Known, Version, unwritable + " Remedy: " + StorageFaults.Remedy + "."),
                    statusCode: StatusCodes.Status503ServiceUnavailable);
            }

            return TypedResults.Ok(new ReadinessResponse("ready", db.Dialect.Name, true, status.Applied, status.Known, Version, null));
        }
        catch (Exception ex) when (ex is System.Data.Common.DbException or InvalidOperationException or TimeoutException)
        {
            return TypedResults.Json(
                new ReadinessResponse("database unreachable", db.Dialect.Name, false, 0, migrator.Known.Count, Version, ex.Message),
                statusCode: StatusCodes.Status503ServiceUnavailable);
        }
    }
}
