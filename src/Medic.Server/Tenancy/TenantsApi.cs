using Medic.Contracts;
using Medic.Server.Auth;
using Medic.Server.Audit;
using Medic.Server.Common;
using Microsoft.AspNetCore.Http.HttpResults;

namespace Medic.Server.Tenancy;

/// <summary>Tenants are managed by superadmins. Creating one can create its first admin in the same step.</summary>
internal static class TenantsApi
{
    public static IServiceCollection AddTenancy(this IServiceCollection services)
    {
        services.AddSingleton<TenantStore>();
        services.AddSingleton<TenantMetrics>();
        services.AddSingleton<IScrapeReading>(sp => sp.GetRequiredService<TenantMetrics>());
        return services;
    }

    public static IEndpointRouteBuilder MapTenants(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/api/v1/tenants").WithTags("Tenants").Requires(Permission.ManageTenants);
        group.MapGet("/", List).WithSummary("All tenants (superadmins).");
        group.MapGet("/{slug}", Get).WithSummary("One tenant by slug (superadmins).");
        group.MapPost("/", Create).WithSummary("Create a tenant, optionally with its first admin (superadmins).");
        return app;
    }

    private static async Task<Ok<IReadOnlyList<TenantResponse>>> List(TenantStore tenants, CancellationToken ct) =>
        TypedResults.Ok<IReadOnlyList<TenantResponse>>((await tenants.ListAsync(ct)).Select(t => t.ToResponse()).ToList());

    private static async Task<Results<Ok<TenantResponse>, ProblemHttpResult>> Get(string slug, TenantStore tenants, CancellationToken ct) =>
        await tenants.FindBySlugAsync(slug, ct) is { } t ? TypedResults.Ok(t.ToResponse()) : Problems.NotFound("tenant", slug, "medic tenants list");

    private static async Task<Results<Created<TenantCreatedResponse>, ProblemHttpResult, ValidationProblem>> Create(
        CreateTenantRequest request, Accounts accounts, HttpContext http, CancellationToken ct)
    {
        var v = new Validator()
            .Require("slug", request.Slug, 40)
            .Optional("name", request.Name, 200)
            .Optional("admin_username", request.AdminUsername, 64)
            .Optional("admin_password", request.AdminPassword, 1000);
        if (!string.IsNullOrEmpty(request.Slug)) v.Check(TenantStore.IsValidSlug(request.Slug), "slug", "use 1-40 lowercase letters, digits and '-', not starting or ending with '-'");
        if (request.AdminUsername is not null) v.Check(UsersApi.UsernamePattern().IsMatch(request.AdminUsername), "admin_username", "may hold letters, digits, '.', '_', '@' and '-'");
        if (request.AdminPassword is not null) v.Check(request.AdminUsername is not null, "admin_password", "is only used with admin_username");
        if (request.AdminPassword is not null) v.Check(request.AdminPassword.Length >= 12, "admin_password", "must be at least 12 characters");
        if (!v.Ok) return v.Problem();

        var caller = http.Caller();
        var generated = request.AdminUsername is not null && request.AdminPassword is null ? Ids.Password() : null;
        try
        {
            var (tenant, admin) = await accounts.CreateTenantAsync(request.Slug, request.Name ?? request.Slug, request.AdminUsername,
                request.AdminPassword ?? generated, adminIsSuperadmin: false, caller.Actor, http.ClientAddress(), ct);
            http.MarkAudited();
            return TypedResults.Created($"/api/v1/tenants/{tenant.Slug}", new TenantCreatedResponse(tenant.ToResponse(), admin?.ToResponse(), generated));
        }
        catch (DuplicateException ex)
        {
            return Problems.Conflict(ex.Message, "choose another slug; 'medic tenants list' shows the ones taken");
        }
    }
}
