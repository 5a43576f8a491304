using Microsoft.Extensions.DependencyInjection.Extensions;

namespace Medic.Server.Ai.Providers;

internal static class AiProvidersServices
{
    /// <summary>Model entries, the routes over them, usage and the monthly budget (docs/ai-providers.md).</summary>
    public static IServiceCollection AddAiProviders(this IServiceCollection services)
    {
        services.TryAddSingleton<ISecretReader, StoredSecrets>();
        services.AddSingleton<ChatClientCache>();
        services.AddSingleton<CircuitBreakers>();
        services.AddSingleton<AiModelStore>();
        services.AddSingleton<AiBudget>();
        services.AddSingleton<ChatModels>();
        return services;
    }
}
