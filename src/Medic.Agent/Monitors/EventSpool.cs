using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Medic.Contracts.Agent;
using Medic.Contracts;

namespace Medic.Agent.Monitors;

/// <summary>
/// Events waiting for the control plane: JSON lines in <c>events.jsonl</c> under the agent's state
/// directory, so what happened while the link was down is delivered later, also across a restart.
/// Bounded in entries and bytes: past either, the oldest are dropped and counted in
/// <c>events.dropped</c> (the daemon reports that count once it can). A line torn by a crash is
/// skipped on load. Delivery is at least once: an event is removed only after it was sent.
/// </summary>
public sealed class EventSpool
{
    public const string FileName = "events.jsonl";
    public const string DroppedFileName = "events.dropped";

    private readonly string _path;
    private readonly string _droppedPath;
    private readonly int _maxEntries;
    private readonly long _maxBytes;
    private readonly Lock _lock = new();
    private readonly List<(AgentEvent Event, int Bytes)> _pending = [];
    private long _bytes;
    private long _dropped;
    private TaskCompletionSource _appended = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public EventSpool(string directory, int maxEntries = 10_000, long maxBytes = 8 * 1024 * 1024)
    {
        PrivateFiles.EnsureDirectory(directory);
        _path = Path.Combine(directory, FileName);
        _droppedPath = Path.Combine(directory, DroppedFileName);
        _maxEntries = Math.Max(1, maxEntries);
        _maxBytes = Math.Max(1024, maxBytes);
        Load();
    }

    public string FilePath => _path;

    public int Count
    {
        get
        {
            lock (_lock) return _pending.Count;
        }
    }

    /// <summary>Events dropped (oldest first) because the spool was full, not yet reported.</summary>
    public long Dropped
    {
        get
        {
            lock (_lock) return _dropped;
        }
    }

    public static string NewId() => "evt_" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(12));

    public void Append(AgentEvent e)
    {
        var line = JsonSerializer.Serialize(e, MonitorJson.Default.AgentEvent) + "\n";
        var bytes = Encoding.UTF8.GetByteCount(line);
        lock (_lock)
        {
            _pending.Add((e, bytes));
            _bytes += bytes;
            var dropped = 0;
            while (_pending.Count > 1 && (_pending.Count > _maxEntries || _bytes > _maxBytes))
            {
                _bytes -= _pending[0].Bytes;
                _pending.RemoveAt(0);
                dropped++;
            }

            if (dropped > 0)
            {
                _dropped += dropped;
                WriteDropped();
                Rewrite();
            }
            else
            {
                using var stream = PrivateFiles.OpenAppend(_path);
                stream.Write(Encoding.UTF8.GetBytes(line));
                stream.Flush(flushToDisk: true);
            }

            var appended = _appended;
            _appended = new(TaskCreationOptions.RunContinuationsAsynchronously);
            appended.TrySetResult();
        }
    }

    /// <summary>The oldest events, in order, without removing them.</summary>
    public IReadOnlyList<AgentEvent> Peek(int max)
    {
        lock (_lock) return _pending.Take(max).Select(p => p.Event).ToList();
    }

    /// <summary>Removes a delivered event (normally the first).</summary>
    public void Remove(string id)
    {
        lock (_lock)
        {
            var index = _pending.FindIndex(p => p.Event.Id == id);
            if (index < 0) return;
            _bytes -= _pending[index].Bytes;
            _pending.RemoveAt(index);
            Rewrite();
        }
    }

    /// <summary>Forgets the dropped count once it has been reported.</summary>
    public void AcknowledgeDropped(long count)
    {
        lock (_lock)
        {
            _dropped = Math.Max(0, _dropped - count);
            WriteDropped();
        }
    }

    /// <summary>Completes at the next <see cref="Append"/>.</summary>
    public Task WaitForAppendAsync(CancellationToken ct)
    {
        lock (_lock) return _appended.Task.WaitAsync(ct);
    }

    private void Load()
    {
        PrivateFiles.Narrow(_path);
        PrivateFiles.Narrow(_droppedPath);
        if (File.Exists(_droppedPath)
            && long.TryParse(File.ReadAllText(_droppedPath).Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out var dropped))
        {
            _dropped = dropped;
        }

        if (!File.Exists(_path)) return;
        var torn = false;
        foreach (var line in File.ReadAllLines(_path))
        {
            if (line.Length == 0) continue;
            try
            {
                if (JsonSerializer.Deserialize(line, MonitorJson.Default.AgentEvent) is { } e)
                {
                    _pending.Add((e, Encoding.UTF8.GetByteCount(line) + 1));
                    _bytes += _pending[^1].Bytes;
                    continue;
                }
            }
            catch (JsonException)
            {
            }

            torn = true;
        }

        if (torn) Rewrite();
    }

    private void Rewrite() => PrivateFiles.WriteAtomic(_path, stream =>
    {
        foreach (var (e, _) in _pending)
        {
            stream.Write(Encoding.UTF8.GetBytes(JsonSerializer.Serialize(e, MonitorJson.Default.AgentEvent) + "\n"));
        }
    });

    private void WriteDropped() => PrivateFiles.WriteAtomic(_droppedPath, _dropped.ToString(CultureInfo.InvariantCulture));
}
