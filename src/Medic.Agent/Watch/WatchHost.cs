using Medic.Agent.Monitors;
using Medic.Contracts.Agent;

namespace Medic.Agent.Watch;

/// <summary>
/// <c>medic watch -f watch.yaml</c>: the agent's monitors and healing ladder on one machine with no
/// control plane: one instance per watch file (a lock), a log with rotation, a recovery report per
/// incident, and notifications. Runs until <paramref name="ct"/> is cancelled (SIGTERM, Ctrl-C).
/// </summary>
public static class WatchHost
{
    /// <summary>Checks the file and prints what it would watch; exit code 0 when it is valid.</summary>
    public static int Check(string path, TextWriter output)
    {
        var config = WatchConfig.Load(path);
        output.WriteLine($"{config.SourcePath}: {config.Monitors.Count} monitor{(config.Monitors.Count == 1 ? "" : "s")}");
        foreach (var m in config.Monitors)
        {
            var interval = m.IntervalSeconds ?? (m.Kind == MonitorKind.Process ? 1 : 15);
            output.WriteLine($"  {m.Name,-20} {MonitorText.Kind(m.Kind),-9} every {Units.Describe(interval)}{(m.Heal is null ? "" : $", heals (max {m.Heal.MaxRestarts} restarts in {Units.Describe(m.Heal.WindowSeconds)})")}");
        }

        output.WriteLine($"state: {config.StateDir}; reports: {config.ReportsDir}; log: {config.LogPath}");
        output.WriteLine($"notifications: {(config.Notify.Channels().Any() ? string.Join(", ", config.Notify.Channels()) : "none")}");
        output.WriteLine(config.Ai?.Describe() ?? "ai: none (the ladder's give-up goes to people as it is)");
        return 0;
    }

    public static Task<int> RunAsync(string path, TextWriter console, CancellationToken ct) => RunAsync(path, console, null, ct);

    /// <param name="diagnosis">Builds the AI rung's model side for an <c>ai:</c> section (the CLI's); null where none can run.</param>
    internal static async Task<int> RunAsync(string path, TextWriter console, Func<WatchAiConfig, IWatchDiagnosis>? diagnosis, CancellationToken ct)
    {
        var config = WatchConfig.Load(path);
        if (config.Ai is not null && diagnosis is null)
        {
            throw new AgentException($"{config.SourcePath}: this program cannot run the 'ai:' section", "run it with the medic CLI (medic watch -f FILE), or remove the 'ai:' section");
        }

        using var watchLock = WatchLock.Acquire(config.StateDir, config.SourcePath);
        using var log = new RotatingLog(config.LogPath, config.LogMaxBytes, config.LogFiles, console, TimeProvider.System);
        // One client for the life of the watch (no DI container here); the time limit is per request (ChannelDelivery.Timeout).
        using var http = new HttpClient(new SocketsHttpHandler { PooledConnectionLifetime = TimeSpan.FromMinutes(5) }) { Timeout = Timeout.InfiniteTimeSpan };
        http.DefaultRequestHeaders.UserAgent.Add(new System.Net.Http.Headers.ProductInfoHeaderValue("medic-watch", AgentProgram.Version));
        var notifiers = Notifiers(config.Notify, http);
        var host = Environment.MachineName;
        var healing = config.Monitors.Where(m => m.Heal is not null).Select(m => m.Name).ToHashSet(StringComparer.Ordinal);
        using var ai = config.Ai is { } aiConfig ? new WatchAiRung(aiConfig, diagnosis!(aiConfig), config.Monitors, Redactor(config.Secrets()), host, log.WriteLine) : null;
        var events = new WatchEvents(new RecoveryReports(config.ReportsDir, host), notifiers, config.Notify, healing, host, log.WriteLine, ai);
        var runner = new MonitorRunner(config.Monitors, events, TimeProvider.System, log.WriteLine, new MonitorRunnerOptions
        {
            OnOutputLine = (monitor, stream, line) => log.WriteLine($"{monitor} {stream}: {line}"),
        });
        if (ai is not null) ai.Retry = runner.RetryNowAsync;
        log.WriteLine($"medic watch {AgentProgram.Version} (pid {Environment.ProcessId}): {config.Monitors.Count} monitor(s) from {config.SourcePath}; reports in {config.ReportsDir}; log {config.LogPath}; notifications: {(notifiers.Count == 0 ? "none" : string.Join(", ", notifiers.Select(n => n.Name)))}{(config.Ai is { } a ? $"; AI diagnosis: {a.Provider} {a.Model}" : "")}");
        await runner.RunAsync(ct);
        if (ai is not null) await ai.StopAsync(TimeSpan.FromSeconds(5));
        await events.FlushAsync(TimeSpan.FromSeconds(10));
        log.WriteLine("medic watch: stopped");
        return 0;
    }

    /// <summary>Replaces every secret value (longest first) with [redacted].</summary>
    internal static Func<string, string> Redactor(IReadOnlyList<string> secrets) => text =>
    {
        foreach (var secret in secrets) text = text.Replace(secret, "[redacted]", StringComparison.Ordinal);
        return text;
    };

    internal static List<INotifier> Notifiers(NotifyConfig notify, HttpClient http)
    {
        var notifiers = new List<INotifier>();
        if (notify.Webhook is { } webhook) notifiers.Add(new WebhookNotifier(http, webhook));
        if (notify.SlackWebhookUrl is { } slack) notifiers.Add(new SlackNotifier(http, slack));
        if (notify.DiscordWebhookUrl is { } discord) notifiers.Add(new DiscordNotifier(http, discord));
        if (notify.Telegram is { } telegram) notifiers.Add(new TelegramNotifier(http, telegram));
        if (notify.Email is { } email) notifiers.Add(new EmailNotifier(email));
        return notifiers;
    }
}
