using System.Globalization;

namespace Medic.Agent.Watch;

/// <summary>
/// Only one <c>medic watch</c> per watch file: an exclusive flock on <c>watch.lock</c> in its state
/// directory, held for the life of the process (the kernel drops it if the process dies), with the
/// holder's pid written inside so a second start can say who holds it.
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
            var holder = ReadHolder(path);
            throw new AgentException(
                $"another medic watch{(holder is null ? "" : $" (pid {holder})")} is already running for {watchFile} (lock {path})",
                holder is null ? "stop the other one first" : $"stop it first (kill {holder}), or watch another file");
        }

        stream.SetLength(0);
        var pid = Environment.ProcessId.ToString(CultureInfo.InvariantCulture) + "\n";
        stream.Write(System.Text.Encoding.ASCII.GetBytes(pid));
        stream.Flush();
        return new WatchLock(stream, path);
    }

    /// <summary>Reads the pid without locking: opened for writing with sharing, .NET takes no flock.</summary>
    private static string? ReadHolder(string path)
    {
        try
        {
            using var stream = new FileStream(path, FileMode.Open, FileAccess.ReadWrite, FileShare.ReadWrite);
            using var reader = new StreamReader(stream);
            var text = reader.ReadToEnd().Trim();
            return int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var pid) ? pid.ToString(CultureInfo.InvariantCulture) : null;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    public void Dispose() => _stream.Dispose();
}
