using Medic.Agent.Host;

namespace Medic.Agent.Tests.Host;

/// <summary>A throwaway directory laid out like /proc, /etc and /run, for pointing the readers at fixtures.</summary>
internal sealed class HostFixture : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("medic-host-").FullName;

    public HostFixture() => Paths = new HostPaths(Proc: Path.Combine(_root, "proc"), Etc: Path.Combine(_root, "etc"), Run: Path.Combine(_root, "run"));

    public HostPaths Paths { get; }

    public HostFixture WithProc(string relativePath, string text) => Write(Path.Combine(Paths.Proc, relativePath), text);

    public HostFixture WithEtc(string relativePath, string text) => Write(Path.Combine(Paths.Etc, relativePath), text);

    public HostFixture WithRunDirectory(string relativePath)
    {
        Directory.CreateDirectory(Path.Combine(Paths.Run, relativePath));
        return this;
    }

    public void Dispose() => Directory.Delete(_root, recursive: true);

    private HostFixture Write(string path, string text)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllText(path, text);
        return this;
    }
}
