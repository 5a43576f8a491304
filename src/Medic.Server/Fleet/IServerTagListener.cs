namespace Medic.Server.Fleet;

/// <summary>
/// Told when a server's tags change, so what is chosen by tag (pushed monitors) can follow. Fleet
/// owns the tags; the capabilities that select servers by them implement this.
/// </summary>
internal interface IServerTagListener
{
    void TagsChanged(string tenantId);
}
