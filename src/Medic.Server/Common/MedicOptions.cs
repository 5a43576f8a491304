namespace Medic.Server.Common;

/// <summary>Everything the control plane reads at start-up. See docs/configuration.md.</summary>
public sealed class MedicOptions
{
    public const string DefaultListen = "http://127.0.0.1:7431";

    /// <summary>Where the database (SQLite), the master key and the session keys live.</summary>
    public string DataDir { get; set; } = "";

    /// <summary><c>sqlite:PATH</c> or a PostgreSQL connection string; default <c>sqlite:{DataDir}/medic.db</c>.</summary>
    public string? Database { get; set; }

    /// <summary>Kestrel URL(s), separated by ';'. Loopback by default.</summary>
    public string Listen { get; set; } = DefaultListen;

    /// <summary>Path of the 32-byte master key; default <c>{DataDir}/master.key</c>. <c>MEDIC_MASTER_KEY</c> overrides it.</summary>
    public string? MasterKeyFile { get; set; }

    /// <summary>
    /// Addresses of reverse proxies whose X-Forwarded-For/-Proto headers are believed (client
    /// address for rate limits and audit, and HTTPS for Secure cookies). Empty: headers ignored.
    /// </summary>
    public List<string> TrustedProxies { get; set; } = [];

    public RateLimitOptions RateLimits { get; set; } = new();

    public TokenOptions Tokens { get; set; } = new();

    public AgentOptions Agents { get; set; } = new();

    public EarlyWarningOptions EarlyWarning { get; set; } = new();

    public CheckOptions Checks { get; set; } = new();

    /// <summary>The console's address as people reach it (behind a proxy, say), for links in notifications; default the first listen URL.</summary>
    public string? PublicUrl { get; set; }

    public NotificationOptions Notifications { get; set; } = new();

    /// <summary>
    /// Start even though the SQLite database is missing while the data directory holds an earlier
    /// installation's keys (<c>MEDIC_ACCEPT_FRESH_DATABASE=1</c>); without it such a start is refused.
    /// </summary>
    public bool AcceptFreshDatabase { get; set; }

    public AuditOptions Audit { get; set; } = new();

    public PipelineOptions Pipeline { get; set; } = new();

    public string DatabaseUrl => string.IsNullOrWhiteSpace(Database) ? "sqlite:" + Path.Combine(DataDir, "medic.db") : Database!;

    public string TaskSigningKeyPath => Path.Combine(DataDir, "task-signing.key");

    public string AuditCheckpointKeyPath => string.IsNullOrWhiteSpace(Audit.CheckpointKeyFile) ? Path.Combine(DataDir, "keys", "audit-checkpoint.key") : Audit.CheckpointKeyFile!;

    public string MasterKeyPath => string.IsNullOrWhiteSpace(MasterKeyFile) ? Path.Combine(DataDir, "master.key") : MasterKeyFile!;
}

public sealed class RateLimitOptions
{
    /// <summary>Password attempts per client address per minute (console and token login together).</summary>
    public int LoginPerMinute { get; set; } = 10;

    /// <summary>API requests per authenticated token or session per minute.</summary>
    public int ApiPerMinute { get; set; } = 600;

    /// <summary>Authenticated alert webhook deliveries per tenant and source per minute; refused ones per client address per minute.</summary>
    public int WebhooksPerMinute { get; set; } = 60;
}

public sealed class AgentOptions
{
    /// <summary>Seconds between agent heartbeats; three missed ones mark a server offline.</summary>
    public int HeartbeatSeconds { get; set; } = 15;
}

/// <summary>The early-warning patrol: time-to-full forecasts of disks and process memory. See docs/detection.md.</summary>
public sealed class EarlyWarningOptions
{
    /// <summary>How often every server's history is forecast.</summary>
    public string Interval { get; set; } = "5m";

    /// <summary>Warn when a disk, its inodes or the memory a process can take is predicted to run out within this time.</summary>
    public string Horizon { get; set; } = "24h";
}

public sealed class CheckOptions
{
    /// <summary>The scheduler looks for due checks at least this often; each check also has its own interval.</summary>
    public int SweepSeconds { get; set; } = 60;
}

public sealed class NotificationOptions
{
    /// <summary>A flapping incident's opened and resolved notifications are sent at most once per this many minutes.</summary>
    public int DampingMinutes { get; set; } = 30;

    /// <summary>Attempts per delivery (retried with backoff from 2 s doubling) before it is dead.</summary>
    public int MaxAttempts { get; set; } = 8;
}

/// <summary>The remediation pipeline's waits. See docs/pipeline.md.</summary>
public sealed class PipelineOptions
{
    /// <summary>How long a remediation waits for its server's agent to (re)connect before it fails as offline.</summary>
    public int NodeGraceSeconds { get; set; } = 60;

    /// <summary>How long verification waits for the incident's source (agent monitor, alert, forecast) to report the problem over.</summary>
    public int SignalWaitSeconds { get; set; } = 600;
}

public sealed class TokenOptions
{
    public string DefaultLifetime { get; set; } = "90d";

    public string MaxLifetime { get; set; } = "365d";
}

/// <summary>Signed checkpoints of the audit chains. See docs/security.md.</summary>
public sealed class AuditOptions
{
    /// <summary>How often every chain whose head moved is checkpointed (signed); from 1m to 7d.</summary>
    public string CheckpointInterval { get; set; } = "1h";

    /// <summary>The ECDSA P-256 key (PEM) that signs checkpoints; default <c>{DataDir}/keys/audit-checkpoint.key</c>, created when missing.</summary>
    public string? CheckpointKeyFile { get; set; }

    /// <summary>When set, every new checkpoint is POSTed here as JSON, to keep a copy off the machine.</summary>
    public string? CheckpointWebhook { get; set; }
}
