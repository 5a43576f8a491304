namespace Medic.Server.Secrets;

internal static class SecretsServices
{
    /// <summary>The master key (from its file or <c>MEDIC_MASTER_KEY</c>) and the box that seals secrets with it.</summary>
    public static IServiceCollection AddSecrets(this IServiceCollection services, string masterKeyPath)
    {
        services.AddSingleton(_ => MasterKey.LoadOrCreate(masterKeyPath, Environment.GetEnvironmentVariable("MEDIC_MASTER_KEY")));
        services.AddSingleton<SecretBox>();
        return services;
    }
}
