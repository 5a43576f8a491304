using Medic.Server.Common;

namespace Medic.Server.Storage;

internal static class StorageServices
{
    /// <summary>The database, its migrations, the write probe behind <c>/readyz</c> and the job queue with its worker.</summary>
    public static IServiceCollection AddStorage(this IServiceCollection services, MedicOptions options)
    {
        services.AddSingleton(_ => Database.FromUrl(options.DatabaseUrl));
        services.AddSingleton<Migrator>();
        services.AddSingleton<WriteProbe>();
        services.AddSingleton<JobQueue>();
        services.AddSingleton<JobSignal>();
        services.AddSingleton<JobWorker>();
        services.AddHostedService(sp => sp.GetRequiredService<JobWorker>());
        return services;
    }
}
