using System.Runtime.InteropServices;
using System.Text;
using Medic.Agent.Execution;
using Microsoft.Win32.SafeHandles;

namespace Medic.Agent.Diagnostics;

/// <summary>
/// The last lines of a file under the allowed directories, read by the agent itself. The check that
/// matters is made on the file actually opened (its /proc/self/fd link), so a symlink pointing out of
/// the allowed directories, or one swapped in between check and open, is refused.
/// </summary>
internal static class FileTail
{
    private const int BlockSize = 64 * 1024;

    public static DiagnosticVerb Verb { get; } = new()
    {
        Name = "file-tail",
        Description = "The last lines of a file under the allowed directories (by default /var/log and /tmp).",
        Parameters = [VerbParameter.AllowedFile(), VerbParameter.Integer("lines", "how many lines", 1, 1000, 100)],
        Run = RunAsync,
    };

    private static async Task<ProcessOutcome> RunAsync(VerbRun run)
    {
        var path = run.Arguments.Text("path");
        var (handle, refusal) = OpenAllowed(path, run.Options);
        if (handle is null)
        {
            await run.WriteLineAsync(refusal!);
            return run.Completed(exitCode: 1, reason: refusal);
        }
        using (handle)
        {
            var (text, cut) = Tail(handle, run.Arguments.Integer("lines"), run.Options.OutputCapBytes);
            if (cut)
            {
                run.MarkTruncated();
            }
            await run.WriteAsync(text);
            return run.Completed();
        }
    }

    /// <summary>
    /// Opens <paramref name="path"/> for reading if, after every symlink is resolved, it is a regular
    /// file under an allowed root; otherwise says why not. O_NONBLOCK keeps a FIFO from blocking the open.
    /// </summary>
    internal static unsafe (SafeFileHandle? Handle, string? Refusal) OpenAllowed(string path, DiagnosticOptions options)
    {
        var native = Libc.Utf8(path);
        int fd;
        try
        {
            fd = Libc.Open(native, Libc.O_RDONLY | Libc.O_NONBLOCK | Libc.O_CLOEXEC | Libc.O_NOCTTY);
        }
        finally
        {
            NativeMemory.Free(native);
        }
        if (fd < 0)
        {
            var errno = Marshal.GetLastPInvokeError();
            return (null, errno switch
            {
                Libc.ENOENT => $"'{path}' does not exist",
                Libc.EACCES => $"'{path}' is not readable by the agent (permission denied)",
                _ => $"'{path}' could not be opened: {Marshal.GetPInvokeErrorMessage(errno)}",
            });
        }
        var handle = new SafeFileHandle(fd, ownsHandle: true);
        string? opened;
        try
        {
            opened = new FileInfo($"/proc/self/fd/{fd}").LinkTarget;
        }
        catch (IOException)
        {
            opened = null;
        }
        var roots = options.FileTailRoots.Select(r => Libc.ResolveRealPath(r) ?? r).ToList();
        if (opened is null || !roots.Any(root => DiagnosticOptions.IsUnder(opened, root)))
        {
            handle.Dispose();
            return (null, $"'{path}' resolves to '{opened ?? "?"}', outside the directories file-tail may read ({string.Join(", ", options.FileTailRoots)})");
        }
        if (!IsRegularFile(fd))
        {
            handle.Dispose();
            return (null, $"'{path}' is not a regular file");
        }
        return (handle, null);
    }

    private static unsafe bool IsRegularFile(int fd)
    {
        // statx has one layout on every architecture; stx_mode is the u16 at offset 28.
        var buffer = stackalloc byte[256];
        var empty = stackalloc byte[1];
        empty[0] = 0;
        if (Libc.Statx(fd, empty, Libc.AT_EMPTY_PATH, Libc.STATX_TYPE, buffer) != 0)
        {
            return false;
        }
        var mode = *(ushort*)(buffer + 28);
        return (mode & Libc.S_IFMT) == Libc.S_IFREG;
    }

    /// <summary>
    /// The last <paramref name="lines"/> lines, reading backwards block by block and never more than
    /// <paramref name="capBytes"/>; <c>Cut</c> is true when the cap ended the read before enough lines were found.
    /// </summary>
    internal static (string Text, bool Cut) Tail(SafeFileHandle handle, int lines, long capBytes)
    {
        var length = RandomAccess.GetLength(handle);
        var start = length;
        var data = Array.Empty<byte>();
        while (start > 0 && data.Length < capBytes && CountBreaks(data, start + data.Length == length) < lines)
        {
            var size = (int)Math.Min(Math.Min(BlockSize, start), capBytes - data.Length);
            var block = new byte[size + data.Length];
            var read = RandomAccess.Read(handle, block.AsSpan(0, size), start - size);
            if (read < size)
            {
                break; // the file shrank while being read; keep what is consistent
            }
            data.CopyTo(block, size);
            data = block;
            start -= size;
        }

        var endsWithBreak = data.Length > 0 && data[^1] == '\n' && start + data.Length == length;
        var contentEnd = data.Length - (endsWithBreak ? 1 : 0);
        var from = 0;
        var breaks = 0;
        for (var i = contentEnd - 1; i >= 0; i--)
        {
            if (data[i] == '\n' && ++breaks == lines)
            {
                from = i + 1;
                break;
            }
        }
        var cut = breaks < lines && start > 0;
        if (cut)
        {
            // The cap stopped the read mid-line: start at the first whole line read.
            from = Array.IndexOf(data, (byte)'\n', 0, contentEnd) + 1;
        }
        var text = Encoding.UTF8.GetString(data, from, contentEnd - from);
        if (text.Length > 0)
        {
            text += "\n";
        }
        return (cut ? $"[medic: only the last {capBytes} bytes were read]\n{text}" : text, cut);
    }

    private static int CountBreaks(byte[] data, bool atEndOfFile)
    {
        var count = data.AsSpan().Count((byte)'\n');
        return atEndOfFile && data.Length > 0 && data[^1] == '\n' ? count - 1 : count;
    }
}
