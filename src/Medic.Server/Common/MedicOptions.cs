using Microsoft.Extensions.Configuration;

namespace Medic.Server.Common;

/// <summary>Everything the control plane reads at start-up. See docs/configuration.md.</summary>
public sealed class MedicOptions
{
    public const string DefaultListen = "http://127.0.0.1:7431";

    /// <summary>Where the database (SQLite), the master key and the session keys live.</summary>
    [ConfigurationKeyName("data_dir")]
    public string DataDir { get; set; } = "";

    /// <summary><c>sqlite:PATH</c> or a PostgreSQL connection string; default <c>sqlite:{DataDir}/medic.db</c>.</summary>
    [ConfigurationKeyName("database")]
    public string? Database { get; set; }

    /// <summary>Kestrel URL(s), separated by ';'. Loopback by default.</summary>
    [ConfigurationKeyName("listen")]
    public string Listen { get; set; } = DefaultListen;

    /// <summary>Path of the 32-byte master key; default <c>{DataDir}/master.key</c>. <c>MEDIC_MASTER_KEY</c> overrides it.</summary>
    [ConfigurationKeyName("master_key_file")]
    public string? MasterKeyFile { get; set; }

    /// <summary>
    /// Addresses of reverse proxies whose X-Forwarded-For/-Proto headers are believed (client
    /// address for rate limits and audit, and HTTPS for Secure cookies). Empty: headers ignored.
    /// </summary>
    [ConfigurationKeyName("trusted_proxies")]
    public List<string> TrustedProxies { get; set; } = [];

    [ConfigurationKeyName("rate_limits")]
    public RateLimitOptions RateLimits { get; set; } = new();

    [ConfigurationKeyName("tokens")]
    public TokenOptions Tokens { get; set; } = new();

    [ConfigurationKeyName("agents")]
    public AgentOptions Agents { get; set; } = new();

    [ConfigurationKeyName("early_warning")]
    public EarlyWarningOptions EarlyWarning { get; set; } = new();

    [ConfigurationKeyName("checks")]
    public CheckOptions Checks { get; set; } = new();

    /// <summary>The console's address as people reach it (behind a proxy, say), for links in notifications; default the first listen URL.</summary>
    [ConfigurationKeyName("public_url")]
    public string? PublicUrl { get; set; }

    [ConfigurationKeyName("notifications")]
    public NotificationOptions Notifications { get; set; } = new();

    /// <summary>
    /// Start even though the SQLite database is missing while the data directory holds an earlier
    /// installation's keys (<c>MEDIC_ACCEPT_FRESH_DATABASE=1</c>); without it such a start is refused.
    /// </summary>
    [ConfigurationKeyName("accept_fresh_database")]
    public bool AcceptFreshDatabase { get; set; }

    [ConfigurationKeyName("audit")]
    public AuditOptions Audit { get; set; } = new();

    [ConfigurationKeyName("pipeline")]
    public PipelineOptions Pipeline { get; set; } = new();

    [ConfigurationKeyName("ai")]
    public AiOptions Ai { get; set; } = new();

    /// <summary>
    /// The directory of agent binaries (<c>medic-agent-linux-x64</c>, <c>medic-agent-linux-arm64</c>) that
    /// <c>/install.sh</c> installs; unset: <c>{DataDir}/agent-binaries</c>, then <c>agent/</c> beside the medic executable.
    /// </summary>
    [ConfigurationKeyName("agent_binaries")]
    public string? AgentBinaries { get; set; }

    [ConfigurationKeyName("metrics")]
    public MetricsOptions Metrics { get; set; } = new();

    public string DatabaseUrl => string.IsNullOrWhiteSpace(Database) ? "sqlite:" + Path.Combine(DataDir, "medic.db") : Database!;

    /// <summary>Where agent binaries are looked for, in order: the first directory that holds a file serves it.</summary>
    public IReadOnlyList<string> AgentBinaryDirectories => string.IsNullOrWhiteSpace(AgentBinaries)
        ? [Path.Combine(DataDir, "agent-binaries"), Path.Combine(AppContext.BaseDirectory, "agent")]
        : [AgentBinaries!];

    public string TaskSigningKeyPath => Path.Combine(DataDir, "task-signing.key");

    public string AuditCheckpointKeyPath => string.IsNullOrWhiteSpace(Audit.CheckpointKeyFile) ? Path.Combine(DataDir, "keys", "audit-checkpoint.key") : Audit.CheckpointKeyFile!;

