using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;

namespace Medic.Server.Backup;

/// <summary>Why a backup file cannot be read: not a backup, a wrong passphrase, or damage. The message is for the user.</summary>
public sealed class BackupFileException(string message) : Exception(message);

/// <summary>
/// The encrypted backup file format (docs/backup.md, "File format"): a 41-byte header (magic
/// <c>MEDICBAK</c>, format version, KDF id, PBKDF2-HMAC-SHA256 iterations, 16-byte salt, 7-byte nonce
/// prefix, chunk size), then AES-256-GCM chunks. Each chunk is its plaintext length (big-endian u32,
/// high bit set on the last chunk), the ciphertext and a 16-byte tag; its nonce is the prefix, the
/// chunk's number and the last-chunk flag, and the whole header is its associated data. So a changed
/// header, a changed, reordered or dropped chunk, a file cut short or bytes after the end are all refused.
/// </summary>
public static class BackupCipher
{
    public const int HeaderLength = 8 + 1 + 1 + 4 + SaltLength + NoncePrefixLength + 4;
    public const int DefaultIterations = 600_000;
    public const int DefaultChunkSize = 1024 * 1024;
    public const int MinPassphraseLength = 12;
    internal const int TagLength = 16;
    internal const byte Version = 1;
    internal const byte KdfPbkdf2Sha256 = 1;
    internal const int MinIterations = 100_000;
    internal const int MaxIterations = 10_000_000;
    internal const int MaxChunkSize = 16 * 1024 * 1024;
    internal const uint LastFlag = 0x8000_0000;
    private const int SaltLength = 16;
    private const int NoncePrefixLength = 7;
    internal static ReadOnlySpan<byte> Magic => "MEDICBAK"u8;

    /// <summary>A stream that encrypts what is written to it into <paramref name="output"/>; dispose it (or call FlushFinalBlock) to write the last chunk.</summary>
    public static EncryptingStream Encrypt(Stream output, string passphrase, int iterations = DefaultIterations, int chunkSize = DefaultChunkSize) =>
        new(output, passphrase, iterations, chunkSize);

    /// <summary>A stream that reads the plaintext of the backup in <paramref name="input"/>; reading the header derives the key (a fraction of a second).</summary>
    public static DecryptingStream Decrypt(Stream input, string passphrase) => new(input, passphrase);

    internal static byte[] DeriveKey(string passphrase, ReadOnlySpan<byte> salt, int iterations) =>
        Rfc2898DeriveBytes.Pbkdf2(Encoding.UTF8.GetBytes(passphrase), salt, iterations, HashAlgorithmName.SHA256, 32);

    internal static void Nonce(Span<byte> nonce, ReadOnlySpan<byte> header, uint counter, bool last)
    {
        header.Slice(8 + 1 + 1 + 4 + SaltLength, NoncePrefixLength).CopyTo(nonce);
        BinaryPrimitives.WriteUInt32BigEndian(nonce[NoncePrefixLength..], counter);
        nonce[11] = last ? (byte)1 : (byte)0;
    }

    internal static byte[] NewHeader(int iterations, int chunkSize, out byte[] salt)
    {
        var header = new byte[HeaderLength];
        Magic.CopyTo(header);
        header[8] = Version;
        header[9] = KdfPbkdf2Sha256;
        BinaryPrimitives.WriteInt32BigEndian(header.AsSpan(10), iterations);
        salt = RandomNumberGenerator.GetBytes(SaltLength);
        salt.CopyTo(header, 14);
        RandomNumberGenerator.Fill(header.AsSpan(14 + SaltLength, NoncePrefixLength));
        BinaryPrimitives.WriteInt32BigEndian(header.AsSpan(14 + SaltLength + NoncePrefixLength), chunkSize);
        return header;
    }

