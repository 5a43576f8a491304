namespace Medic.Server.Secrets;

internal static class SecretsServices
{
    /// <summary>The master key (from its file or <c>MEDIC_MASTER_KEY</c>), the box that seals secrets with it, the tenants' named secrets and their redaction.</summary>
    public static IServiceCollection AddSecrets(this IServiceCollection services, string masterKeyPath)
    {
        services.AddSingleton(_ => MasterKey.LoadOrCreate(masterKeyPath, Environment.GetEnvironmentVariable("MEDIC_MASTER_KEY")));
        services.AddSingleton<SecretBox>();
        services.AddSingleton<SecretChanges>();
        services.AddSingleton<SecretStore>();
        services.AddSingleton<SecretRedactor>();
        return services;
    }
}
