using System.Text;

namespace Medic.Agent.Host;

/// <summary>
/// Reads small kernel text files into buffers it keeps, so a heartbeat reads /proc without
/// allocating a string per file. Not thread-safe: one reader per sampling loop.
/// </summary>
internal sealed class ProcFileReader
{
    private byte[] _bytes = new byte[16 * 1024];
    private char[] _chars = new char[16 * 1024];

    /// <summary>
    /// The whole file as text, valid until the next call; empty when the file is missing or
    /// unreadable (containers hide parts of /proc, older kernels lack some files).
    /// </summary>
    public ReadOnlySpan<char> Read(string path)
    {
        int length = 0;
        try
        {
            using var handle = File.OpenHandle(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
            while (true)
            {
                if (length == _bytes.Length)
                {
                    Array.Resize(ref _bytes, _bytes.Length * 2);
                }

                // /proc files report size 0, so read until end of file rather than by length.
                int read = RandomAccess.Read(handle, _bytes.AsSpan(length), length);
                if (read == 0)
                {
                    break;
                }

                length += read;
            }
        }
        catch (IOException)
        {
            return default;
        }
        catch (UnauthorizedAccessException)
        {
            return default;
        }

        if (_chars.Length < length)
        {
            _chars = new char[_bytes.Length];
        }

        int chars = Encoding.UTF8.GetChars(_bytes.AsSpan(0, length), _chars);
        return _chars.AsSpan(0, chars);
    }
}