    public string MasterKeyPath => string.IsNullOrWhiteSpace(MasterKeyFile) ? Path.Combine(DataDir, "master.key") : MasterKeyFile!;
}

public sealed class RateLimitOptions
{
    /// <summary>Password attempts per client address per minute (console and token login together).</summary>
    [ConfigurationKeyName("login_per_minute")]
    public int LoginPerMinute { get; set; } = 10;

    /// <summary>API requests per authenticated token or session per minute.</summary>
    [ConfigurationKeyName("api_per_minute")]
    public int ApiPerMinute { get; set; } = 600;

    /// <summary>Authenticated alert webhook deliveries per tenant and source per minute; refused ones per client address per minute.</summary>
    [ConfigurationKeyName("webhooks_per_minute")]
    public int WebhooksPerMinute { get; set; } = 60;
}

public sealed class AgentOptions
{
    /// <summary>Seconds between agent heartbeats; three missed ones mark a server offline.</summary>
    [ConfigurationKeyName("heartbeat_seconds")]
    public int HeartbeatSeconds { get; set; } = 15;
}

/// <summary>The early-warning patrol: time-to-full forecasts of disks and process memory. See docs/detection.md.</summary>
public sealed class EarlyWarningOptions
{
    /// <summary>How often every server's history is forecast.</summary>
    [ConfigurationKeyName("interval")]
    public string Interval { get; set; } = "5m";

    /// <summary>Warn when a disk, its inodes or the memory a process can take is predicted to run out within this time.</summary>
    [ConfigurationKeyName("horizon")]
    public string Horizon { get; set; } = "24h";
}

public sealed class CheckOptions
{
    /// <summary>The scheduler looks for due checks at least this often; each check also has its own interval.</summary>
    [ConfigurationKeyName("sweep_seconds")]
    public int SweepSeconds { get; set; } = 60;
}

public sealed class NotificationOptions
{
    /// <summary>A flapping incident's opened and resolved notifications are sent at most once per this many minutes.</summary>
    [ConfigurationKeyName("damping_minutes")]
    public int DampingMinutes { get; set; } = 30;

    /// <summary>Attempts per delivery (retried with backoff from 2 s doubling) before it is dead.</summary>
    [ConfigurationKeyName("max_attempts")]
    public int MaxAttempts { get; set; } = 8;
}

/// <summary>The remediation pipeline's waits. See docs/pipeline.md.</summary>
public sealed class PipelineOptions
{
    /// <summary>How long a remediation waits for its server's agent to (re)connect before it fails as offline.</summary>
    [ConfigurationKeyName("node_grace_seconds")]
    public int NodeGraceSeconds { get; set; } = 60;

    /// <summary>How long verification waits for the incident's source (agent monitor, alert, forecast) to report the problem over.</summary>
    [ConfigurationKeyName("signal_wait_seconds")]
    public int SignalWaitSeconds { get; set; } = 600;
}

public sealed class TokenOptions
{
    [ConfigurationKeyName("default_lifetime")]
    public string DefaultLifetime { get; set; } = "90d";

    [ConfigurationKeyName("max_lifetime")]
    public string MaxLifetime { get; set; } = "365d";
}

/// <summary>Signed checkpoints of the audit chains. See docs/security.md.</summary>
public sealed class AuditOptions
{
    /// <summary>How often every chain whose head moved is checkpointed (signed); from 1m to 7d.</summary>
    [ConfigurationKeyName("checkpoint_interval")]
    public string CheckpointInterval { get; set; } = "1h";

    /// <summary>The ECDSA P-256 key (PEM) that signs checkpoints; default <c>{DataDir}/keys/audit-checkpoint.key</c>, created when missing.</summary>
    [ConfigurationKeyName("checkpoint_key_file")]
    public string? CheckpointKeyFile { get; set; }

    /// <summary>When set, every new checkpoint is POSTed here as JSON, to keep a copy off the machine.</summary>
    [ConfigurationKeyName("checkpoint_webhook")]
    public string? CheckpointWebhook { get; set; }
}

/// <summary>What <c>/metrics</c> serves (docs/metrics.md).</summary>
public sealed class MetricsOptions
{
    /// <summary>The longest a gauge read from the database (incidents by state, the job queue) is served before it is read again.</summary>
    [ConfigurationKeyName("refresh_seconds")]
    public int RefreshSeconds { get; set; } = 15;
}