    /// <summary>Checks a header and returns its KDF parameters; refuses what this version cannot read, or values that would make it do unbounded work.</summary>
    internal static (int Iterations, byte[] Salt, int ChunkSize) ParseHeader(ReadOnlySpan<byte> header)
    {
        if (header.Length < HeaderLength || !header[..8].SequenceEqual(Magic))
        {
            throw new BackupFileException("not a Medic backup file (it does not start with MEDICBAK)");
        }

        if (header[8] != Version)
        {
            throw new BackupFileException($"backup file format version {header[8]} is not one this medic reads (it reads version {Version}); use a newer medic");
        }

        var iterations = BinaryPrimitives.ReadInt32BigEndian(header[10..]);
        var chunkSize = BinaryPrimitives.ReadInt32BigEndian(header[(14 + SaltLength + NoncePrefixLength)..]);
        if (header[9] != KdfPbkdf2Sha256 || iterations is < MinIterations or > MaxIterations || chunkSize is < 1 or > MaxChunkSize)
        {
            throw new BackupFileException("wrong passphrase or damaged file (the header's key-derivation settings are not valid)");
        }

        return (iterations, header.Slice(14, SaltLength).ToArray(), chunkSize);
    }
}

/// <summary>Write-only: buffers a chunk of plaintext, then writes it sealed. The last chunk is written on dispose.</summary>
public sealed class EncryptingStream : Stream
{
    private readonly Stream _output;
    private readonly byte[] _header;
    private readonly AesGcm _aes;
    private readonly byte[] _buffer;
    private int _filled;
    private uint _counter;
    private bool _finished;
    private bool _headerWritten;

    internal EncryptingStream(Stream output, string passphrase, int iterations, int chunkSize)
    {
        if (passphrase.Length == 0) throw new ArgumentException("empty passphrase", nameof(passphrase));
        _output = output;
        _header = BackupCipher.NewHeader(iterations, chunkSize, out var salt);
        var key = BackupCipher.DeriveKey(passphrase, salt, iterations);
        _aes = new AesGcm(key, BackupCipher.TagLength);
        CryptographicOperations.ZeroMemory(key);
        _buffer = new byte[chunkSize];
    }

    public override bool CanRead => false;
    public override bool CanSeek => false;
    public override bool CanWrite => !_finished;
    public override long Length => throw new NotSupportedException();
    public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

    public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));

    public override void Write(ReadOnlySpan<byte> buffer)
    {
        ObjectDisposedException.ThrowIf(_finished, this);
        while (buffer.Length > 0)
        {
            if (_filled == _buffer.Length) WriteChunk(last: false);
            var n = Math.Min(buffer.Length, _buffer.Length - _filled);
            buffer[..n].CopyTo(_buffer.AsSpan(_filled));
            _filled += n;
            buffer = buffer[n..];
        }
    }

    public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken)
    {
        Write(buffer.AsSpan(offset, count));
        return Task.CompletedTask;
    }

    public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
    {
        Write(buffer.Span);
        return ValueTask.CompletedTask;
    }

    /// <summary>Seals the buffered rest as the last chunk; nothing can be written after it.</summary>
    public void FlushFinalBlock()
    {
        if (_finished) return;
        WriteChunk(last: true);
        _output.Flush();
        _finished = true;
    }

    private void WriteChunk(bool last)
    {
        if (!_headerWritten)
        {
            _output.Write(_header);
            _headerWritten = true;
        }

        Span<byte> nonce = stackalloc byte[12];
        BackupCipher.Nonce(nonce, _header, _counter++, last);
        var cipher = new byte[_filled];
        Span<byte> tag = stackalloc byte[BackupCipher.TagLength];
        _aes.Encrypt(nonce, _buffer.AsSpan(0, _filled), cipher, tag, _header);
        Span<byte> length = stackalloc byte[4];
        BinaryPrimitives.WriteUInt32BigEndian(length, (uint)_filled | (last ? BackupCipher.LastFlag : 0));
        _output.Write(length);
        _output.Write(cipher);
        _output.Write(tag);
        _filled = 0;
    }

    public override void Flush()
    {
    }

    public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
    public override void SetLength(long value) => throw new NotSupportedException();

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            FlushFinalBlock();
            _aes.Dispose();
        }

        base.Dispose(disposing);
    }
}

/// <summary>
/// Read-only: opens and authenticates one chunk at a time. It never returns a byte that did not
/// authenticate; the end of the plaintext is reported only after the last chunk did and nothing follows it.
/// </summary>
public sealed class DecryptingStream : Stream
{
    private readonly Stream _input;
    private readonly string _passphrase;
    private byte[] _header = [];
    private AesGcm? _aes;
    private byte[] _plain = [];
    private int _offset;
    private int _length;
    private uint _counter;
    private bool _sawLast;
    private int _chunkSize;

