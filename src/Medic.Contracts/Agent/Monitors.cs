using System.Text.Json.Serialization;

namespace Medic.Contracts.Agent;

/// <summary>What a monitor watches; each kind reads its own fields of <see cref="MonitorDefinition"/>.</summary>
[JsonConverter(typeof(JsonStringEnumConverter<MonitorKind>))]
public enum MonitorKind
{
    [JsonStringEnumMemberName("process")] Process,
    [JsonStringEnumMemberName("http")] Http,
    [JsonStringEnumMemberName("tcp")] Tcp,
    [JsonStringEnumMemberName("disk")] Disk,
    [JsonStringEnumMemberName("memory")] Memory,
    [JsonStringEnumMemberName("cpu")] Cpu,
    [JsonStringEnumMemberName("load")] Load,
    [JsonStringEnumMemberName("log")] Log,
    [JsonStringEnumMemberName("tls")] Tls,
    [JsonStringEnumMemberName("file_age")] FileAge,
    [JsonStringEnumMemberName("command")] Command,
}

[JsonConverter(typeof(JsonStringEnumConverter<MonitorSeverity>))]
public enum MonitorSeverity
{
    [JsonStringEnumMemberName("info")] Info,
    [JsonStringEnumMemberName("warning")] Warning,
    [JsonStringEnumMemberName("critical")] Critical,
}

/// <summary>
/// One monitor, as written in a monitors file (docs/monitors.md) or pushed by the control plane.
/// Durations are seconds. Fields that do not belong to <see cref="Kind"/> are refused by the
/// agent's validation rather than ignored.
/// </summary>
/// <remarks>
/// The initializers are the one source of defaults (the CLI, the API and the agent all rely on
/// them). Properties with a default are settable rather than init-only on purpose: the JSON source
/// generator sets every init-only property, absent ones to zero, which would turn an omitted
/// <c>recover_after</c> into 0 and an omitted <c>severity</c> into info.
/// </remarks>
public sealed record MonitorDefinition
{
    public required string Name { get; init; }

    public required MonitorKind Kind { get; init; }

    /// <summary>Seconds between checks; null means the kind's default (1 s for process, else 15 s).</summary>
    public double? IntervalSeconds { get; init; }

    /// <summary>How long the condition must hold before the monitor fires.</summary>
    public double ForSeconds { get; init; }

    /// <summary>Consecutive passing checks needed to resolve a firing monitor.</summary>
    public int RecoverAfter { get; set; } = 1;

    /// <summary>For metric kinds: the value must fall below this (not just below the threshold) to count as recovered.</summary>
    public double? RecoverBelow { get; init; }

    public MonitorSeverity Severity { get; set; } = MonitorSeverity.Critical;

    public IReadOnlyDictionary<string, string> Labels { get; set; } = new Dictionary<string, string>();

    /// <summary>Seconds a single check may take (probes, commands).</summary>
    public double TimeoutSeconds { get; set; } = 5;

    // process
    public string? Unit { get; init; }

    /// <summary>A regular expression matched against each process's command line.</summary>
    public string? Match { get; init; }

    public string? Pidfile { get; init; }

    /// <summary>An argv the agent starts and supervises itself (its own process group).</summary>
    public IReadOnlyList<string>? Start { get; init; }

    public string? WorkingDirectory { get; init; }

    public HealthCheckDefinition? Health { get; init; }

    public HealDefinition? Heal { get; init; }

    /// <summary>CPU and memory limits of the process; crossing one for its duration opens its own incident.</summary>
    public ProcessLimitsDefinition? Limits { get; init; }

    // http
    public string? Url { get; init; }

    public int? ExpectStatus { get; init; }

    public string? BodyRegex { get; init; }

    // tcp, tls
    public string? Host { get; init; }

    public int? Port { get; init; }

    // disk
    public string? Mount { get; init; }

    /// <summary>Disk bytes, memory or CPU: fire at or above this percentage.</summary>
    public double? MaxPercent { get; init; }

    public double? MaxInodesPercent { get; init; }

    // load
    public double? MaxLoad { get; init; }

    // log, file_age
    public string? Path { get; init; }

    public string? Pattern { get; init; }

    /// <summary>Log: fire when this many lines match within <see cref="WindowSeconds"/>.</summary>
    public int? Count { get; init; }

    public double? WindowSeconds { get; init; }

    // tls
    public int? MinDays { get; init; }

    // file_age
    public double? MaxAgeSeconds { get; init; }

    // command
    public IReadOnlyList<string>? Command { get; init; }
}

/// <summary>
/// Resource limits of a process monitor's process: CPU as a percentage of one core (averaged over
/// the last 10 s of samples), resident memory in bytes. Crossing one for <see cref="ForSeconds"/>
/// opens a process_runaway (CPU) or process_leaking (memory) incident naming the
/// process; the restart ladder does not act on it (the pipeline's triage rules choose the remedy).
/// </summary>
public sealed record ProcessLimitsDefinition
{
    public double? CpuPercent { get; init; }

    public long? MemoryBytes { get; init; }

    public double ForSeconds { get; init; }
}

/// <summary>How a process monitor decides the process is alive but not working (hung).</summary>
public sealed record HealthCheckDefinition
{
    public string? Http { get; init; }

    public int? ExpectStatus { get; init; }

    /// <summary>host:port that must accept a TCP connection.</summary>
    public string? Tcp { get; init; }

    public double TimeoutSeconds { get; set; } = 2;

    /// <summary>Consecutive failed health checks of a live process before it counts as hung.</summary>
    public int Failures { get; set; } = 3;
}

/// <summary>The self-healing ladder's limits for one process monitor.</summary>
public sealed record HealDefinition
{
    public int MaxRestarts { get; set; } = 5;

    public double WindowSeconds { get; set; } = 600;

    /// <summary>Health checks after a restart before that restart counts as failed.</summary>
    public int Retries { get; set; } = 10;

    /// <summary>Seconds between those health checks.</summary>
    public double DelaySeconds { get; set; } = 0.5;

    /// <summary>Seconds before the second restart, doubling before each further one (0: no wait); the first restart is immediate.</summary>
    public double BackoffSeconds { get; set; } = 1;

    /// <summary>The cap of that doubling wait.</summary>
    public double BackoffMaxSeconds { get; set; } = 60;

    /// <summary>After giving up, one more restart this often (0: never); a change to a watched file retries at once.</summary>
    public double RetryAfterSeconds { get; set; } = 300;

    /// <summary>Files whose change (a person fixing the config) makes a ladder that gave up retry at once; the unit's own files are watched too.</summary>
    public IReadOnlyList<string>? Watch { get; init; }
}

public sealed record MonitorSet(IReadOnlyList<MonitorDefinition> Monitors);

[JsonSourceGenerationOptions(
    PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower,
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    UseStringEnumConverter = false)]
[JsonSerializable(typeof(MonitorSet))]
[JsonSerializable(typeof(MonitorDefinition))]
[JsonSerializable(typeof(AgentEvent))]
public sealed partial class MonitorJson : JsonSerializerContext;
