using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text;
using Medic.Contracts;
using Medic.Contracts.Agent;
using Medic.Server.Audit;
using Medic.Server.Common;
using Medic.Server.Storage;
using Microsoft.Extensions.Options;

namespace Medic.Server.Fleet;

/// <summary>
/// Runs commands on agentless servers through the system <c>ssh</c> client, as a child process
/// with an argv (never a local shell). Host keys are checked strictly against a known_hosts file
/// per server in the data directory; one master connection per server is kept open
/// (ControlMaster/ControlPersist) in a private directory, so only the first command pays for the
/// handshake. Results take the agent's statuses: completed with the exit code, timeout, or
/// offline with ssh's own message when the server cannot be reached or refuses the key.
/// </summary>
internal sealed partial class SshRunner : IAsyncDisposable
{
    /// <summary>How long an idle master connection stays open.</summary>
    public static readonly TimeSpan ControlPersist = TimeSpan.FromMinutes(5);

    /// <summary>The TCP connect bound ssh applies (and the master's whole start is bounded by twice this).</summary>
    public static readonly TimeSpan ConnectTimeout = TimeSpan.FromSeconds(10);

    /// <summary>Grace the server-side <c>timeout</c> gives the command beyond the task's own timeout (the local kill comes first).</summary>
    private const int RemoteGraceSeconds = 1;

    // sun_path holds 108 bytes; ssh binds "PATH.XXXXXXXXXXXXXXXX" first, then renames it to PATH.
    private const int MaxSocketPath = 107 - 17;

    private readonly Database _db;
    private readonly AuditLog _audit;
    private readonly TimeProvider _time;
    private readonly ILogger<SshRunner> _log;
    private readonly string _sshDir;
    private readonly Lazy<string> _muxDir;
    private readonly Lazy<string?> _ssh = new(() => FindOnPath("ssh"));
    private readonly Lazy<string?> _sshKeygen = new(() => FindOnPath("ssh-keygen"));
    private readonly ConcurrentDictionary<string, SemaphoreSlim> _masterLocks = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, string> _masters = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, string> _slugs = new(StringComparer.Ordinal);
    private bool _muxDirIsTemporary;

    public SshRunner(Database db, AuditLog audit, TimeProvider time, IOptions<MedicOptions> options, ILogger<SshRunner> log)
    {
        _db = db;
        _audit = audit;
        _time = time;
        _log = log;
        _sshDir = Path.Combine(options.Value.DataDir, "ssh");
        _muxDir = new Lazy<string>(CreateMuxDirectory);
    }

    /// <summary>Where a tenant's private keys live: <c>DATA/ssh/keys/TENANT-SLUG/</c>.</summary>
    public string KeyDirectory(string tenantSlug) => Path.Combine(_sshDir, "keys", tenantSlug);

    public string KeyFile(string tenantSlug, string keyName) => Path.Combine(KeyDirectory(tenantSlug), keyName);

    /// <summary>The known_hosts file ssh checks this server's host key against (one per server, so tenants and servers never share entries).</summary>
    public string KnownHostsFile(string nodeId) => Path.Combine(_sshDir, "known_hosts.d", nodeId);

