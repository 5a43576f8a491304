using System.Globalization;
using System.Text;
using Medic.Contracts;
using Medic.Server.Auth;
using Medic.Server.Common;
using Medic.Server.Incidents;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Net.Http.Headers;

namespace Medic.Server.Reports;

/// <summary><c>GET /api/v1/incidents/{id}/report</c>: an incident's report as JSON, or as Markdown with <c>?format=markdown</c> or <c>Accept: text/markdown</c>.</summary>
internal static class IncidentReportsApi
{
    public static IServiceCollection AddReports(this IServiceCollection services)
    {
        services.AddSingleton<IncidentReports>();
        return services;
    }

    public const string MarkdownType = "text/markdown";

    public static IEndpointRouteBuilder MapIncidentReports(this IEndpointRouteBuilder app)
    {
        app.MapGroup("/api/v1/incidents").WithTags("Incidents")
            .MapGet("/{id}/report", Get).Requires(Permission.Read)
            .Produces<string>(StatusCodes.Status200OK, MarkdownType)
            .WithSummary("The incident's report: timeline, evidence, what ran and its output, approvals, audit entries, outcome and durations. " +
                "JSON by default; format=markdown (or Accept: text/markdown) for Markdown.");
        return app;
    }

    private static async Task<Results<Ok<IncidentReport>, ContentHttpResult, ProblemHttpResult>> Get(
        string id, string? format, IncidentReports reports, HttpContext http, CancellationToken ct)
    {
        bool markdown;
        switch (format?.Trim().ToLowerInvariant())
        {
            case null or "":
                markdown = PrefersMarkdown(http.Request.Headers.Accept);
                break;
            case "json":
                markdown = false;
                break;
            case "markdown" or "md":
                markdown = true;
                break;
            default:
                return Problems.Invalid($"format '{Texts.Truncate(format!, 40)}' is not one of json, markdown.",
                    "leave format out (or format=json) for JSON, or use format=markdown (or the header Accept: text/markdown) for Markdown");
        }

        var report = await reports.BuildAsync(http.Caller().TenantId, id, ct);
        if (report is null) return Problems.NotFound("incident", id, "medic incidents list");
        return markdown ? TypedResults.Text(IncidentReportMarkdown.Render(report), MarkdownType + "; charset=utf-8") : TypedResults.Ok(report);
    }

    /// <summary>Markdown when the client ranks text/markdown above JSON (or names only it); JSON otherwise, and for an Accept header that does not parse.</summary>
    internal static bool PrefersMarkdown(IList<string>? accept)
    {
        if (accept is null || accept.Count == 0 || !MediaTypeHeaderValue.TryParseList(accept, out var types)) return false;
        foreach (var type in types.Where(t => t.Quality is not 0.0).OrderByDescending(t => t.Quality ?? 1))
        {
            if (type.MediaType.Equals(MarkdownType, StringComparison.OrdinalIgnoreCase)) return true;
            if (type.MediaType.Equals("application/json", StringComparison.OrdinalIgnoreCase) || type.MatchesAllTypes || type.MediaType.Equals("application/*", StringComparison.OrdinalIgnoreCase)) return false;
        }

        return false;
    }
}
