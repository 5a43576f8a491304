using System.Globalization;
using System.Text;

namespace Medic.Agent.Watch;

/// <summary>
/// <c>medic watch</c>'s log: timestamped lines appended to a file (and echoed to a console writer),
/// rotated by size: past <c>max_bytes</c> the file becomes <c>.1</c>, <c>.1</c> becomes <c>.2</c>,
/// and so on, keeping <c>files</c> files in all.
/// </summary>
internal sealed class RotatingLog : IDisposable
{
    private readonly string _path;
    private readonly long _maxBytes;
    private readonly int _files;
    private readonly TextWriter? _echo;
    private readonly TimeProvider _time;
    private readonly Lock _lock = new();
    private FileStream _stream;

    public RotatingLog(string path, long maxBytes, int files, TextWriter? echo, TimeProvider time)
    {
        _path = path;
        _maxBytes = maxBytes;
        _files = Math.Max(1, files);
        _echo = echo;
        _time = time;
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        _stream = Open();
    }

    public void WriteLine(string line)
    {
        var stamped = $"{_time.GetUtcNow().ToString("yyyy-MM-ddTHH:mm:ss.fffZ", CultureInfo.InvariantCulture)} {line}";
        var bytes = Encoding.UTF8.GetBytes(stamped + "\n");
        lock (_lock)
        {
            if (_stream.Length > 0 && _stream.Length + bytes.Length > _maxBytes) Rotate();
            _stream.Write(bytes);
            _stream.Flush();
            _echo?.WriteLine(stamped);
            _echo?.Flush();
        }
    }

    private void Rotate()
    {
        _stream.Dispose();
        if (_files == 1)
        {
            File.Delete(_path);
        }
        else
        {
            File.Delete($"{_path}.{_files - 1}");
            for (var i = _files - 2; i >= 1; i--)
            {
                if (File.Exists($"{_path}.{i}")) File.Move($"{_path}.{i}", $"{_path}.{i + 1}");
            }

            File.Move(_path, _path + ".1");
        }

        _stream = Open();
    }

    private FileStream Open() => new(_path, new FileStreamOptions
    {
        Mode = FileMode.Append,
        Access = FileAccess.Write,
        Share = FileShare.ReadWrite | FileShare.Delete,
        UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead,
    });

    public void Dispose()
    {
        lock (_lock) _stream.Dispose();
    }
}
