namespace Medic.Server.Incidents;

internal sealed class OccurrenceRow
{
    public string Occurrence { get; set; } = "";
    public bool Firing { get; set; }
    public int SignalCount { get; set; }
    public DateTimeOffset FirstSeenAt { get; set; }
    public DateTimeOffset LastSeenAt { get; set; }
}
