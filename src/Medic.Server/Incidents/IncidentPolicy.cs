namespace Medic.Server.Incidents;

/// <summary>How repeats and flapping are judged.</summary>
/// <param name="ReopenWindow">A problem that fires again this soon after its incident resolved reopens that incident instead of opening a new one.</param>
/// <param name="FlapChanges">This many open/resolve changes within <paramref name="FlapWindow"/> mark the incident flapping (notifications are damped).</param>
internal sealed record IncidentPolicy(TimeSpan ReopenWindow, int FlapChanges, TimeSpan FlapWindow)
{
    public static readonly IncidentPolicy Default = new(TimeSpan.FromHours(1), 4, TimeSpan.FromMinutes(30));

    /// <summary>Counts an open/resolve change toward flapping, within a sliding window started by the first change.</summary>
    internal void CountStateChange(IncidentRow row, DateTimeOffset at)
    {
        if (at - row.FlapWindowStart > FlapWindow)
        {
            row.FlapWindowStart = at;
            row.FlapChanges = 1;
        }
        else
        {
            row.FlapChanges++;
        }

        row.Flapping = row.FlapChanges >= FlapChanges;
    }
}
