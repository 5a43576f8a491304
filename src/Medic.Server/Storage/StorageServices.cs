using Medic.Server.Common;

namespace Medic.Server.Storage;

internal static class StorageServices
{
    /// <summary>The database, its migrations, the write probe behind <c>/readyz</c>, the job queue with its worker, and their metrics.</summary>
    public static IServiceCollection AddStorage(this IServiceCollection services, MedicOptions options)
    {
        services.AddSingleton(sp => StorageMetrics.Measured(Database.FromUrl(options.DatabaseUrl), sp.GetRequiredService<MedicMeter>()));
        services.AddSingleton<Migrator>();
        services.AddSingleton<WriteProbe>();
        services.AddSingleton<JobQueue>();
        services.AddSingleton<JobSignal>();
        services.AddSingleton<JobWorker>();
        services.AddHostedService(sp => sp.GetRequiredService<JobWorker>());
        services.AddSingleton<StorageMetrics>();
        services.AddSingleton<IScrapeReading>(sp => sp.GetRequiredService<StorageMetrics>());
        return services;
    }
}
