namespace Medic.Server.Storage;

/// <summary>
/// Tells the job worker that a job is due now, so it runs at once rather than at the worker's next
/// poll. Whoever commits a job holds this, not the worker: a wake with nobody waiting is kept, once.
/// </summary>
internal sealed class JobSignal
{
    private readonly SemaphoreSlim _wake = new(0, 1);

    public void Wake()
    {
        try
        {
            _wake.Release();
        }
        catch (SemaphoreFullException)
        {
        }
    }

    internal Task<bool> WaitAsync(TimeSpan timeout, CancellationToken ct) => _wake.WaitAsync(timeout, ct);
}
