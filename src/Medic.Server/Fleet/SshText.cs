using System.Globalization;

namespace Medic.Server.Fleet;

/// <summary>The text <see cref="SshRunner"/> hands ssh (option paths, the remote command line) and the reasons it makes of ssh's stderr.</summary>
internal static class SshText
{
    /// <summary>
    /// Runs on the server before the command: stops it (and what it started) once the task's time is
    /// up even though the ssh client that was killed locally cannot, where coreutils timeout exists.
    /// </summary>
    private const string RemoteWrapper = "t=$1; shift; if command -v timeout >/dev/null 2>&1; then exec timeout -k 5 \"$t\" \"$@\"; fi; exec \"$@\"";

    /// <summary>ssh expands %-tokens in these paths and splits option values on spaces; a path is written so it reads back as itself.</summary>
    internal static string OptionPath(string path)
    {
        var escaped = path.Replace("%", "%%", StringComparison.Ordinal);
        return escaped.Any(char.IsWhiteSpace) ? "\"" + escaped + "\"" : escaped;
    }

    /// <summary>
    /// ssh hands the server one string for the user's login shell; each argument is single-quoted
    /// in it, so the command arrives as the same argv the agent would run.
    /// </summary>
    internal static string RemoteCommand(IReadOnlyList<string> argv, int remoteTimeoutSeconds) =>
        string.Join(' ', new[] { "sh", "-c", RemoteWrapper, "medic", remoteTimeoutSeconds.ToString(CultureInfo.InvariantCulture) }.Concat(argv).Select(Quote));

    internal static string Quote(string arg) => "'" + arg.Replace("'", "'\\''", StringComparison.Ordinal) + "'";

    /// <summary>
    /// ssh's stderr turned into one reason with what to do; with <paramref name="onlyKnown"/>, null
    /// unless it is one of ssh's connection or login failures (a command may exit 255 by itself).
    /// </summary>
    internal static string? DescribeFailure(NodeRow node, SshAddress address, string stderr, bool onlyKnown)
    {
        var message = Oneline(stderr, 400);
        var where = $"{node.SshUser}@{address}";
        if (stderr.Contains("Host key verification failed", StringComparison.Ordinal))
        {
            return stderr.Contains("has changed", StringComparison.Ordinal)
                ? $"ssh refused {address}: its host key is not the one pinned for this server (ssh: {HostKeyChangedLine(stderr)}); if the server was reinstalled, remove it and add it again with its new --host-key"
                : $"ssh refused {address}: no host key is pinned for it (ssh: {message}); add the server with --host-key (from ssh-keyscan) or --accept-new-host-key";
        }

        if (stderr.Contains("Permission denied", StringComparison.Ordinal))
        {
            return $"ssh login as {where} failed (ssh: {message}); add the public half of key '{node.SshKey}' to ~{node.SshUser}/.ssh/authorized_keys on the server";
        }

        var known = stderr.StartsWith("ssh: ", StringComparison.Ordinal) || stderr.Contains("Connection closed by", StringComparison.Ordinal)
            || stderr.Contains("Connection reset by", StringComparison.Ordinal) || stderr.Contains("kex_exchange_identification", StringComparison.Ordinal)
            || stderr.Contains("Connection timed out", StringComparison.Ordinal) || stderr.Contains("Could not resolve hostname", StringComparison.Ordinal);
        if (onlyKnown && !known) return null;
        return $"ssh could not reach {where} ({(message.Length > 0 ? "ssh: " + message : "ssh exited without a message")})";
    }

    private static string HostKeyChangedLine(string stderr) =>
        stderr.Split('\n').FirstOrDefault(l => l.Contains("has changed", StringComparison.Ordinal))?.Trim() ?? "host key changed";

    /// <summary>ssh's message on one line: banner lines of '@' dropped, the last lines kept.</summary>
    internal static string Oneline(string text, int max)
    {
        var lines = text.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Where(l => l.Trim('@').Length > 0).ToList();
        var joined = string.Join(" ", lines.TakeLast(3));
        return joined.Length <= max ? joined : joined[^max..];
    }
}
