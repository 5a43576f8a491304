using Medic.Server.Incidents;

namespace Medic.Server.Web.Shared;

/// <summary>How a page stays live: a period for polling, and whether incident changes of the tenant trigger a refresh.</summary>
internal sealed record LiveOptions(TimeSpan? Every, IncidentFeed? Incidents = null, string? TenantId = null);

/// <summary>
/// Calls a page's refresh on a timer and on the tenant's incident feed, at most once per
/// <see cref="MinimumGap"/> (a burst of incident changes makes one refresh), until disposed.
/// </summary>
internal sealed class LiveRefresh : IAsyncDisposable
{
    public static readonly TimeSpan MinimumGap = TimeSpan.FromMilliseconds(500);

    private readonly CancellationTokenSource _stop = new();
    private readonly SemaphoreSlim _wake = new(0);
    private readonly Task _loop;
    private readonly List<Task> _sources = [];

    public LiveRefresh(LiveOptions options, Func<Task> refresh)
    {
        if (options.Every is { } every) _sources.Add(TickAsync(every));
        if (options.Incidents is { } feed && options.TenantId is { } tenant) _sources.Add(FollowAsync(feed, tenant));
        _loop = RunAsync(refresh);
    }

    private async Task TickAsync(TimeSpan every)
    {
        using var timer = new PeriodicTimer(every);
        try
        {
            while (await timer.WaitForNextTickAsync(_stop.Token)) _wake.Release();
        }
        catch (OperationCanceledException)
        {
        }
    }

    private async Task FollowAsync(IncidentFeed feed, string tenantId)
    {
        using var subscription = feed.Subscribe(tenantId);
        try
        {
            await foreach (var _ in subscription.Reader.ReadAllAsync(_stop.Token)) _wake.Release();
        }
        catch (OperationCanceledException)
        {
        }
    }

    private async Task RunAsync(Func<Task> refresh)
    {
        try
        {
            while (!_stop.IsCancellationRequested)
            {
                await _wake.WaitAsync(_stop.Token);
                await Task.Delay(MinimumGap, _stop.Token);
                while (_wake.CurrentCount > 0) await _wake.WaitAsync(_stop.Token); // coalesce the burst
                try
                {
                    await refresh();
                }
                catch (Exception ex) when (ex is not (OperationCanceledException or ObjectDisposedException))
                {
                    // A failed read (the database busy or down) keeps the last data on screen; the next wake-up tries again.
                }
            }
        }
        catch (OperationCanceledException)
        {
        }
        catch (ObjectDisposedException)
        {
            // The circuit went away between the wake-up and the render.
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        await Task.WhenAll([_loop, .. _sources]);
        _stop.Dispose();
        _wake.Dispose();
    }
}
