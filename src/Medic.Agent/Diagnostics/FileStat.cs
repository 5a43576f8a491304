using System.Runtime.InteropServices;

namespace Medic.Agent.Diagnostics;

/// <summary>A file's inode number, from statx(2): its layout is fixed across architectures, unlike struct stat's.</summary>
internal static partial class FileStat
{
    private const int AtFdCwd = -100;
    private const uint StatxIno = 0x100;
    private const int InodeOffset = 32;

    /// <summary>The inode number of <paramref name="path"/> (links followed), or null when it cannot be read.</summary>
    public static long? Inode(string path)
    {
        var buffer = new byte[256];
        if (Native(AtFdCwd, path, 0, StatxIno, buffer) != 0)
        {
            return null;
        }
        var mask = MemoryMarshal.Read<uint>(buffer);
        return (mask & StatxIno) == 0 ? null : (long)MemoryMarshal.Read<ulong>(buffer.AsSpan(InodeOffset));
    }

    [LibraryImport("libc", EntryPoint = "statx", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int Native(int directoryFd, string path, int flags, uint mask, byte[] buffer);
}
