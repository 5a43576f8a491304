using System.Runtime.InteropServices;

namespace Medic.Agent.Diagnostics;

/// <summary>
/// A file's inode number and size from statx(2), links followed (so /proc/PID/fd/N gives the open
/// file, which FileInfo does not): statx's layout is fixed across architectures, unlike struct stat's.
/// </summary>
internal static partial class FileStat
{
    private const int AtFdCwd = -100;
    private const uint StatxIno = 0x100;
    private const uint StatxSize = 0x200;
    private const int InodeOffset = 32;
    private const int SizeOffset = 40;

    /// <summary>The inode number of <paramref name="path"/>, or null when it cannot be read.</summary>
    public static long? Inode(string path) => Field(path, StatxIno, InodeOffset);

    /// <summary>The size in bytes of <paramref name="path"/>, or null when it cannot be read.</summary>
    public static long? Size(string path) => Field(path, StatxSize, SizeOffset);

    private static long? Field(string path, uint want, int offset)
    {
        var buffer = new byte[256];
        if (Native(AtFdCwd, path, 0, want, buffer) != 0)
        {
            return null;
        }
        var mask = MemoryMarshal.Read<uint>(buffer);
        return (mask & want) == 0 ? null : (long)MemoryMarshal.Read<ulong>(buffer.AsSpan(offset));
    }

    [LibraryImport("libc", EntryPoint = "statx", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int Native(int directoryFd, string path, int flags, uint mask, byte[] buffer);
}
