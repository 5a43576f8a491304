using System.Text;

namespace Medic.Contracts;

/// <summary>
/// How Medic keeps what only its own user may read (the agent's credential and state, the server's
/// keys, the CLI's session): directories 0700, files 0600, written whole to a temporary file beside
/// the target and renamed over it, so a crash leaves the old content or the new, never half of one,
/// and no moment where the file is wider open.
/// </summary>
public static class PrivateFiles
{
    public const UnixFileMode DirectoryMode = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute;
    public const UnixFileMode FileMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;

    /// <summary>Creates <paramref name="directory"/> 0700 when it is missing; an existing one is left as its owner set it.</summary>
    public static void CreateDirectory(string directory)
    {
        if (!Directory.Exists(directory)) Directory.CreateDirectory(directory, DirectoryMode);
    }

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

    /// <summary>True when a group or other user may read or write <paramref name="path"/> (a key file must then be refused).</summary>
    public static bool IsOpenToOthers(string path) =>
        (File.GetUnixFileMode(path) & (UnixFileMode.GroupRead | UnixFileMode.GroupWrite | UnixFileMode.OtherRead | UnixFileMode.OtherWrite)) != 0;

    public static void WriteAtomic(string path, string text) => WriteAtomic(path, stream => stream.Write(Encoding.UTF8.GetBytes(text)));

    public static void WriteAtomic(string path, Action<Stream> write) => Write(path, write, overwrite: true);

    /// <summary>
    /// Writes a new file atomically, 0600, in a 0700 directory it creates if missing; throws
    /// <see cref="IOException"/> when the file already exists (a second process created it first).
    /// </summary>
    public static void CreateNew(string path, string text)
    {
        CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
        Write(path, stream => stream.Write(Encoding.UTF8.GetBytes(text)), overwrite: false);
    }

    private static void Write(string path, Action<Stream> write, bool overwrite)
    {
        var temp = path + ".tmp-" + Environment.ProcessId;
        try
        {
            using (var stream = new FileStream(temp, new FileStreamOptions { Mode = System.IO.FileMode.Create, Access = FileAccess.Write, UnixCreateMode = FileMode }))
            {
                write(stream);
                stream.Flush(flushToDisk: true);
            }

            File.Move(temp, path, overwrite);
        }
        finally
        {
            File.Delete(temp);
        }
    }

    /// <summary>Opens <paramref name="path"/> for appending, creating it 0600.</summary>
    public static FileStream OpenAppend(string path) =>
        new(path, new FileStreamOptions { Mode = System.IO.FileMode.Append, Access = FileAccess.Write, UnixCreateMode = FileMode });
}
