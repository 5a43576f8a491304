using System.Runtime.InteropServices;

namespace Medic.Agent.Execution;

/// <summary>
/// The few libc calls .NET does not expose: spawning into a new session (so a timeout can kill the
/// whole process group), reaping our own children, and opening files without blocking on FIFOs.
/// Constants are the Linux values shared by x86_64 and aarch64 (glibc and musl).
/// </summary>
internal static unsafe partial class Libc
{
    private const string Library = "libc";

    internal const int SIGKILL = 9;
    internal const int SIGTERM = 15;
    internal const int SIGSTOP = 19;
    internal const int SIGCONT = 18;
    internal const int WNOHANG = 1;
    internal const int ENOENT = 2;
    internal const int ESRCH = 3;
    internal const int EINTR = 4;
    internal const int EACCES = 13;
    internal const int ECHILD = 10;
    internal const int ENOEXEC = 8;
    internal const int O_RDONLY = 0;
    internal const int O_NOCTTY = 0x100;
    internal const int O_NONBLOCK = 0x800;
    internal const int O_CLOEXEC = 0x80000;
    internal const int X_OK = 1;
    internal const short POSIX_SPAWN_SETSIGDEF = 0x04;
    internal const short POSIX_SPAWN_SETSIGMASK = 0x08;
    internal const short POSIX_SPAWN_SETSID = 0x80;
    internal const int AT_EMPTY_PATH = 0x1000;
    internal const uint STATX_TYPE = 0x1;
    internal const uint STATX_SIZE = 0x200;
    internal const int S_IFMT = 0xF000;
    internal const int S_IFREG = 0x8000;

    // Opaque libc types are allocated generously: glibc's posix_spawnattr_t is 336 bytes,
    // posix_spawn_file_actions_t 80 and sigset_t 128; musl's are no larger.
    internal const int OpaqueSize = 1024;

    [LibraryImport(Library, EntryPoint = "posix_spawn")]
    internal static partial int PosixSpawn(out int pid, byte* path, void* fileActions, void* attributes, byte** argv, byte** envp);

    [LibraryImport(Library, EntryPoint = "posix_spawn_file_actions_init")]
    internal static partial int FileActionsInit(void* fileActions);

    [LibraryImport(Library, EntryPoint = "posix_spawn_file_actions_destroy")]
    internal static partial int FileActionsDestroy(void* fileActions);

    [LibraryImport(Library, EntryPoint = "posix_spawn_file_actions_adddup2")]
    internal static partial int FileActionsAddDup2(void* fileActions, int fd, int newFd);

    [LibraryImport(Library, EntryPoint = "posix_spawn_file_actions_addopen")]
    internal static partial int FileActionsAddOpen(void* fileActions, int fd, byte* path, int flags, uint mode);

    // glibc 2.29+, musl 1.1.24+.
    [LibraryImport(Library, EntryPoint = "posix_spawn_file_actions_addchdir_np")]
    internal static partial int FileActionsAddChdir(void* fileActions, byte* path);

    [LibraryImport(Library, EntryPoint = "posix_spawnattr_init")]
    internal static partial int AttrInit(void* attributes);

    [LibraryImport(Library, EntryPoint = "posix_spawnattr_destroy")]
    internal static partial int AttrDestroy(void* attributes);

    [LibraryImport(Library, EntryPoint = "posix_spawnattr_setflags")]
    internal static partial int AttrSetFlags(void* attributes, short flags);

    [LibraryImport(Library, EntryPoint = "posix_spawnattr_setsigmask")]
    internal static partial int AttrSetSigMask(void* attributes, void* sigset);

    [LibraryImport(Library, EntryPoint = "posix_spawnattr_setsigdefault")]
    internal static partial int AttrSetSigDefault(void* attributes, void* sigset);

    [LibraryImport(Library, EntryPoint = "sigemptyset")]
    internal static partial int SigEmptySet(void* sigset);

    [LibraryImport(Library, EntryPoint = "sigfillset")]
    internal static partial int SigFillSet(void* sigset);

    [LibraryImport(Library, EntryPoint = "pipe2", SetLastError = true)]
    internal static partial int Pipe2(int* fds, int flags);

    [LibraryImport(Library, EntryPoint = "close", SetLastError = true)]
    internal static partial int Close(int fd);

    [LibraryImport(Library, EntryPoint = "waitpid", SetLastError = true)]
    internal static partial int WaitPid(int pid, int* status, int options);

    [LibraryImport(Library, EntryPoint = "kill", SetLastError = true)]
    internal static partial int Kill(int pid, int signal);

    [LibraryImport(Library, EntryPoint = "access", SetLastError = true)]
    internal static partial int Access(byte* path, int mode);

    [LibraryImport(Library, EntryPoint = "open", SetLastError = true)]
    internal static partial int Open(byte* path, int flags);

    [LibraryImport(Library, EntryPoint = "statx", SetLastError = true)]
    internal static partial int Statx(int dirFd, byte* path, int flags, uint mask, byte* buffer);

    [LibraryImport(Library, EntryPoint = "realpath", SetLastError = true)]
    internal static partial byte* RealPath(byte* path, byte* resolved);

    /// <summary>A NUL-terminated UTF-8 copy of <paramref name="text"/> in native memory; free with <see cref="NativeMemory.Free"/>.</summary>
    internal static byte* Utf8(string text)
    {
        var length = System.Text.Encoding.UTF8.GetByteCount(text);
        var buffer = (byte*)NativeMemory.Alloc((nuint)length + 1);
        System.Text.Encoding.UTF8.GetBytes(text, new Span<byte>(buffer, length));
        buffer[length] = 0;
        return buffer;
    }

    /// <summary>A NULL-terminated array of <see cref="Utf8"/> strings (argv, envp); free with <see cref="FreeStringArray"/>.</summary>
    internal static byte** StringArray(IReadOnlyList<string> items)
    {
        var array = (byte**)NativeMemory.AllocZeroed((nuint)(items.Count + 1), (nuint)sizeof(byte*));
        for (var i = 0; i < items.Count; i++)
        {
            array[i] = Utf8(items[i]);
        }
        return array;
    }

    internal static void FreeStringArray(byte** array)
    {
        for (var p = array; *p != null; p++)
        {
            NativeMemory.Free(*p);
        }
        NativeMemory.Free(array);
    }

    /// <summary>The canonical absolute path (symlinks resolved), or null when it does not exist.</summary>
    internal static string? ResolveRealPath(string path)
    {
        var native = Utf8(path);
        try
        {
            var resolved = RealPath(native, null);
            if (resolved == null)
            {
                return null;
            }
            try
            {
                return Marshal.PtrToStringUTF8((nint)resolved);
            }
            finally
            {
                NativeMemory.Free(resolved);
            }
        }
        finally
        {
            NativeMemory.Free(native);
        }
    }

    internal static bool IsExecutable(string path)
    {
        var native = Utf8(path);
        try
        {
            return Access(native, X_OK) == 0;
        }
        finally
        {
            NativeMemory.Free(native);
        }
    }
}