    /// <summary>The master connection's socket: per server (not ssh's %C), so two servers with the same address, user and port never share a login.</summary>
    public string ControlPath(string nodeId) =>
        Path.Combine(_muxDir.Value, Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(nodeId)))[..16]);

    /// <summary>
    /// Why a key file cannot be used, with the remedy, or null when ssh can use it: it must exist,
    /// be readable by no one else (ssh ignores it otherwise), and not need a passphrase (ssh runs in batch mode).
    /// </summary>
    public async Task<(string Problem, string Remedy)?> KeyProblemAsync(string tenantSlug, string keyName, CancellationToken ct)
    {
        var path = KeyFile(tenantSlug, keyName);
        if (!File.Exists(path))
        {
            return ($"there is no key file '{keyName}' in {KeyDirectory(tenantSlug)}",
                $"copy the private key there on the control plane: install -D -m 600 KEYFILE {path}");
        }

        if ((File.GetUnixFileMode(path) & (UnixFileMode.GroupRead | UnixFileMode.GroupWrite | UnixFileMode.OtherRead | UnixFileMode.OtherWrite)) != 0)
        {
            return ($"the key file {path} can be read or written by other users, and ssh refuses such keys", $"chmod 600 {path}");
        }

        if (_sshKeygen.Value is { } keygen)
        {
            var check = await CappedProcess.RunAsync(keygen, ["-y", "-P", "", "-f", path], TimeSpan.FromSeconds(10), 64 * 1024, null, ct);
            if (check.ExitCode != 0)
            {
                return ($"the key file '{keyName}' is not a private key ssh can use without a passphrase ({SshText.Oneline(check.Stderr, 200)})",
                    "use an unencrypted OpenSSH private key (ssh-keygen -t ed25519 -N ''), or remove its passphrase with ssh-keygen -p");
            }
        }

        return null;
    }

    /// <summary>Runs <paramref name="argv"/> on an agentless server and waits, bounded by the timeout, for its result.</summary>
    public async Task<TaskRunResponse> RunAsync(NodeRow node, string taskId, IReadOnlyList<string> argv, int timeoutSeconds, long outputCap,
        Func<TaskOutput, ValueTask>? onOutput, CancellationToken ct)
    {
        var clock = Stopwatch.StartNew();
        TaskRunResponse Result(TaskRunStatus status, int? exitCode, bool truncated, string? reason, string stdout = "", string stderr = "") =>
            new(taskId, node.Name, status, exitCode, clock.ElapsedMilliseconds, truncated, reason, stdout, stderr);

        if (_ssh.Value is not { } ssh)
        {
            return Result(TaskRunStatus.Offline, null, false, "the ssh client is not installed on the control plane (install openssh-client there)");
        }

        var address = SshTarget.ParseAddress(node.SshAddress ?? "", out _);
        if (address is null || node.SshUser is null || node.SshKey is null)
        {
            return Result(TaskRunStatus.Failed, null, false, "the server's ssh settings are incomplete; remove it and add it again with medic servers add");
        }

        var timeout = TimeSpan.FromSeconds(timeoutSeconds);
        var slug = await TenantSlugAsync(node.TenantId, ct);
        var target = new Target(node, address, KeyFile(slug, node.SshKey), ControlPath(node.Id));
        var master = await EnsureMasterAsync(ssh, target, timeout, ct);
        if (master is not null)
        {
            LogUnreachable(_log, node.Id, node.Name, master);
            await RecordContactAsync(node, reachable: false, master);
            return Result(TaskRunStatus.Offline, null, false, master);
        }

        var remaining = timeout - clock.Elapsed;
        if (remaining <= TimeSpan.Zero)
        {
            return Result(TaskRunStatus.Timeout, null, false, $"connecting took the whole timeout of {timeoutSeconds} s");
        }

        var args = CommonOptions(target, strictHostKeys: true);
        args.AddRange(["-o", "ControlMaster=no", "-n", "-T", "--", address.Host, SshText.RemoteCommand(argv, timeoutSeconds + RemoteGraceSeconds)]);
        var seq = 0L;
        var run = await CappedProcess.RunAsync(ssh, args, remaining, outputCap,
            onOutput is null ? null : (stream, text) => onOutput(new TaskOutput(taskId, Interlocked.Increment(ref seq), stream, text)), ct);

        if (run.TimedOut)
        {
            return Result(TaskRunStatus.Timeout, null, run.Truncated,
                $"the command did not finish within {timeoutSeconds} s; the ssh client was stopped (the server stops the command a second later where coreutils timeout is installed)",
                run.Stdout, run.Stderr);
        }

        if (run.Cancelled)
        {
            return Result(TaskRunStatus.Failed, null, run.Truncated, "the control plane stopped waiting (it is shutting down)", run.Stdout, run.Stderr);
        }

        if (run.StartFailure is { } failure)
        {
            return Result(TaskRunStatus.Failed, null, false, failure);
        }

        // 255 is ssh's own failure (the master went away and a fresh connection failed too), unless the command itself exited 255.
        if (run.ExitCode == 255 && SshText.DescribeFailure(target.Node, target.Address, run.Stderr, onlyKnown: true) is { } lost)
        {
            LogUnreachable(_log, node.Id, node.Name, lost);
            await RecordContactAsync(node, reachable: false, lost);
            return Result(TaskRunStatus.Offline, null, false, lost, run.Stdout, "");
        }

        await RecordContactAsync(node, reachable: true, "ssh command completed");
        return Result(TaskRunStatus.Completed, run.ExitCode, run.Truncated, null, run.Stdout, run.Stderr);
    }

    /// <summary>Closes the server's master connection and deletes its known_hosts file (the server was removed).</summary>
    public async Task ForgetAsync(string nodeId)
    {
        await CloseMasterAsync(ControlPath(nodeId));
        _masters.TryRemove(nodeId, out _);
        if (File.Exists(KnownHostsFile(nodeId))) File.Delete(KnownHostsFile(nodeId));
    }

    /// <summary>
    /// Makes sure a live master connection exists for the server; returns why none could be opened
    /// (ssh's message with what to do), or null when commands can go through it.
    /// </summary>
    private async Task<string?> EnsureMasterAsync(string ssh, Target target, TimeSpan timeout, CancellationToken ct)
    {
        var gate = _masterLocks.GetOrAdd(target.Node.Id, _ => new SemaphoreSlim(1, 1));
        await gate.WaitAsync(ct);
        try
        {
            if (await MasterAliveAsync(target.ControlPath, ct))
            {
                return null;
            }

            var pinned = WriteKnownHosts(target);
            var args = CommonOptions(target, strictHostKeys: pinned);
            args.AddRange(["-o", "ControlMaster=yes", "-o", $"ControlPersist={(int)ControlPersist.TotalSeconds}",
                "-o", "ServerAliveInterval=15", "-o", "ServerAliveCountMax=3", "-N", "-f", "--", target.Address.Host]);
            var bound = timeout < 2 * ConnectTimeout ? timeout : 2 * ConnectTimeout;
            var start = await CappedProcess.RunAsync(ssh, args, bound, 64 * 1024, null, ct);
            if (start.StartFailure is { } failure) return failure;
            if (start.TimedOut) return $"ssh did not log in to {target.Address} within {bound.TotalSeconds:0} s";
            if (start.Cancelled) return "the control plane stopped waiting (it is shutting down)";
            if (start.ExitCode != 0) return SshText.DescribeFailure(target.Node, target.Address, start.Stderr, onlyKnown: false);

            _masters[target.Node.Id] = target.ControlPath;
            LogMasterOpened(_log, target.Node.Id, target.Node.Name, target.Address.ToString());
            if (!pinned)
            {
                await PinLearnedHostKeyAsync(target);
            }

            return null;
        }
        finally
        {
            gate.Release();
        }
    }

    /// <summary>A socket file whose master died (killed, machine rebooted) is removed so a new master can take its place.</summary>
    private static async Task<bool> MasterAliveAsync(string controlPath, CancellationToken ct)
    {
        if (!File.Exists(controlPath)) return false;
        using var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        try
        {
            await socket.ConnectAsync(new UnixDomainSocketEndPoint(controlPath), ct);
            return true;
        }
        catch (SocketException)
        {
            File.Delete(controlPath);
            return false;
        }
    }

    /// <summary>Writes the pinned host key where ssh reads it; returns whether one is pinned (else ssh may accept the first one it sees).</summary>
    private bool WriteKnownHosts(Target target)
    {
        var path = KnownHostsFile(target.Node.Id);
        CreatePrivateDirectory(Path.GetDirectoryName(path)!);
        if (target.Node.SshHostKey is not { } hostKey)
        {
            if (!File.Exists(path)) WriteFile(path, "");
            return false;
        }

        var line = $"{target.Address.KnownHostsPattern} {hostKey}\n";
        if (!File.Exists(path) || File.ReadAllText(path) != line)
        {
            WriteFile(path, line);
        }

        return true;
    }

    private static void WriteFile(string path, string content)
    {
        var temporary = path + ".tmp-" + Environment.ProcessId.ToString(CultureInfo.InvariantCulture);
        File.WriteAllText(temporary, content);
        File.SetUnixFileMode(temporary, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        File.Move(temporary, path, overwrite: true);
    }

    /// <summary>After a first contact with accept-new, pins the key ssh recorded, with an audit entry naming its fingerprint.</summary>
    private async Task PinLearnedHostKeyAsync(Target target)
    {
        var pattern = target.Address.KnownHostsPattern + " ";
        var line = File.ReadLines(KnownHostsFile(target.Node.Id)).FirstOrDefault(l => l.StartsWith(pattern, StringComparison.Ordinal));
        if (line is null || SshTarget.ParseHostKey(line, out _) is not { } hostKey) return;
        await _db.WriteAsync(async (c, tx) =>
        {
            if (await NodeStore.PinHostKeyAsync(c, tx, target.Node.Id, hostKey))
            {
                await _audit.AppendAsync(c, tx, new AuditRecord(target.Node.TenantId, "system", "server.host_key_pinned", "server:" + target.Node.Id, AuditOutcomes.Success, null,
                    new Dictionary<string, string> { ["name"] = target.Node.Name, ["address"] = target.Address.ToString(), ["fingerprint"] = SshTarget.Fingerprint(hostKey) }));
            }
        });
        target.Node.SshHostKey = hostKey;
        LogHostKeyPinned(_log, target.Node.Id, target.Node.Name, SshTarget.Fingerprint(hostKey));
    }

    /// <summary>Options every ssh invocation for the server shares. No config file is read, so nothing on the control plane's account changes what runs.</summary>
    private List<string> CommonOptions(Target target, bool strictHostKeys) =>
    [
        "-F", "none",
        "-o", "BatchMode=yes",
        "-o", "StrictHostKeyChecking=" + (strictHostKeys ? "yes" : "accept-new"),
        "-o", "UserKnownHostsFile=" + SshText.OptionPath(KnownHostsFile(target.Node.Id)),
        "-o", "GlobalKnownHostsFile=/dev/null",
        "-o", "HashKnownHosts=no",
        "-o", "UpdateHostKeys=no",
        "-o", "CheckHostIP=no",
        "-o", "IdentitiesOnly=yes",
        "-o", "IdentityAgent=none",
        "-o", "IdentityFile=" + SshText.OptionPath(target.KeyFile),
        "-o", "PreferredAuthentications=publickey",
        "-o", $"ConnectTimeout={(int)ConnectTimeout.TotalSeconds}",
        "-o", "LogLevel=ERROR",
        "-o", "ControlPath=" + SshText.OptionPath(target.ControlPath),
        "-l", target.Node.SshUser!,
        "-p", target.Address.Port.ToString(CultureInfo.InvariantCulture),
    ];

    /// <summary>An agentless server's status is its last contact's: reachable is online (and seen now), a failed login or connection offline; transitions are audited as the agent's are.</summary>
    private async Task RecordContactAsync(NodeRow node, bool reachable, string reason)
    {
        var status = reachable ? NodeStatus.Online : NodeStatus.Offline;
        var now = _time.GetUtcNow();
        await _db.WriteAsync(async (c, tx) =>
        {
            if (await NodeStore.SetStatusAsync(c, tx, node.Id, status, now))
            {
                await _audit.AppendAsync(c, tx, new AuditRecord(node.TenantId, "system", "server." + status.ToText(), "server:" + node.Id, AuditOutcomes.Success, null,
                    new Dictionary<string, string> { ["name"] = node.Name, ["reason"] = reason }));
            }

            if (reachable)
            {
                await Dapper.SqlMapper.ExecuteAsync(c, "UPDATE nodes SET last_seen_at = @now WHERE id = @id", new { id = node.Id, now }, tx);
            }
        });
    }

    private async Task<string> TenantSlugAsync(string tenantId, CancellationToken ct)
    {
        if (_slugs.TryGetValue(tenantId, out var slug)) return slug;
        await using var c = await _db.OpenAsync(ct);
        slug = await Dapper.SqlMapper.ExecuteScalarAsync<string>(c, "SELECT slug FROM tenants WHERE id = @tenantId", new { tenantId }) ?? tenantId;
        _slugs[tenantId] = slug;
        return slug;
    }

    private const UnixFileMode PrivateDirectoryMode = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute;

    /// <summary>Creates DATA/ssh and <paramref name="path"/> under it readable by the control plane's user only.</summary>
    private void CreatePrivateDirectory(string path)
    {
        foreach (var dir in new[] { _sshDir, path })
        {
            if (Directory.Exists(dir)) continue;
            Directory.CreateDirectory(dir, PrivateDirectoryMode);
            File.SetUnixFileMode(dir, PrivateDirectoryMode);
        }
    }

    private string CreateMuxDirectory()
    {
        var preferred = Path.Combine(_sshDir, "mux");
        if (preferred.Length + 1 + 16 <= MaxSocketPath)
        {
            CreatePrivateDirectory(preferred);
            return preferred;
        }

        // A deep data directory leaves no room for socket names; a private directory under /tmp does.
        _muxDirIsTemporary = true;
        var temporary = Directory.CreateTempSubdirectory("medic-ssh-").FullName;
        File.SetUnixFileMode(temporary, PrivateDirectoryMode);
        return temporary;
    }

    private async Task CloseMasterAsync(string controlPath)
    {
        if (_ssh.Value is not { } ssh || !File.Exists(controlPath)) return;
        await CappedProcess.RunAsync(ssh, ["-F", "none", "-o", "ControlPath=" + SshText.OptionPath(controlPath), "-O", "exit", "medic"], TimeSpan.FromSeconds(5), 4096, null, CancellationToken.None);
    }

    /// <summary>Closes the master connections this process opened.</summary>
    public async ValueTask DisposeAsync()
    {
        await Task.WhenAll(_masters.Values.Select(CloseMasterAsync));
        _masters.Clear();
        if (_muxDirIsTemporary && _muxDir.IsValueCreated)
        {
            try
            {
                Directory.Delete(_muxDir.Value, recursive: true);
            }
            catch (IOException)
            {
                // A master that has not exited yet still holds its socket; the directory is in /tmp.
            }
        }

        foreach (var gate in _masterLocks.Values) gate.Dispose();
    }

    private static string? FindOnPath(string program) =>
        (Environment.GetEnvironmentVariable("PATH") ?? "/usr/local/bin:/usr/bin:/bin").Split(':', StringSplitOptions.RemoveEmptyEntries)
            .Select(dir => Path.Combine(dir, program)).FirstOrDefault(File.Exists);

    private sealed record Target(NodeRow Node, SshAddress Address, string KeyFile, string ControlPath);
}
