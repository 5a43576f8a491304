using System.Net;
using System.Net.Sockets;
using Medic.Agent.Monitors;

namespace Medic.Agent.Tests.Monitors;

/// <summary>A clock the test moves by hand.</summary>
internal sealed class ManualTime(DateTimeOffset start) : TimeProvider
{
    private DateTimeOffset _now = start;

    public override DateTimeOffset GetUtcNow() => _now;

    public void Advance(TimeSpan by) => _now += by;
}

/// <summary>Keeps every monitor event, in order, and lets a test wait for one.</summary>
internal sealed class RecordingEvents : IMonitorEvents
{
    private readonly List<(string Kind, MonitorEvent Event)> _events = [];
    private readonly Lock _lock = new();

    public IReadOnlyList<(string Kind, MonitorEvent Event)> Events
    {
        get
        {
            lock (_lock) return [.. _events];
        }
    }

    public ValueTask OpenedAsync(MonitorEvent e, CancellationToken ct) => Add("opened", e);

    public ValueTask UpdatedAsync(MonitorEvent e, CancellationToken ct) => Add("updated", e);

    public ValueTask ResolvedAsync(MonitorEvent e, CancellationToken ct) => Add("resolved", e);

    private ValueTask Add(string kind, MonitorEvent e)
    {
        lock (_lock) _events.Add((kind, e));
        return ValueTask.CompletedTask;
    }

    public async Task<(string Kind, MonitorEvent Event)> WaitForAsync(Func<(string Kind, MonitorEvent Event), bool> match, TimeSpan timeout, int skip = 0)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (DateTime.UtcNow < deadline)
        {
            var found = Events.Where(match).Skip(skip).FirstOrDefault();
            if (found.Kind is not null) return found;
            await Task.Delay(25);
        }

        throw new TimeoutException($"no matching event within {timeout.TotalSeconds} s; events so far:\n{string.Join("\n", Events.Select(e => $"{e.Kind}: {e.Event.Title}"))}");
    }
}

/// <summary>The tiny HTTP service the healing tests supervise (tests/Medic.TestHttpService).</summary>
internal static class TestService
{
    public static string Dll { get; } = Path.Combine(AppContext.BaseDirectory, "medic-test-http.dll");

    public static string Dotnet { get; } = Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host ? host : "dotnet";

    public static IReadOnlyList<string> Argv(int port, params string[] extra) => [Dotnet, Dll, "--port", port.ToString(System.Globalization.CultureInfo.InvariantCulture), .. extra];

    public static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    public static async Task<bool> AnswersAsync(int port)
    {
        using var client = new HttpClient { Timeout = TimeSpan.FromSeconds(1) };
        try
        {
            using var response = await client.GetAsync($"http://127.0.0.1:{port}/");
            return response.IsSuccessStatusCode;
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
        {
            return false;
        }
    }

    public static async Task WaitUntilAsync(Func<Task<bool>> condition, TimeSpan timeout, string what)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (DateTime.UtcNow < deadline)
        {
            if (await condition()) return;
            await Task.Delay(50);
        }

        throw new TimeoutException($"{what} within {timeout.TotalSeconds} s");
    }
}
