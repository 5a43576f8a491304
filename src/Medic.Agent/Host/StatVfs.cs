using System.Runtime.InteropServices;

namespace Medic.Agent.Host;

/// <summary>Sizes of the filesystem holding a path, as statvfs(3) reports them.</summary>
internal readonly record struct FilesystemSize(long BytesTotal, long BytesFree, long InodesTotal, long InodesFree)
{
    public long BytesUsed => BytesTotal - BytesFree;

    public long InodesUsed => InodesTotal - InodesFree;
}

internal static partial class StatVfs
{
    /// <summary>
    /// The sizes of the filesystem mounted at <paramref name="path"/>, or null when statvfs fails
    /// (ENOENT, EACCES, a stale mount), so one unreadable mount never breaks a heartbeat.
    /// </summary>
    public static FilesystemSize? Query(string path)
    {
        // The layout below is the 64-bit one; a 32-bit agent is not a supported build.
        if (!Environment.Is64BitProcess || Native(path, out var s) != 0)
        {
            return null;
        }

        // Blocks are counted in f_frsize units; df uses the same arithmetic.
        return new FilesystemSize(
            Multiply(s.Blocks, s.FragmentSize),
            Multiply(s.BlocksFree, s.FragmentSize),
            Clamp(s.Files),
            Clamp(Math.Min(s.FilesFree, s.Files)));
    }

    private static long Multiply(ulong blocks, ulong size) =>
        size != 0 && blocks > (ulong)long.MaxValue / size ? long.MaxValue : (long)(blocks * size);

    private static long Clamp(ulong value) => value > long.MaxValue ? long.MaxValue : (long)value;

    [LibraryImport("libc", EntryPoint = "statvfs", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int Native(string path, out NativeStatVfs buffer);

    // glibc's struct statvfs on x86_64 and aarch64 (both LP64, 112 bytes): eleven 8-byte unsigned
    // fields f_bsize, f_frsize, f_blocks, f_bfree, f_bavail, f_files, f_ffree, f_favail, f_fsid,
    // f_flag, f_namemax, then int __f_spare[6] (24 bytes, declared here as three ulongs).
    [StructLayout(LayoutKind.Sequential)]
    private struct NativeStatVfs
    {
        public ulong BlockSize;
        public ulong FragmentSize;
        public ulong Blocks;
        public ulong BlocksFree;
        public ulong BlocksAvailable;
        public ulong Files;
        public ulong FilesFree;
        public ulong FilesAvailable;
        public ulong FilesystemId;
        public ulong Flags;
        public ulong NameMax;
        public ulong Spare0;
        public ulong Spare1;
        public ulong Spare2;
    }
}
