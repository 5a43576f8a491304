namespace Medic.Server.Incidents;

internal sealed class EventRow
{
    public long Seq { get; set; }
    public DateTimeOffset At { get; set; }
    public string Kind { get; set; } = "";
    public string Actor { get; set; } = "";
    public string Message { get; set; } = "";
    public string? Data { get; set; }
}