    internal DecryptingStream(Stream input, string passphrase)
    {
        _input = input;
        _passphrase = passphrase;
    }

    /// <summary>Bytes of plaintext returned so far.</summary>
    public long PlainBytesRead { get; private set; }

    /// <summary>Whether the last chunk authenticated and nothing followed it.</summary>
    public bool Completed { get; private set; }

    public override bool CanRead => true;
    public override bool CanSeek => false;
    public override bool CanWrite => false;
    public override long Length => throw new NotSupportedException();
    public override long Position { get => PlainBytesRead; set => throw new NotSupportedException(); }

    public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

    public override int Read(Span<byte> buffer)
    {
        if (buffer.Length == 0) return 0;
        while (_offset == _length)
        {
            if (Completed) return 0;
            NextChunk();
        }

        var n = Math.Min(buffer.Length, _length - _offset);
        _plain.AsSpan(_offset, n).CopyTo(buffer);
        _offset += n;
        PlainBytesRead += n;
        return n;
    }

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        Task.FromResult(Read(buffer.AsSpan(offset, count)));

    public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) =>
        ValueTask.FromResult(Read(buffer.Span));

    /// <summary>Reads to the end (authenticating every chunk) and throws unless the file ended properly.</summary>
    public void ReadToEndAndVerify()
    {
        var sink = new byte[64 * 1024];
        while (Read(sink) > 0)
        {
        }

        if (!Completed) throw new BackupFileException("the backup file is cut short (damaged or incomplete)");
    }

    private void NextChunk()
    {
        if (_aes is null) Start();
        if (_sawLast)
        {
            // The last chunk has been read: anything after it was appended.
            if (_input.ReadByte() >= 0) throw new BackupFileException("wrong passphrase or damaged file (data follows the last chunk)");
            Completed = true;
            _offset = _length = 0;
            return;
        }

        Span<byte> lengthBytes = stackalloc byte[4];
        if (!Fill(lengthBytes)) throw new BackupFileException("the backup file is cut short (damaged or incomplete)");
        var word = BinaryPrimitives.ReadUInt32BigEndian(lengthBytes);
        var last = (word & BackupCipher.LastFlag) != 0;
        var length = (int)(word & ~BackupCipher.LastFlag);
        if (length > _chunkSize || (!last && length != _chunkSize))
        {
            throw new BackupFileException($"wrong passphrase or damaged file (chunk {_counter} has an impossible length)");
        }

        var cipher = new byte[length + BackupCipher.TagLength];
        if (!Fill(cipher)) throw new BackupFileException("the backup file is cut short (damaged or incomplete)");
        Span<byte> nonce = stackalloc byte[12];
        BackupCipher.Nonce(nonce, _header, _counter, last);
        try
        {
            _aes!.Decrypt(nonce, cipher.AsSpan(0, length), cipher.AsSpan(length), _plain.AsSpan(0, length), _header);
        }
        catch (AuthenticationTagMismatchException)
        {
            throw new BackupFileException(_counter == 0
                ? "wrong passphrase or damaged file"
                : $"wrong passphrase or damaged file (chunk {_counter} does not authenticate: the file was changed)");
        }

        _counter++;
        _sawLast = last;
        _offset = 0;
        _length = length;
    }

    private void Start()
    {
        var header = new byte[BackupCipher.HeaderLength];
        if (!Fill(header))
        {
            throw new BackupFileException("not a Medic backup file (shorter than the header)");
        }

        var (iterations, salt, chunkSize) = BackupCipher.ParseHeader(header);
        _header = header;
        _chunkSize = chunkSize;
        _plain = new byte[chunkSize];
        var key = BackupCipher.DeriveKey(_passphrase, salt, iterations);
        _aes = new AesGcm(key, BackupCipher.TagLength);
        CryptographicOperations.ZeroMemory(key);
    }

    private bool Fill(Span<byte> target)
    {
        var read = 0;
        while (read < target.Length)
        {
            var n = _input.Read(target[read..]);
            if (n == 0) return false;
            read += n;
        }

        return true;
    }

    public override void Flush()
    {
    }

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
    public override void SetLength(long value) => throw new NotSupportedException();
    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    protected override void Dispose(bool disposing)
    {
        if (disposing) _aes?.Dispose();
        base.Dispose(disposing);
    }
}
