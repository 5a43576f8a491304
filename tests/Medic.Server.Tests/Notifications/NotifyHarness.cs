using System.Text.Json;
using Medic.Contracts;
using Medic.Server.Audit;
using Medic.Server.Common;
using Medic.Server.Incidents;
using Medic.Server.Notifications;
using Medic.Server.Secrets;
using Medic.Server.Storage;
using Medic.Server.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Medic.Server.Tests.Notifications;

/// <summary>
/// The notification machinery wired as the server wires it, on a database of its own, with a clock
/// the test moves: incidents change through the real store, the planner turns each change into jobs,
/// and the test runs the job worker by hand (<see cref="RunJobsAsync"/>), so backoff and reminders need no waiting.
/// </summary>
internal sealed class NotifyHarness : IAsyncDisposable
{
    public const string Tenant = "ten_1";
    public static readonly DateTimeOffset Noon = new(2026, 11, 21, 12, 0, 0, TimeSpan.Zero);

    private readonly TempDirectory _dir;
    private readonly ServiceProvider _services;

    private NotifyHarness(TempDirectory dir, TestDatabase db, ServiceProvider services, ManualTime time, CapturedLogs logs)
    {
        Logs = logs;
        _dir = dir;
        Db = db;
        _services = services;
        Time = time;
    }

    public TestDatabase Db { get; }

    public ManualTime Time { get; }

    public CapturedLogs Logs { get; }

    public IncidentActions Incidents => _services.GetRequiredService<IncidentActions>();

    public IIncidentIngest Ingest => _services.GetRequiredService<IIncidentIngest>();

    public IncidentQueries Queries => _services.GetRequiredService<IncidentQueries>();

    public JobQueue Queue => _services.GetRequiredService<JobQueue>();

    public NotificationPlanner Planner => _services.GetRequiredService<NotificationPlanner>();

    public NotificationStore Store => _services.GetRequiredService<NotificationStore>();

    public DeliveryJobHandler Deliverer => _services.GetServices<IJobHandler>().OfType<DeliveryJobHandler>().Single();

    public static async Task<NotifyHarness> StartAsync(string dialect, int maxAttempts = 8)
    {
        var dir = new TempDirectory();
        var db = await TestDatabase.CreateAsync(dialect, dir.Path);
        await new Migrator(db.Database).ApplyAsync();
        await db.ExecuteAsync("INSERT INTO tenants (id, slug, name, created_at) VALUES ('ten_1', 'one', 'One', @at)", new { at = Noon });
        var time = new ManualTime(Noon);
        var options = new MedicOptions { DataDir = dir.Path, PublicUrl = "https://medic.example.com/", Notifications = { MaxAttempts = maxAttempts } };
        var services = new ServiceCollection();
        var logs = new CapturedLogs();
        services.AddLogging(l => l.AddProvider(logs).SetMinimumLevel(LogLevel.Debug));
        services.AddSingleton(Options.Create(options));
        services.AddSingleton<TimeProvider>(time);
        services.AddSingleton(db.Database);
        services.AddSingleton(MasterKey.LoadOrCreate(Path.Combine(dir.Path, "master.key"), null));
        services.AddSingleton<AuditLog>();
        services.AddIncidents();
        services.AddSingleton<JobQueue>();
        services.AddSingleton<JobWorker>();
        services.AddSingleton<SecretBox>();
        services.AddSingleton<SecretChanges>(); // channels may name a tenant's secret (secret:NAME)
        services.AddSingleton<SecretStore>();
        services.AddNotifications();
        return new NotifyHarness(dir, db, services.BuildServiceProvider(), time, logs);
    }

    /// <summary>Adds a channel the way the API stores it: settings in the clear, secrets sealed.</summary>
    public async Task<string> ChannelAsync(string name, string kind, string? url = null, string? secret = null, string? apiUrl = null, string? chatId = null,
        string? smtpHost = null, int? smtpPort = null, string? from = null, IReadOnlyList<string>? to = null)
    {
        var settings = new ChannelSettings { ApiUrl = apiUrl, ChatId = chatId, SmtpHost = smtpHost, SmtpPort = smtpPort, From = from, To = to?.ToList(), Target = name, StoredSecrets = [] };
        var row = new NotificationChannelRow
        {
            Id = "nch_" + name, TenantId = Tenant, Name = name, Kind = kind, CreatedBy = "user:admin", CreatedAt = Noon,
            Settings = JsonSerializer.Serialize(settings, NotificationJson.Default.ChannelSettings),
        };
        if (url is not null || secret is not null)
        {
            row.SealedSecrets = _services.GetRequiredService<SecretBox>().Seal(
                JsonSerializer.Serialize(new ChannelSecrets { Url = url, Secret = secret }, NotificationJson.Default.ChannelSecrets),
                NotificationChannelRow.SecretsAssociatedData(Tenant, row.Id));
        }

        await Db.Database.WriteAsync((c, tx) => NotificationStore.InsertChannelAsync(c, tx, row));
        return row.Id;
    }

    public async Task RuleAsync(string name, IReadOnlyList<string> channelIds, string minSeverity = "info", Dictionary<string, string>? labels = null,
        IReadOnlyList<string>? events = null, int renotifySeconds = 0, string renotifySeverity = "critical", string? source = null)
    {
        var row = new NotificationRuleRow
        {
            Id = "nrl_" + name, TenantId = Tenant, Name = name, MinSeverity = minSeverity,
            Labels = JsonSerializer.Serialize(labels ?? [], NotificationJson.Default.DictionaryStringString),
            Events = JsonSerializer.Serialize((events ?? NotificationEvents.Routable).ToList(), NotificationJson.Default.ListString),
            Channels = JsonSerializer.Serialize(channelIds.ToList(), NotificationJson.Default.ListString), RenotifySeconds = renotifySeconds,
            RenotifySeverity = renotifySeverity, Source = source, CreatedBy = "user:admin", CreatedAt = Noon,
        };
        await Db.Database.WriteAsync((c, tx) => NotificationStore.InsertRuleAsync(c, tx, row));
    }

    /// <summary>What the dispatcher does with one message of the live feed.</summary>
    public Task<int> ChangedAsync(string action, IncidentResponse incident) =>
        Db.Database.WriteAsync((c, tx) => Planner.PlanAsync(c, tx, Tenant, action, incident));

    public async Task<IncidentResponse> OpenAsync(string title, string severity = "critical", Dictionary<string, string>? labels = null)
    {
        var incident = await Incidents.CreateManualAsync(Tenant, "user:admin", null, new CreateIncidentRequest(title, severity, Labels: labels), null, default);
        await ChangedAsync("created", incident);
        return incident;
    }

    /// <summary>Runs due jobs until none is left; returns how many ran.</summary>
    public async Task<int> RunJobsAsync()
    {
        var worker = _services.GetRequiredService<JobWorker>();
        var total = 0;
        for (var round = 0; round < 50; round++)
        {
            var ran = await worker.RunOnceAsync(default);
            if (ran == 0) return total;
            total += ran;
        }

        throw new ShouldAssertException("jobs kept coming for 50 rounds");
    }

    public Task<IReadOnlyList<NotificationDeliveryResponse>> LogAsync(string? incidentId = null) => Store.DeliveriesAsync(Tenant, incidentId, 500, default);

    public async ValueTask DisposeAsync()
    {
        await _services.DisposeAsync();
        await Db.DisposeAsync();
        _dir.Dispose();
    }
}
