using System.Buffers;
using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Net.WebSockets;
using System.Text.Json;
using System.Text.Json.Serialization;
using Medic.Contracts;
using Medic.Contracts.Agent;

namespace Medic.Bench.Pipeline;

/// <summary>When something happened to one bench incident, on the bench's monotonic clock and on the wall clock.</summary>
internal readonly record struct Moment(long At, DateTimeOffset Utc)
{
    public static Moment Now() => new(Stopwatch.GetTimestamp(), DateTimeOffset.UtcNow);
}

/// <summary>
/// What the bench sees of each incident, keyed by its <c>bench_seq</c> label: the moment a
/// simulated agent read the frame of the run's first task (its argv carries the sequence number),
/// and the moment the live feed <c>/ws/incidents</c> said it was resolved, escalated, or verified as far as the
/// pipeline can (waiting for a person to confirm, as every incident opened by hand does).
/// </summary>
internal sealed class PipelineProgress : IDisposable
{
    public const string Label = "bench_seq";
    public const string Program = "medic-bench";

    private static readonly MedicJson Json = new(new JsonSerializerOptions(MedicJson.Default.Options) { UnmappedMemberHandling = JsonUnmappedMemberHandling.Skip });
    private readonly ConcurrentDictionary<int, TaskCompletionSource<Moment>> _firstTask = new();
    private readonly ConcurrentDictionary<int, TaskCompletionSource<Moment>> _finished = new();
    private readonly ConcurrentDictionary<int, string> _escalated = new();
    private readonly CancellationTokenSource _stop = new();
    private ClientWebSocket? _feed;
    private Task? _reading;

    public int Escalated => _escalated.Count;

    public IEnumerable<string> EscalationReasons => _escalated.Values;

    /// <summary>Completes when an agent first reads a task of incident <paramref name="seq"/>'s run.</summary>
    public Task<Moment> FirstTask(int seq) => _firstTask.GetOrAdd(seq, _ => New()).Task;

    /// <summary>Completes when the feed says incident <paramref name="seq"/> is resolved (or escalated: see <see cref="Escalated"/>).</summary>
    public Task<Moment> Finished(int seq) => _finished.GetOrAdd(seq, _ => New()).Task;

    /// <summary>
    /// The simulated agents' answer: the recipe's two steps (<c>medic-bench remediate|verify SEQ</c>,
    /// after the <c>env MEDIC_PARAM_…</c> prefix) complete with exit 0 at once; anything else is refused.
    /// </summary>
    public bool Answer(TaskSpec spec, long received)
    {
        var argv = spec.Argv;
        var at = -1;
        for (var i = 0; i < argv.Count; i++)
        {
            if (argv[i] == Program) at = i;
        }

        if (spec.Kind != TaskKind.Exec || at < 0 || at + 2 >= argv.Count || !int.TryParse(argv[at + 2], CultureInfo.InvariantCulture, out var seq)) return false;
        if (argv[at + 1] == "remediate") _firstTask.GetOrAdd(seq, _ => New()).TrySetResult(new Moment(received, DateTimeOffset.UtcNow));
        return argv[at + 1] is "remediate" or "verify";
    }

    public async Task WatchAsync(Uri server, string token, CancellationToken ct)
    {
        var socket = new ClientWebSocket();
        socket.Options.SetRequestHeader("Authorization", "Bearer " + token);
        await socket.ConnectAsync(new Uri($"ws://{server.Authority}/ws/incidents"), ct);
        _feed = socket;
        _reading = ReadAsync(socket, _stop.Token);
    }

    private async Task ReadAsync(ClientWebSocket socket, CancellationToken ct)
    {
        var buffer = new ArrayBufferWriter<byte>(16 * 1024);
        try
        {
            while (true)
            {
                buffer.ResetWrittenCount();
                ValueWebSocketReceiveResult result;
                do
                {
                    result = await socket.ReceiveAsync(buffer.GetMemory(8192), ct);
                    buffer.Advance(result.Count);
                }
                while (!result.EndOfMessage);

                if (result.MessageType == WebSocketMessageType.Close) return;
                var at = Moment.Now();
                var message = JsonSerializer.Deserialize(buffer.WrittenSpan, Json.IncidentFeedMessage);
                if (message?.Incident is not { } incident || !incident.Labels.TryGetValue(Label, out var label) || !int.TryParse(label, CultureInfo.InvariantCulture, out var seq)) continue;
                if (incident.Status == IncidentStatus.Escalated) _escalated.TryAdd(seq, incident.Resolution ?? incident.Title);
                // A bench incident is opened by hand, so nothing can re-check it: its verification ends by asking a person
                // to confirm (the "noted" message of a verifying incident, docs/pipeline.md), which is where the pipeline's work ends.
                var awaitsConfirmation = message.Action == "noted" && incident.Status == IncidentStatus.Verifying;
                if (incident.Status is IncidentStatus.Resolved or IncidentStatus.Escalated || awaitsConfirmation) _finished.GetOrAdd(seq, _ => New()).TrySetResult(at);
            }
        }
        catch (Exception ex) when (ex is OperationCanceledException or WebSocketException or JsonException)
        {
            foreach (var waiting in _finished.Values) waiting.TrySetException(new WebSocketException("the incident feed stopped: " + ex.Message));
        }
    }

    private static TaskCompletionSource<Moment> New() => new(TaskCreationOptions.RunContinuationsAsynchronously);

    public void Dispose()
    {
        _stop.Cancel();
        _feed?.Abort();
        _reading?.Wait(TimeSpan.FromSeconds(5));
        _feed?.Dispose();
        _stop.Dispose();
    }
}
