using Medic.Contracts.Agent;

namespace Medic.Contracts;

public sealed record CreateEnrollmentTokenRequest(IReadOnlyDictionary<string, string>? Tags = null, string? ExpiresIn = null, int? Uses = null);

public sealed record EnrollmentTokenResponse(
    string Id,
    string Prefix,
    IReadOnlyDictionary<string, string> Tags,
    int UsesAllowed,
    int Uses,
    string CreatedBy,
    DateTimeOffset CreatedAt,
    DateTimeOffset ExpiresAt,
    DateTimeOffset? RevokedAt);

/// <summary><c>Secret</c> is what <c>medic-agent enroll --token</c> takes: shown once, stored hashed.</summary>
public sealed record EnrollmentTokenCreatedResponse(EnrollmentTokenResponse Token, string Secret);

/// <summary>
/// An agent binary the control plane serves at <c>Url</c> (relative to it): <c>Sha256</c> is the hex
/// digest of its bytes, <c>Signature</c> the base64 DER ECDSA P-256 signature of that digest by the task-signing key.
/// </summary>
public sealed record AgentBinaryResponse(string Os, string Arch, string Version, string Sha256, long Size, string Signature, string Url);

/// <summary>The one line that installs and enrolls an agent on a new server, as the CLI and the console show it.</summary>
public static class AgentInstall
{
    public static string Command(string server, string token) =>
        $"curl -fsSL {server.TrimEnd('/')}/install.sh | sudo sh -s -- --token {token}";
}

/// <summary>
/// <c>Kind</c>: <c>agent</c> (runs the Medic agent) or <c>agentless</c> (reached through ssh; <c>Ssh</c> says how).
/// For agentless servers <c>Status</c> and <c>LastSeenAt</c> come from the last ssh contact.
/// </summary>
public sealed record ServerResponse(
    string Id,
    string Name,
    NodeStatus Status,
    bool Drained,
    IReadOnlyDictionary<string, string> Tags,
    string? Environment,
    IReadOnlyList<string> Groups,
    DateTimeOffset EnrolledAt,
    DateTimeOffset? LastSeenAt,
    HostFacts? Facts,
    Metrics? Metrics,
    string Kind = "agent",
    SshTargetResponse? Ssh = null);

/// <summary>
/// How an agentless server is reached. <c>Key</c> names a private key file in the control plane's
/// data directory (<c>ssh/keys/TENANT/NAME</c>); <c>HostKey</c> is the pinned host key (<c>type base64</c>),
/// null until first contact when <c>AcceptNewHostKey</c> was chosen.
/// </summary>
public sealed record SshTargetResponse(string Address, string User, string Key, string? HostKey, bool AcceptNewHostKey);

/// <summary>
/// Registers an agentless server. <c>Address</c> is <c>host</c> or <c>host:port</c> (<c>[v6]:port</c>);
/// <c>Key</c> is the name of a private key file in <c>DATA/ssh/keys/TENANT/</c>; give either <c>HostKey</c>
/// (a known_hosts line or <c>type base64</c>, e.g. from ssh-keyscan) or <c>AcceptNewHostKey</c>
/// (trust the key the server shows on first contact, then pin it).
/// </summary>
public sealed record CreateServerRequest(
    string Name,
    string Address,
    string User,
    string Key,
    IReadOnlyDictionary<string, string>? Tags = null,
    string? HostKey = null,
    bool AcceptNewHostKey = false);

/// <summary>Tags to set; a null value removes the tag.</summary>
public sealed record SetTagsRequest(IReadOnlyDictionary<string, string?> Tags);

/// <summary><c>Action</c>: start, stop, restart or status of the systemd <c>Unit</c> (the agent's policy must grant <c>service</c>).</summary>
public sealed record ServiceRequest(string Unit, string Action, int? TimeoutSeconds = null);

public sealed record DiagRequest(string Verb, IReadOnlyDictionary<string, string>? Args = null, int? TimeoutSeconds = null);

/// <summary>
/// One task's outcome on one server. <c>Status</c>: completed, timeout, refused (by the agent's
/// signature checks or local policy, with the rule in <c>Reason</c>), failed, or offline.
/// </summary>
public sealed record TaskRunResponse(
    string TaskId,
    string Server,
    TaskRunStatus Status,
    int? ExitCode,
    long DurationMs,
    bool Truncated,
    string? Reason,
    string Stdout,
    string Stderr);

/// <summary>Which servers: every given criterion must hold (AND). <c>All</c> must be set to target every server.</summary>
public sealed record ExecSelector(
    IReadOnlyList<string>? Names = null,
    IReadOnlyDictionary<string, string>? Tags = null,
    string? Environment = null,
    IReadOnlyList<string>? Groups = null,
    bool All = false);

/// <summary><c>parallel</c> (at most <c>Max</c> at once, default 50), <c>serial</c> (one by one, <c>DelaySeconds</c> apart) or <c>batches</c> of <c>BatchSize</c>.</summary>
public sealed record ExecStrategy(string Kind = "parallel", int? Max = null, int? DelaySeconds = null, int? BatchSize = null);

/// <summary><c>Command</c> runs as <c>sh -c COMMAND</c> on each server (the agent must grant exec); <c>DryRun</c> only resolves the targets.</summary>
public sealed record ExecRequest(string Command, ExecSelector Selector, ExecStrategy? Strategy = null, int? TimeoutSeconds = null, bool DryRun = false);

public sealed record ExecutionResponse(
    string Id,
    string Command,
    string Status,
    bool DryRun,
    IReadOnlyList<string> Targets,
    IReadOnlyList<TaskRunResponse> Results,
    DateTimeOffset CreatedAt,
    DateTimeOffset? FinishedAt);

/// <summary>The last heartbeat of each minute.</summary>
public sealed record MetricsPoint(DateTimeOffset Minute, Medic.Contracts.Agent.Metrics Metrics);

public sealed record MetricsHistoryResponse(string Server, IReadOnlyList<MetricsPoint> Points);
