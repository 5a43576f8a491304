using System.Globalization;
using System.Text;
using Medic.Agent.Execution;
using Medic.Agent.Host;

namespace Medic.Agent.Diagnostics;

/// <summary>
/// Why a filesystem is full, measured on that filesystem: what fills its bytes (disk-usage) or its
/// inodes (inode-usage), named as findings triage can choose a recipe by.
/// </summary>
internal static class DiskUsage
{
    /// <summary>A cause is named when it holds at least this share of the bytes found; below it, the disk is full of many things.</summary>
    internal const double CauseShare = 0.25;

    /// <summary>A directory counts as "old files" when at least this share of its bytes (or entries) is older than the age limit.</summary>
    internal const double OldShare = 0.5;

    // The diagnosis runs under triage's 20 s per verb; the walk stops in time to report what it saw.
    internal static readonly TimeSpan WalkBudget = TimeSpan.FromSeconds(12);

    private static readonly string[] Protected = ["/", "/var", "/home", "/root", "/run", "/srv", "/opt", "/mnt", "/media", "/tmp", "/var/tmp", "/var/log", "/var/cache"];

    public static DiagnosticVerb DiskUsageVerb { get; } = new()
    {
        Name = "disk-usage",
        Description = "What fills the filesystem that holds a path: use, largest directories (same filesystem), and the cause (journal, rotated or large logs, package cache, old files, deleted-but-open files).",
        Parameters =
        [
            VerbParameter.AbsolutePath("path", "a path on the filesystem to look at: its mount point, or a directory to look under (absolute, default /)", "/"),
            VerbParameter.Integer("days", "files untouched this many days count as old", 1, 3650, 7),
        ],
        Run = RunDiskUsageAsync,
    };

    public static DiagnosticVerb InodeUsageVerb { get; } = new()
    {
        Name = "inode-usage",
        Description = "Inode use of the filesystem that holds a path and the directories with the most entries, and whether those entries are old.",
        Parameters =
        [
            VerbParameter.AbsolutePath("path", "a path on the filesystem to look at (absolute, default /)", "/"),
            VerbParameter.Integer("days", "entries untouched this many days count as old", 1, 3650, 7),
        ],
        Run = RunInodeUsageAsync,
    };

    private static Task<ProcessOutcome> RunDiskUsageAsync(VerbRun run) => WalkAsync(run, (path, mount, findings, walk, text) =>
    {
        var deleted = DeletedOpenFiles.Scan(path == mount ? mount : path);
        text.AppendLine($"largest directories under {path} (same filesystem):");
        foreach (var directory in walk.Subtrees.Values.Where(d => d.Path != path).OrderByDescending(d => d.TotalBytes).ThenBy(d => d.Path, StringComparer.Ordinal).Take(10))
        {
            text.AppendLine($"{HostVerbs.HumanSize(directory.TotalBytes),8}  {directory.Path}");
        }
        Classify(walk, deleted, findings, text);
    });

