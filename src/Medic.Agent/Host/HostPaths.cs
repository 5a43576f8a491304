namespace Medic.Agent.Host;

/// <summary>
/// The roots the host readers read from. Tests point them at fixture directories; statvfs is
/// always called on the real mount path named in the mounts table.
/// </summary>
internal sealed record HostPaths(string Proc = "/proc", string Etc = "/etc", string Run = "/run")
{
    public static HostPaths Default { get; } = new();
}
