using System.Globalization;

namespace Medic.Agent.Watch;

/// <summary>
/// Only one <c>medic watch</c> per watch file: an exclusive flock on <c>watch.lock</c> in its state
/// directory, held for the life of the process (the kernel drops it if the process dies). The
/// holder's pid goes to <c>watch.pid</c> beside it (a file .NET does not lock), so a second start
/// can say who holds it.
/// </summary>
internal sealed class WatchLock : IDisposable
{
    private readonly FileStream _stream;

    private WatchLock(FileStream stream, string path)
    {
        _stream = stream;
        FilePath = path;
    }

    public string FilePath { get; }

    public static WatchLock Acquire(string stateDir, string watchFile)
    {
        Directory.CreateDirectory(stateDir);
        var path = Path.Combine(stateDir, "watch.lock");
        FileStream stream;
        try
        {
            // FileShare.None makes .NET take flock(LOCK_EX | LOCK_NB) on the file: exactly the lock wanted.
            stream = new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
        }
        catch (IOException)
        {
            var holder = ReadHolder(Path.Combine(stateDir, "watch.pid"));
            throw new AgentException(
                $"another medic watch{(holder is null ? "" : $" (pid {holder})")} is already running for {watchFile} (lock {path})",
                holder is null ? "stop the other one first" : $"stop it first (kill {holder}), or watch another file");
        }

        File.WriteAllText(Path.Combine(stateDir, "watch.pid"), Environment.ProcessId.ToString(CultureInfo.InvariantCulture) + "\n");
        return new WatchLock(stream, path);
    }

    private static string? ReadHolder(string path)
    {
        try
        {
            var text = File.ReadAllText(path).Trim();
            return int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var pid) ? pid.ToString(CultureInfo.InvariantCulture) : null;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    public void Dispose() => _stream.Dispose();
}
