namespace Medic.Server.Ai.Tools;

/// <summary>A read-only diagnostic verb as the model sees it: its name, what it shows and the arguments it takes.</summary>
internal sealed record DiagnosticVerbInfo(string Name, string Description, string Arguments);

/// <summary>
/// The agent's read-only diagnostic verbs (src/Medic.Agent/Diagnostics/DiagnosticVerbs.cs), described
/// for a model. The agent checks every argument again and its policy decides; a test keeps this list
/// equal to the agent's.
/// </summary>
internal static class DiagnosticCatalog
{
    public static IReadOnlyList<DiagnosticVerbInfo> Verbs { get; } =
    [
        new("system", "Host summary: hostname, OS, kernel, uptime, load, memory and swap.", "none"),
        new("disk", "Space and inodes used on every mounted filesystem.", "none"),
        new("largest-dirs", "The largest directories under a path on the same filesystem.", "path (absolute, default /), depth (1-3), top (1-50)"),
        new("disk-usage", "What fills the filesystem that holds a path, and the likely cause (journal, rotated or large logs, package cache, old files, deleted-but-open files).", "path (absolute, default /), days (old files threshold)"),
        new("inode-usage", "Inode use of the filesystem that holds a path and the directories with the most entries.", "path (absolute, default /), days"),
        new("deleted-open", "Processes holding deleted files open, biggest first.", "path (absolute, default /)"),
        new("top-cpu", "The processes using the most CPU.", "count (1-50)"),
        new("top-mem", "The processes using the most resident memory.", "count (1-50)"),
        new("service-status", "A systemd unit's state, main PID, memory and last log lines.", "unit (required)"),
        new("journal", "The last lines a systemd unit logged.", "unit (required), lines (1-1000)"),
        new("oom-kills", "Recent out-of-memory kills from the kernel log.", "count (1-200)"),
        new("file-tail", "The last lines of a log file under the allowed directories (/var/log, /tmp by default).", "path (required), lines (1-1000)"),
        new("ports", "Listening TCP and UDP sockets and their processes.", "none"),
        new("port-holder", "The process listening on a TCP port: pid, user, command line and systemd unit.", "port (required)"),
        new("processes", "Processes matching every given selector: pid, user, unit, listening ports, working directory, command line.", "name, pid, port, unit, cmdline, cwd (at least one)"),
        new("stale-lock", "Whether a lock or pid file is stale: the pid inside, whether it is alive, its age.", "path (required), program"),
        new("cert-info", "A certificate's subject, issuer, expiry, days left and whether certbot or acme.sh manages it.", "target (file, host:port or certbot name; required)"),
        new("tcp-probe", "Whether a TCP connection to host:port succeeds, and how long it takes.", "host, port (required), timeout (1-10)"),
        new("http-probe", "GET a URL directly: status, timing, key headers and the first 2 KiB of the body.", "url (required), timeout (1-10)"),
        new("dns", "The addresses a name resolves to on the server.", "name (required), timeout (1-10)"),
        new("tls-expiry", "The TLS certificate host:port serves: subject, issuer, expiry, days left, whether it validates.", "host (required), port (default 443), timeout (1-10)"),
        new("updates", "Packages with updates pending, from the last refreshed index.", "none"),
    ];

    public static IReadOnlyList<string> Names { get; } = [.. Verbs.Select(v => v.Name)];
}
