using Medic.Contracts;
using Medic.Server.Audit;
using Medic.Server.Auth;
using Medic.Server.Common;
using Microsoft.AspNetCore.Http.HttpResults;

namespace Medic.Server.Silences;

/// <summary>Silences: label matchers over a time range; a silenced signal is recorded on its incident but starts no pipeline and notifies nobody.</summary>
internal static class SilencesApi
{
    public const int MaxMatchers = 20;
    public static readonly TimeSpan MaxLength = TimeSpan.FromDays(366);

    public static IServiceCollection AddSilences(this IServiceCollection services)
    {
        services.AddSingleton<SilenceStore>();
        services.AddSingleton<ISilences>(sp => sp.GetRequiredService<SilenceStore>());
        return services;
    }

    public static IEndpointRouteBuilder MapSilences(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/api/v1/silences").WithTags("Silences");
        group.MapGet("/", List).Requires(Permission.Read).WithSummary("The tenant's silences, newest first; ?state=pending|active|expired filters.");
        group.MapGet("/{id}", Get).Requires(Permission.Read).WithSummary("One silence.");
        group.MapPost("/", Create).Requires(Permission.Operate).WithSummary("Silence the signals whose labels match every matcher, from starts_at (default now) until ends_at or for a duration.");
        group.MapPost("/{id}/expire", Expire).Requires(Permission.Operate).WithSummary("End the silence now.");
        return app;
    }

    private static async Task<Results<Ok<IReadOnlyList<SilenceResponse>>, ProblemHttpResult>> List(string? state, int? limit, SilenceStore silences, HttpContext http, CancellationToken ct)
    {
        SilenceState? wanted = null;
        if (state is not null && state != "all")
        {
            if (!StateText.TryParse<SilenceState>(state, out var parsed))
            {
                return Problems.Invalid($"No silence state '{Clip(state)}'.", "use state=pending, active, expired or all");
            }

            wanted = parsed;
        }

        if (limit is < 1 or > 1000) return Problems.Invalid("limit must be between 1 and 1000.", "ask for at most 1000 silences");
        return TypedResults.Ok(await silences.ListAsync(http.Caller().TenantId, wanted, limit ?? 500, ct));
    }

    private static async Task<Results<Ok<SilenceResponse>, ProblemHttpResult>> Get(string id, SilenceStore silences, HttpContext http, CancellationToken ct) =>
        await silences.GetAsync(http.Caller().TenantId, id, ct) is { } silence ? TypedResults.Ok(silence) : Problems.NotFound("silence", Clip(id), "medic silences list");

    private static async Task<Results<Created<SilenceResponse>, ValidationProblem>> Create(CreateSilenceRequest request, SilenceStore silences, TimeProvider time, HttpContext http, CancellationToken ct)
    {
        var now = time.GetUtcNow();
        var v = new Validator().Require("comment", request.Comment, 1000);
        var matchers = request.Matchers ?? [];
        v.Check(matchers.Count is >= 1 and <= MaxMatchers, "matchers", $"give 1 to {MaxMatchers} label matchers, such as {{\"name\":\"alertname\",\"op\":\"=\",\"value\":\"DiskFull\"}}");
        for (var i = 0; i < matchers.Count && i < MaxMatchers; i++)
        {
            var m = matchers[i];
            var field = $"matchers[{i}]";
            v.Require(field + ".name", m.Name, 200).Optional(field + ".value", m.Value, 1000);
            v.Check(m.Value is not null, field + ".value", "is required (the empty string matches a missing label)");
            v.Check(SilenceOps.All.Contains(m.Op), field + ".op", "use =, !=, =~ or !~");
            if (m.Op is SilenceOps.Regex or SilenceOps.NotRegex && m.Value is not null && SilenceMatcherRules.PatternProblem(m.Value) is { } problem)
            {
                v.Add(field + ".value", "is not a valid regular expression: " + problem);
            }
        }

        // As Alertmanager: a silence whose every matcher matches an empty label would silence nearly everything.
        if (v.Ok && matchers.All(m => SilenceMatcherRules.Matches(m, "")))
        {
            v.Add("matchers", "at least one matcher must not match the empty value (such as alertname=\"DiskFull\"), or the silence would cover nearly every signal");
        }

        var startsAt = request.StartsAt ?? now;
        DateTimeOffset endsAt = default;
        if (request.EndsAt is not null && request.Duration is not null)
        {
            v.Add("ends_at", "give ends_at or duration, not both");
        }
        else if (request.EndsAt is { } end)
        {
            endsAt = end;
        }
        else if (request.Duration is not null && Durations.TryParse(request.Duration, out var duration) && duration > TimeSpan.Zero)
        {
            endsAt = startsAt + duration;
        }
        else
        {
            v.Add(request.Duration is null ? "ends_at" : "duration", request.Duration is null ? "give ends_at or a duration such as 2h" : $"is not a duration; {Duration.Hint}");
        }

        if (endsAt != default)
        {
            v.Check(endsAt > startsAt, "ends_at", "must be after the start");
            v.Check(endsAt > now, "ends_at", "must be in the future");
            v.Check(endsAt - startsAt <= MaxLength, "ends_at", "a silence lasts at most 366 days");
        }

        if (!v.Ok) return v.Problem();
        var caller = http.Caller();
        var created = await silences.CreateAsync(caller.TenantId, matchers, startsAt, endsAt, request.Comment.Trim(), caller.Actor, http.ClientAddress(), ct);
        http.MarkAudited();
        return TypedResults.Created($"/api/v1/silences/{created.Id}", created);
    }

    private static async Task<Results<Ok<SilenceResponse>, ProblemHttpResult>> Expire(string id, SilenceStore silences, HttpContext http, CancellationToken ct)
    {
        var caller = http.Caller();
        var (silence, refusal) = await silences.ExpireAsync(caller.TenantId, id, caller.Actor, http.ClientAddress(), ct);
        if (silence is null) return Problems.NotFound("silence", Clip(id), "medic silences list");
        if (refusal is not null) return Problems.Conflict(refusal, "nothing to do: the silence no longer applies; 'medic silences add' creates a new one");
        http.MarkAudited();
        return TypedResults.Ok(silence);
    }

    private static string Clip(string text) => text.Length <= 80 ? text : text[..80] + "…";
}
