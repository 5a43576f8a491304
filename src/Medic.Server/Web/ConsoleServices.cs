using Microsoft.AspNetCore.Components.Authorization;
using Radzen;

namespace Medic.Server.Web;

/// <summary>The console's services and endpoints.</summary>
internal static class ConsoleServices
{
    public const string ThemeCookie = "medic.theme";

    public static IServiceCollection AddConsole(this IServiceCollection services)
    {
        services.AddRazorComponents().AddInteractiveServerComponents(o => o.DetailedErrors = false);
        services.AddCascadingAuthenticationState();
        services.AddScoped<AuthenticationStateProvider, SessionRevalidation>();
        services.AddScoped<Shared.ConsoleApi>();
        services.AddRadzenComponents();
        services.AddRadzenCookieThemeService(o =>
        {
            o.Name = ThemeCookie;
            o.Duration = TimeSpan.FromDays(365);
        });
        return services;
    }

    /// <summary>The console's static files (when the build wrote their manifest beside the host) and its pages.</summary>
    public static IEndpointRouteBuilder MapConsolePages(this WebApplication app)
    {
        // A host without the manifest (an in-process test server) serves the pages without their scripts and styles.
        var manifest = Path.Combine(AppContext.BaseDirectory, app.Environment.ApplicationName + ".staticwebassets.endpoints.json");
        if (File.Exists(manifest)) app.MapStaticAssets(manifest).AllowAnonymous();
        app.MapRazorComponents<App>().AddInteractiveServerRenderMode();
        return app;
    }
}
