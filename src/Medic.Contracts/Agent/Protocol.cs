using System.Text.Json.Serialization;

namespace Medic.Contracts.Agent;

/// <summary>What a server is: read once at connect (and on change) and sent in <see cref="Hello"/>.</summary>
public sealed record HostFacts(
    string Hostname,
    string Distribution,
    string Kernel,
    string Architecture,
    int Cpus,
    long MemoryBytes,
    IReadOnlyList<DiskFact> Disks,
    IReadOnlyList<string> Addresses,
    string ServiceManager,
    string AgentVersion,
    DateTimeOffset BootTime);

public sealed record DiskFact(string Mount, string Device, string FsType, long SizeBytes);

/// <summary>
/// One heartbeat's measurements, read from /proc and statvfs. <c>Processes</c> is absent from
/// agents older than the early-warning patrol.
/// </summary>
public sealed record Metrics(
    DateTimeOffset At,
    double CpuPercent,
    double Load1,
    double Load5,
    double Load15,
    long MemoryTotalBytes,
    long MemoryUsedBytes,
    long SwapTotalBytes,
    long SwapUsedBytes,
    IReadOnlyList<MountUsage> Mounts,
    long NetworkRxBytes,
    long NetworkTxBytes,
    int ProcessCount,
    double UptimeSeconds,
    IReadOnlyList<ProcessUsage>? Processes = null);

public sealed record MountUsage(string Mount, long BytesTotal, long BytesUsed, long InodesTotal, long InodesUsed);

/// <summary>
/// One of the processes using the most memory. <c>Name</c> is the kernel's command name (at most
/// 15 characters); <c>StartedAt</c> tells a restarted process from the one before it.
/// </summary>
public sealed record ProcessUsage(int Pid, string Name, long RssBytes, DateTimeOffset StartedAt);

public sealed record EnrollRequest(string Token, string Name, IReadOnlyDictionary<string, string>? Tags = null, HostFacts? Facts = null);

/// <summary>
/// <c>Credential</c> is the node's bearer secret for <c>/agent/v1/connect</c>: shown once, stored
/// hashed on the server. <c>SigningPublicKey</c> (SubjectPublicKeyInfo, base64) is pinned by the
/// agent and checks every task.
/// </summary>
public sealed record EnrollResponse(string NodeId, string Name, string TenantSlug, string Credential, string SigningPublicKey);

/// <summary>A task as the control plane decided it. The agent only acts on one it verified inside a <see cref="SignedTask"/>.</summary>
public sealed record TaskSpec(
    string TaskId,
    string NodeId,
    string Nonce,
    DateTimeOffset IssuedAt,
    DateTimeOffset ExpiresAt,
    TaskKind Kind,
    IReadOnlyList<string> Argv,
    string? Verb,
    IReadOnlyDictionary<string, string>? Args,
    int TimeoutSeconds,
    long OutputCapBytes);

[JsonConverter(typeof(JsonStringEnumConverter<TaskKind>))]
public enum TaskKind
{
    /// <summary>Run <c>Argv</c> as a process (needs the <c>exec</c> capability).</summary>
    [JsonStringEnumMemberName("exec")] Exec,

    /// <summary>Run the curated read-only diagnostic <c>Verb</c> with <c>Args</c> (needs <c>diag</c>).</summary>
    [JsonStringEnumMemberName("diag")] Diag,

    /// <summary>Start, stop or restart the service named in <c>Args["unit"]</c> (needs <c>service</c>).</summary>
    [JsonStringEnumMemberName("service")] Service,
}

/// <summary>
/// <c>Payload</c> is the UTF-8 JSON of a <see cref="TaskSpec"/>, base64; <c>Signature</c> is ECDSA
/// P-256 over exactly those bytes (SHA-256, IEEE P1363), base64. Verifying the bytes as sent,
/// rather than a re-serialization, means any change in transit breaks the signature.
/// </summary>
public sealed record SignedTask(string Payload, string Signature);

public enum TaskStatus
{
    [JsonStringEnumMemberName("completed")] Completed,
    [JsonStringEnumMemberName("timeout")] Timeout,
    [JsonStringEnumMemberName("refused")] Refused,
    [JsonStringEnumMemberName("failed")] Failed,
}

// Frames on the agent's WebSocket. Each is one JSON text message with a "type" member.

[JsonPolymorphic(TypeDiscriminatorPropertyName = "type")]
[JsonDerivedType(typeof(Hello), "hello")]
[JsonDerivedType(typeof(Heartbeat), "heartbeat")]
[JsonDerivedType(typeof(TaskOutput), "task_output")]
[JsonDerivedType(typeof(TaskResult), "task_result")]
[JsonDerivedType(typeof(AgentEvent), "event")]
public abstract record AgentMessage;

public sealed record Hello(HostFacts Facts) : AgentMessage;

public sealed record Heartbeat(Metrics Metrics) : AgentMessage;

/// <summary>A chunk of a task's output, in order per task (<c>Seq</c> from 0).</summary>
public sealed record TaskOutput(string TaskId, long Seq, string Stream, string Data) : AgentMessage;

public sealed record TaskResult(
    string TaskId,
    [property: JsonConverter(typeof(JsonStringEnumConverter<TaskStatus>))] TaskStatus Status,
    int? ExitCode,
    long DurationMs,
    bool Truncated,
    string? Reason) : AgentMessage;

/// <summary>Something the agent noticed or did on its own (buffered on disk while disconnected).</summary>
public sealed record AgentEvent(string Id, DateTimeOffset At, string Kind, string Message, IReadOnlyDictionary<string, string>? Data) : AgentMessage;

[JsonPolymorphic(TypeDiscriminatorPropertyName = "type")]
[JsonDerivedType(typeof(Welcome), "welcome")]
[JsonDerivedType(typeof(TaskOffer), "task")]
public abstract record ServerMessage;

public sealed record Welcome(string NodeId, int HeartbeatSeconds) : ServerMessage;

/// <summary>
/// <c>TaskId</c> repeats the signed task's id outside the signature, only so that an agent that
/// cannot verify the payload can still say which task it refused; it is never trusted for anything else.
/// </summary>
public sealed record TaskOffer(SignedTask Task, string? TaskId = null) : ServerMessage;

[JsonSourceGenerationOptions(
    PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower,
    UseStringEnumConverter = false)]
[JsonSerializable(typeof(AgentMessage))]
[JsonSerializable(typeof(ServerMessage))]
[JsonSerializable(typeof(TaskSpec))]
[JsonSerializable(typeof(EnrollRequest))]
[JsonSerializable(typeof(EnrollResponse))]
[JsonSerializable(typeof(HostFacts))]
[JsonSerializable(typeof(Metrics))]
public sealed partial class AgentJson : JsonSerializerContext;