    /// <summary>Names the cause of the space used, and the findings a recipe for that cause needs.</summary>
    internal static void Classify(FilesystemWalk walk, IReadOnlyList<DeletedOpenFiles.Held> deleted, Findings findings, StringBuilder text)
    {
        var total = walk.Total;
        var deletedBytes = DeletedOpenFiles.TotalBytes(deleted);
        var old = walk.Focus(d => d.Bytes[(int)SpaceKind.OldFiles]);
        var oldBytes = old.Bytes[(int)SpaceKind.OldFiles];
        var oldApplies = oldBytes >= OldShare * old.TotalBytes && !Protected.Contains(old.Path) && !FilesystemWalk.IsSystemPath(old.Path);
        var candidates = new (string Cause, long Bytes)[]
        {
            ("journal", total.Bytes[(int)SpaceKind.Journal]),
            ("package_cache", total.Bytes[(int)SpaceKind.PackageCache]),
            ("rotated_logs", total.Bytes[(int)SpaceKind.RotatedLogs]),
            ("large_logs", total.Bytes[(int)SpaceKind.ActiveLogs]),
            ("old_files", oldApplies ? oldBytes : 0),
            ("deleted_open", deletedBytes),
        };
        var found = total.TotalBytes + deletedBytes;
        text.AppendLine($"what the {HostVerbs.HumanSize(found)} found is (files untouched for {walk.AgeDays} days count as old):");
        foreach (var (name, bytes) in candidates)
        {
            text.AppendLine($"{HostVerbs.HumanSize(bytes),8}  {Share(bytes, found),6}  {name.Replace('_', ' ')}{(name == "old_files" ? $" in {old.Path}{(oldApplies ? "" : " (not a cleanup target)")}" : "")}");
        }
        if (findings["full"] == "inodes")
        {
            text.AppendLine("cause: the filesystem is short of inodes rather than bytes; inode-usage tells what holds them.");
            findings.Add("cause", "inodes");
            return;
        }
        var (cause, causeBytes) = candidates.MaxBy(c => c.Bytes);
        if (found == 0 || causeBytes < CauseShare * found)
        {
            text.AppendLine($"cause: unknown (nothing Medic can clean holds {CauseShare:P0} or more of the space)");
            findings.Add("cause", "unknown");
            return;
        }
        text.AppendLine($"cause: {cause.Replace('_', ' ')}, {HostVerbs.HumanSize(causeBytes)} ({Share(causeBytes, found)})");
        findings.Add("cause", cause).Add("bytes", causeBytes);
        switch (cause)
        {
            case "old_files":
                findings.Add("directory", old.Path).Add("age_days", walk.AgeDays).Add("files", old.Files[(int)SpaceKind.OldFiles])
                    .Add("pattern", CommonPattern(OldNames(old.Path, walk.AgeDays)));
                break;
            case "rotated_logs":
                var rotated = walk.Focus(d => d.Bytes[(int)SpaceKind.RotatedLogs]);
                findings.Add("directory", rotated.Path).Add("files", rotated.Files[(int)SpaceKind.RotatedLogs]);
                break;
            case "large_logs":
                var logs = walk.Focus(d => d.Bytes[(int)SpaceKind.ActiveLogs]);
                var biggest = Biggest(logs.Path, n => n.EndsWith(".log", StringComparison.Ordinal));
                findings.Add("directory", logs.Path).Add("files", logs.Files[(int)SpaceKind.ActiveLogs]).Add("file", biggest?.FullName)
                    // rotate the logs at least a quarter the size of the biggest: those that matter
                    .Add("min_size_mb", Math.Max(1, (biggest?.Length ?? 0) / 4 / (1024 * 1024)));
                break;
            case "package_cache":
                findings.Add("directory", walk.Focus(d => d.Bytes[(int)SpaceKind.PackageCache]).Path);
                break;
            case "journal":
                findings.Add("directory", walk.Focus(d => d.Bytes[(int)SpaceKind.Journal]).Path);
                break;
            case "deleted_open":
                var holder = DeletedOpenFiles.Summarize(deleted);
                foreach (var key in new[] { "pid", "process", "user", "unit", "fd", "path" })
                {
                    findings.Add(key, holder[key]);
                }
                break;
        }
    }

    private static Task<ProcessOutcome> RunInodeUsageAsync(VerbRun run) => WalkAsync(run, (path, _, findings, walk, text) =>
    {
        var days = walk.AgeDays;
        text.AppendLine($"directories with the most entries directly inside (same filesystem; old = untouched {days} days):");
        foreach (var directory in walk.Directories.OrderByDescending(d => d.Entries).ThenBy(d => d.Path, StringComparer.Ordinal).Take(10))
        {
            text.AppendLine($"{directory.Entries,10} entries  {Share(directory.OldEntries, directory.Entries),6} old  {directory.Path}");
        }
        var focus = walk.Focus(d => d.Entries);
        text.AppendLine($"the entries gather in {focus.Path}: {focus.Entries} in its tree, {Share(focus.OldEntries, focus.Entries)} of them old");
        findings.Add("directory", focus.Path).Add("entries", focus.Entries).Add("old_entries", focus.OldEntries).Add("age_days", days);
        var cause = focus.Entries == 0 ? "unknown"
            : Protected.Contains(focus.Path) && focus.Path is not ("/tmp" or "/var/tmp") || FilesystemWalk.IsSystemPath(focus.Path) ? "system"
            : focus.OldEntries >= OldShare * focus.Entries ? "old_files"
            : "recent_files";
        text.AppendLine(cause switch
        {
            "old_files" => $"cause: old files in {focus.Path}",
            "recent_files" => $"cause: files in {focus.Path} that are mostly newer than {days} days (something is creating them now)",
            "system" => $"cause: entries spread over {focus.Path}, a system directory Medic does not clean",
            _ => "cause: unknown",
        });
        findings.Add("cause", cause);
    });

    /// <summary>
    /// What both verbs do around their own part: check the path, read the filesystem's pressure, walk
    /// it within <see cref="WalkBudget"/>, start the text with the use and the walk, then write the
    /// text and the findings that <paramref name="describe"/> added.
    /// </summary>
    private static async Task<ProcessOutcome> WalkAsync(VerbRun run, Action<string, string, Findings, FilesystemWalk, StringBuilder> describe)
    {
        var (path, days) = (run.Arguments.Text("path"), run.Arguments.Integer("days"));
        if (!Directory.Exists(path))
        {
            await run.WriteLineAsync($"'{path}' is not a directory on this machine.");
            return run.Completed(exitCode: 1, reason: $"'{path}' is not a directory");
        }
        var mount = FilesystemWalk.MountOf(path);
        var findings = Pressure(path, mount);
        var walk = await Task.Run(() => FilesystemWalk.Run(path, days, WalkBudget, DateTime.UtcNow, run.CancellationToken), run.CancellationToken);
        var text = new StringBuilder();
        text.Append(Header(findings, mount));
        text.AppendLine(WalkNote(walk, path));
        describe(path, mount, findings, walk, text);
        return await run.ReportAsync(text.ToString(), findings);
    }

