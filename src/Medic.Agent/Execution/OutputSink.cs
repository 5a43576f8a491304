using System.Text;

namespace Medic.Agent.Execution;

/// <summary>
/// Where a task's stdout and stderr meet: decodes each stream's bytes as UTF-8, hands chunks to the
/// caller one at a time in arrival order, and enforces one byte budget across both streams. Past the
/// budget it passes nothing more except a single marker line; the readers keep draining so the
/// process never blocks on a full pipe.
/// </summary>
internal sealed class OutputSink : IDisposable
{
    public const int MaxChunkBytes = 16 * 1024;

    private readonly Func<string, string, ValueTask> _onOutput;
    private readonly long _capBytes;
    private readonly Action _onCallbackFailure;
    private readonly SemaphoreSlim _gate = new(1, 1);
    private long _passedBytes;
    private bool _endsWithNewline = true;
    private bool _refused;

    /// <param name="onCallbackFailure">Called once if <paramref name="onOutput"/> throws: the run should stop.</param>
    public OutputSink(Func<string, string, ValueTask> onOutput, long capBytes, Action onCallbackFailure)
    {
        _onOutput = onOutput;
        _capBytes = Math.Max(0, capBytes);
        _onCallbackFailure = onCallbackFailure;
    }

    public bool Truncated { get; private set; }

    /// <summary>Set when the caller's callback threw; nothing more is delivered after it.</summary>
    public Exception? CallbackFailure { get; private set; }

    public static string Marker(long capBytes) => $"[medic: output truncated at {capBytes} bytes]\n";

    /// <summary>A decoder for one stream; chunks split inside a UTF-8 sequence are joined again.</summary>
    public static StreamDecoder CreateDecoder(string stream) => new(stream);

    public async ValueTask AcceptAsync(StreamDecoder decoder, ReadOnlyMemory<byte> bytes)
    {
        await _gate.WaitAsync();
        try
        {
            if (Truncated || _refused)
            {
                return;
            }
            var allowed = (int)Math.Min(bytes.Length, _capBytes - _passedBytes);
            _passedBytes += allowed;
            await DeliverAsync(decoder.Stream, decoder.Decode(bytes.Span[..allowed], flush: false));
            if (allowed < bytes.Length)
            {
                Truncated = true;
                decoder.Reset();
                await DeliverAsync(decoder.Stream, (_endsWithNewline ? "" : "\n") + Marker(_capBytes));
            }
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>Emits what a stream's decoder still holds (an incomplete sequence at end of output).</summary>
    public async ValueTask CompleteAsync(StreamDecoder decoder)
    {
        await _gate.WaitAsync();
        try
        {
            if (!Truncated && !_refused)
            {
                await DeliverAsync(decoder.Stream, decoder.Decode([], flush: true));
            }
        }
        finally
        {
            _gate.Release();
        }
    }

    private async ValueTask DeliverAsync(string stream, string text)
    {
        if (text.Length == 0)
        {
            return;
        }
        try
        {
            await _onOutput(stream, text);
            _endsWithNewline = text[^1] == '\n';
        }
        catch (Exception e)
        {
            CallbackFailure = e;
            _refused = true;
            _onCallbackFailure();
        }
    }

    public void Dispose() => _gate.Dispose();

    internal sealed class StreamDecoder(string stream)
    {
        private readonly Decoder _decoder = new UTF8Encoding(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: false).GetDecoder();
        private readonly char[] _chars = new char[MaxChunkBytes + 8];

        public string Stream { get; } = stream;

        public string Decode(ReadOnlySpan<byte> bytes, bool flush)
        {
            var count = _decoder.GetChars(bytes, _chars, flush);
            return new string(_chars, 0, count);
        }

        public void Reset() => _decoder.Reset();
    }
}
