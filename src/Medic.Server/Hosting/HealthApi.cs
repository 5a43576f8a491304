using Medic.Contracts;
using Medic.Server.Storage;
using Microsoft.AspNetCore.Http.HttpResults;

namespace Medic.Server.Hosting;

public static class HealthApi
{
    public static string Version { get; } =
        typeof(HealthApi).Assembly.GetName().Version?.ToString(3) ?? "0.0.0";

    public static IEndpointRouteBuilder MapHealth(this IEndpointRouteBuilder app)
    {
        app.MapGet("/healthz", () => TypedResults.Ok(new HealthResponse("ok", Version)))
            .AllowAnonymous().WithTags("Health").WithSummary("Liveness: the process serves requests.");
        app.MapGet("/readyz", Ready)
            .AllowAnonymous().WithTags("Health").WithSummary("Readiness: the database answers and every migration is applied.");
        return app;
    }

    private static async Task<Results<Ok<ReadinessResponse>, JsonHttpResult<ReadinessResponse>>> Ready(Database db, Migrator migrator, CancellationToken ct)
    {
        try
        {
            var status = await migrator.StatusAsync(ct);
            var response = new ReadinessResponse(
                status.Pending.Count == 0 ? "ready" : "migrations pending", db.Dialect.Name, true, status.Applied, status.Known, Version,
                status.Pending.Count == 0 ? null : $"migrations {string.Join(", ", status.Pending)} are not applied; restart the server to apply them");
            return status.Pending.Count == 0 ? TypedResults.Ok(response) : TypedResults.Json(response, statusCode: StatusCodes.Status503ServiceUnavailable);
        }
        catch (Exception ex) when (ex is System.Data.Common.DbException or InvalidOperationException or TimeoutException)
        {
            return TypedResults.Json(
                new ReadinessResponse("database unreachable", db.Dialect.Name, false, 0, migrator.Known.Count, Version, ex.Message),
                statusCode: StatusCodes.Status503ServiceUnavailable);
        }
    }
}