    /// <summary>The mount's use of bytes and inodes, and which of the two is nearer full.</summary>
    internal static Findings Pressure(string path, string mount)
    {
        var findings = new Findings().Add("mount", mount);
        if (StatVfs.Query(path) is not { BytesTotal: > 0 } size)
        {
            return findings;
        }
        var space = 100.0 * size.BytesUsed / size.BytesTotal;
        var inodes = size.InodesTotal > 0 ? 100.0 * size.InodesUsed / size.InodesTotal : 0;
        return findings
            .Add("used_percent", (long)Math.Round(space))
            .Add("free_bytes", size.BytesFree)
            .Add("inodes_used_percent", (long)Math.Round(inodes))
            .Add("full", inodes > space ? "inodes" : "space");
    }

    private static string Header(Findings findings, string mount) =>
        findings["used_percent"] is { } used
            ? $"filesystem {mount}: {used}% of space used, {HostVerbs.HumanSize(long.Parse(findings["free_bytes"]!, CultureInfo.InvariantCulture))} free; {findings["inodes_used_percent"]}% of inodes used\n"
            : $"filesystem {mount}: its size cannot be read (statvfs failed)\n";

    private static string WalkNote(FilesystemWalk walk, string path) =>
        (walk.Complete ? $"walked {path}: {walk.Directories.Count} directories" : $"walked {path} for {WalkBudget.TotalSeconds:0} s, then stopped: {walk.Directories.Count} directories, the figures are partial")
        + (walk.Unreadable > 0 ? $"; {walk.Unreadable} could not be read" : "");

    private static string Share(long part, long whole) => whole <= 0 ? "-" : (100.0 * part / whole).ToString("0", CultureInfo.InvariantCulture) + "%";

    private static List<string> OldNames(string directory, int days)
    {
        var before = DateTime.UtcNow.AddDays(-days);
        try
        {
            return new DirectoryInfo(directory).EnumerateFiles("*", new EnumerationOptions { IgnoreInaccessible = true, RecurseSubdirectories = true, AttributesToSkip = 0 })
                .Where(f => f.LastWriteTimeUtc < before).Take(100_000).Select(f => f.Name).ToList();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return [];
        }
    }

    private static FileInfo? Biggest(string directory, Func<string, bool> name)
    {
        try
        {
            return new DirectoryInfo(directory).EnumerateFiles("*", new EnumerationOptions { IgnoreInaccessible = true, RecurseSubdirectories = true, AttributesToSkip = FileAttributes.ReparsePoint })
                .Where(f => name(f.Name)).Take(100_000).MaxBy(f => f.Length);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    /// <summary>
    /// A shell pattern all the names match, from their common beginning and ending
    /// (<c>db-*.sql.gz</c>, <c>*.tar.gz</c>), or <c>*</c> when they share neither.
    /// </summary>
    internal static string CommonPattern(IReadOnlyList<string> names)
    {
        if (names.Count == 0)
        {
            return "*";
        }
        var prefix = names.Aggregate((a, b) => a[..CommonLength(a, b, fromEnd: false)]);
        var suffix = names.Aggregate((a, b) => a[^CommonLength(a, b, fromEnd: true)..]);
        var shortest = names.Min(n => n.Length);
        if (prefix.Length + suffix.Length > shortest)
        {
            suffix = suffix[(prefix.Length + suffix.Length - shortest)..];
        }
        // Cut a suffix back to where an extension starts, so *.gz rather than *0.gz.
        var dot = suffix.IndexOf('.', StringComparison.Ordinal);
        suffix = dot < 0 ? "" : suffix[dot..];
        var pattern = prefix + "*" + suffix;
        return names.Count > 1 && pattern.Length <= 64 && pattern.All(c => char.IsAsciiLetterOrDigit(c) || c is '*' or '.' or '_' or '-') ? pattern : "*";
    }

    private static int CommonLength(string a, string b, bool fromEnd)
    {
        var n = 0;
        while (n < a.Length && n < b.Length && (fromEnd ? a[^(n + 1)] == b[^(n + 1)] : a[n] == b[n]))
        {
            n++;
        }
        return n;
    }
}
