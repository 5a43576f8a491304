using Medic.Server.Detection.Checks;
using Medic.Server.Detection.Monitors;
using Medic.Server.Detection.Webhooks;

namespace Medic.Server.Detection;

internal static class DetectionServices
{
    /// <summary>The sources that feed incidents: early warning, scheduled checks, pushed monitors and agent events, alert webhooks.</summary>
    public static IServiceCollection AddDetection(this IServiceCollection services)
    {
        services.AddSingleton<EarlyWarningPatrol>();
        services.AddHostedService(sp => sp.GetRequiredService<EarlyWarningPatrol>());
        services.AddChecks();
        services.AddMonitors();
        services.AddWebhooks();
        return services;
    }
}
