using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;
using Medic.Agent.Execution;
using Medic.Contracts.Agent;

namespace Medic.Agent.Monitors;

/// <summary>
/// Counts lines matching a pattern in a tailed log file and fires when <c>count</c> of them fall
/// within <c>window</c>. Tailing starts at the end of the file (old lines do not count). When the
/// file is rotated (the path now names another inode) the rest of the old file is read first, then
/// the new one from its start; when it is truncated in place (copytruncate) reading restarts at 0.
/// </summary>
/// <remarks>With a <see cref="Policy.ReadPathPolicy"/> (the agent), the file is opened only if it resolves under read_paths.</remarks>
internal sealed class LogCheck(MonitorDefinition d, TimeProvider time, Policy.ReadPathPolicy? readPaths = null) : IMonitorCheck, IDisposable
{
    private const int MaxReadPerCheck = 16 * 1024 * 1024;
    private const int KeptLines = 5;
    private readonly Regex _pattern = new(d.Pattern!, RegexOptions.CultureInvariant, TimeSpan.FromSeconds(1));
    private readonly Queue<DateTimeOffset> _matches = new();
    private readonly Queue<string> _lastMatches = new();
    private readonly StringBuilder _partial = new();
    private FileStream? _stream;
    private ulong _inode;
    private bool _seenFile;

    public Task<Observation> CheckAsync(CancellationToken ct)
    {
        var now = time.GetUtcNow();
        var path = d.Path!;
        var note = "";
        if (_stream is null)
        {
            if (Open(path, fromEnd: !_seenFile) is { } problem) note = problem;
        }
        else
        {
            var current = Inode(path);
            if (current != _inode)
            {
                Drain(now);
                Close();
                if (current is not null && Open(path, fromEnd: false) is { } problem) note = problem;
            }
            else if (_stream.Length < _stream.Position)
            {
                _stream.Position = 0; // truncated in place
                _partial.Clear();
            }
        }

        if (_stream is not null) Drain(now);
        var window = TimeSpan.FromSeconds(d.WindowSeconds ?? 300);
        while (_matches.Count > 0 && now - _matches.Peek() > window) _matches.Dequeue();

        var count = _matches.Count;
        var evidence = new Dictionary<string, string>
        {
            ["path"] = path,
            ["matches_in_window"] = count.ToString(CultureInfo.InvariantCulture),
        };
        if (_lastMatches.Count > 0) evidence[EvidenceKeys.LastLines] = string.Join('\n', _lastMatches);
        if (note.Length > 0) evidence["note"] = note;
        var summary = $"{count} line{(count == 1 ? "" : "s")} of {path} matched /{d.Pattern}/ in the last {Units.Describe(window.TotalSeconds)} (threshold {d.Count})";
        return Task.FromResult(count >= (d.Count ?? 1) ? Observation.Fail(summary, evidence) : Observation.Pass(summary + note, evidence));
    }

    private string? Open(string path, bool fromEnd)
    {
        if (readPaths is not null)
        {
            // The descriptor actually opened is checked, so a symlink swapped in after the check does not help.
            if (!File.Exists(path)) return readPaths.Refusal(path) is { } outside ? $" ({outside})" : $" ({path} does not exist yet)";
            var (handle, refusal) = readPaths.Open(path);
            if (handle is null) return $" ({refusal})";
            _stream = new FileStream(handle, FileAccess.Read);
        }
        else
        {
            try
            {
                _stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
            }
            catch (FileNotFoundException)
            {
                return $" ({path} does not exist yet)";
            }
            catch (DirectoryNotFoundException)
            {
                return $" ({path} does not exist yet)";
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                return $" ({path} cannot be read: {e.Message})";
            }
        }

        _seenFile = true;
        _inode = Inode(_stream.SafeFileHandle) ?? 0;
        if (fromEnd) _stream.Seek(0, SeekOrigin.End);
        _partial.Clear();
        return null;
    }

    private void Drain(DateTimeOffset now)
    {
        var buffer = new byte[64 * 1024];
        var decoder = new UTF8Encoding(false, false).GetDecoder();
        var chars = new char[buffer.Length + 8];
        var total = 0;
        int read;
        while (total < MaxReadPerCheck && (read = _stream!.Read(buffer, 0, buffer.Length)) > 0)
        {
            total += read;
            var count = decoder.GetChars(buffer, 0, read, chars, 0, flush: false);
            for (var i = 0; i < count; i++)
            {
                if (chars[i] != '\n')
                {
                    if (_partial.Length < LineTail.MaxLineChars) _partial.Append(chars[i]);
                    continue;
                }

                var line = _partial.ToString().TrimEnd('\r');
                _partial.Clear();
                if (!_pattern.IsMatch(line)) continue;
                _matches.Enqueue(now);
                _lastMatches.Enqueue(line);
                if (_lastMatches.Count > KeptLines) _lastMatches.Dequeue();
            }
        }
    }

    private void Close()
    {
        _stream?.Dispose();
        _stream = null;
        _partial.Clear();
    }

    public void Dispose() => Close();

    private static unsafe ulong? Inode(string path)
    {
        var native = Libc.Utf8(path);
        try
        {
            var buffer = stackalloc byte[256];
            // statx's layout is the same on every architecture: stx_ino is the u64 at offset 32.
            return Libc.Statx(AtFdCwd, native, 0, StatxIno, buffer) == 0 ? *(ulong*)(buffer + 32) : null;
        }
        finally
        {
            System.Runtime.InteropServices.NativeMemory.Free(native);
        }
    }

    private static unsafe ulong? Inode(Microsoft.Win32.SafeHandles.SafeFileHandle handle)
    {
        var buffer = stackalloc byte[256];
        var empty = stackalloc byte[1];
        empty[0] = 0;
        return Libc.Statx((int)handle.DangerousGetHandle(), empty, Libc.AT_EMPTY_PATH, StatxIno, buffer) == 0 ? *(ulong*)(buffer + 32) : null;
    }

    private const int AtFdCwd = -100;
    private const uint StatxIno = 0x100;
}
