namespace Medic.Server.Common;

/// <summary>
/// The loop of a periodic background service: one round every interval, the ticks coming from the
/// <see cref="TimeProvider"/> (so a test advances a fake clock instead of waiting). A round that
/// fails is reported and the next one still runs; the loop ends when the service stops.
/// </summary>
internal static class PeriodicRounds
{
    public static async Task RunAsync(TimeSpan interval, TimeProvider time, Func<CancellationToken, Task> round, Action<Exception> failed, CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(interval, time);
        while (await timer.WaitForNextTickAsync(stoppingToken))
        {
            try
            {
                await round(stoppingToken);
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                failed(ex);
            }
        }
    }
}
