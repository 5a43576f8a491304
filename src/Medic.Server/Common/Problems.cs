using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;

namespace Medic.Server.Common;

/// <summary>
/// RFC 9457 problem details with one extra member, <c>remedy</c>: what the caller can do about it.
/// Every 4xx Medic returns goes through here or through the framework's problem details service.
/// </summary>
internal static class Problems
{
    public static ProblemHttpResult Of(int status, string title, string detail, string remedy) =>
        TypedResults.Problem(detail: detail, statusCode: status, title: title, extensions: new Dictionary<string, object?> { ["remedy"] = remedy });

    public static ProblemHttpResult NotFound(string what, string id, string listCommand) =>
        Of(StatusCodes.Status404NotFound, "Not found", $"No {what} '{id}' exists in this tenant.", $"run '{listCommand}' to see valid ids");

    public static ProblemHttpResult Conflict(string detail, string remedy) => Of(StatusCodes.Status409Conflict, "Conflict", detail, remedy);

    public static ProblemHttpResult Invalid(string detail, string remedy) => Of(StatusCodes.Status400BadRequest, "Invalid request", detail, remedy);

    public static ValidationProblem Validation(Dictionary<string, string[]> errors) =>
        TypedResults.ValidationProblem(errors, detail: "One or more fields are invalid: " + string.Join("; ", errors.Select(e => $"{e.Key}: {string.Join(", ", e.Value)}")),
            title: "Invalid request", extensions: new Dictionary<string, object?> { ["remedy"] = "correct the fields named in 'errors' and send the request again" });

    public static async Task WriteAsync(HttpContext context, int status, string title, string detail, string remedy)
    {
        context.Response.StatusCode = status;
        var service = context.RequestServices.GetRequiredService<IProblemDetailsService>();
        await service.WriteAsync(new ProblemDetailsContext
        {
            HttpContext = context,
            ProblemDetails = new ProblemDetails
            {
                Status = status,
                Title = title,
                Detail = detail,
                Extensions = { ["remedy"] = remedy },
            },
        });
    }
}

/// <summary>Collects field errors so a handler can answer all of them at once.</summary>
internal sealed class Validator
{
    // PostgreSQL cannot store a NUL character in text; refusing it here keeps both dialects' answers a 400.
    public const string NulMessage = "contains a NUL character (\\u0000), which text fields cannot hold";

    private readonly Dictionary<string, List<string>> _errors = [];

    public bool Ok => _errors.Count == 0;

    public Validator Require(string field, string? value, int maxLength)
    {
        if (string.IsNullOrWhiteSpace(value)) Add(field, "is required");
        else if (value.Length > maxLength) Add(field, $"is {value.Length} characters long; the limit is {maxLength}");
        else if (value.Contains('\0', StringComparison.Ordinal)) Add(field, NulMessage);
        return this;
    }

    public Validator Optional(string field, string? value, int maxLength)
    {
        if (value is not null && value.Length > maxLength) Add(field, $"is {value.Length} characters long; the limit is {maxLength}");
        else if (value is not null && value.Contains('\0', StringComparison.Ordinal)) Add(field, NulMessage);
        return this;
    }

    public Validator Check(bool condition, string field, string message)
    {
        if (!condition) Add(field, message);
        return this;
    }

    public void Add(string field, string message)
    {
        if (!_errors.TryGetValue(field, out var list)) _errors[field] = list = [];
        list.Add(message);
    }

    public ValidationProblem Problem() => Problems.Validation(_errors.ToDictionary(e => e.Key, e => e.Value.ToArray()));
}
