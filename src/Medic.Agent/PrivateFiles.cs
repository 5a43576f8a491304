using System.Text;

namespace Medic.Agent;

/// <summary>
/// How the agent keeps what only it may read (its credential, its state): directories 0700, files
/// 0600, written whole to a temporary file beside the target and renamed over it, so a crash
/// leaves the old content or the new, never half of one, and no moment where the file is wider open.
/// </summary>
internal static class PrivateFiles
{
    public const UnixFileMode DirectoryMode = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute;
    public const UnixFileMode FileMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;

    /// <summary>Creates <paramref name="directory"/> 0700, or narrows an existing one to 0700 (an older agent made it 0755) unless it is sticky.</summary>
    public static void EnsureDirectory(string directory)
    {
        if (!Directory.Exists(directory))
        {
            Directory.CreateDirectory(directory, DirectoryMode);
            return;
        }

        // A sticky directory (/tmp and the like) is shared on purpose: the files in it are still 0600.
        var mode = File.GetUnixFileMode(directory);
        if ((mode & ~DirectoryMode) != 0 && (mode & UnixFileMode.StickyBit) == 0) File.SetUnixFileMode(directory, DirectoryMode);
    }

    /// <summary>Narrows an existing file to 0600 (written by an older agent with the umask's mode).</summary>
    public static void Narrow(string path)
    {
        if (File.Exists(path) && (File.GetUnixFileMode(path) & ~FileMode) != 0) File.SetUnixFileMode(path, FileMode);
    }

    public static void WriteAtomic(string path, string text) => WriteAtomic(path, stream => stream.Write(Encoding.UTF8.GetBytes(text)));

    public static void WriteAtomic(string path, Action<Stream> write)
    {
        var temp = path + ".tmp-" + Environment.ProcessId;
        using (var stream = new FileStream(temp, new FileStreamOptions { Mode = System.IO.FileMode.Create, Access = FileAccess.Write, UnixCreateMode = FileMode }))
        {
            write(stream);
            stream.Flush(flushToDisk: true);
        }

        File.Move(temp, path, overwrite: true);
    }

    /// <summary>Opens <paramref name="path"/> for appending, creating it 0600.</summary>
    public static FileStream OpenAppend(string path) =>
        new(path, new FileStreamOptions { Mode = System.IO.FileMode.Append, Access = FileAccess.Write, UnixCreateMode = FileMode });
}
