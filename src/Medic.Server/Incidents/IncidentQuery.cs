namespace Medic.Server.Incidents;

internal sealed record IncidentQuery(
    string? Status = null,
    string? Severity = null,
    string? Server = null,
    string? Source = null,
    DateTimeOffset? Since = null,
    string? Before = null,
    int Limit = 50,
    string? Text = null);
