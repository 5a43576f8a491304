namespace Medic.Server.Secrets;

/// <summary>
/// Redacts output that arrives in chunks (a task's live stdout and stderr), per stream. The end of a
/// chunk that could be the first part of a secret value is held back until the next chunk of that
/// stream shows whether it is one, so a value split across two chunks is cut whole; <see cref="Flush"/>
/// lets out what is still held when the output ends. Only such a possible beginning is held: other
/// output goes out as it comes.
/// </summary>
internal sealed class LiveRedaction(Redaction redaction)
{
    private readonly Dictionary<string, string> _held = new(StringComparer.Ordinal);

    /// <summary>What of this chunk can be shown now, redacted (possibly empty).</summary>
    public string Push(string stream, string chunk)
    {
        var text = _held.TryGetValue(stream, out var held) ? held + chunk : chunk;
        var shown = redaction.ApplyBefore(text, redaction.UnfinishedFrom(text), out var end);
        if (end < text.Length) _held[stream] = text[end..];
        else _held.Remove(stream);
        return shown;
    }

    /// <summary>What is still held, per stream, redacted: the output has ended.</summary>
    public IReadOnlyList<(string Stream, string Text)> Flush()
    {
        var rest = _held.Select(h => (h.Key, redaction.Apply(h.Value))).ToList();
        _held.Clear();
        return rest;
    }
}
