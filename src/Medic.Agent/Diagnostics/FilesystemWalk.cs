using System.Diagnostics;

namespace Medic.Agent.Diagnostics;

/// <summary>What fills a file: the categories a disk-full diagnosis tells apart.</summary>
internal enum SpaceKind
{
    Journal,
    PackageCache,
    RotatedLogs,
    ActiveLogs,
    OldFiles,
    RecentFiles,
    System,
}

/// <summary>Bytes, files and entries directly in one directory (or, once summed, in its whole subtree).</summary>
internal sealed class DirectoryTally(string path, DirectoryTally? parent)
{
    public static readonly int Kinds = Enum.GetValues<SpaceKind>().Length;

    public string Path { get; } = path;

    public DirectoryTally? Parent { get; } = parent;

    public long[] Bytes { get; } = new long[Kinds];

    public long[] Files { get; } = new long[Kinds];

    /// <summary>Names directly inside (files, directories, links): what uses inodes.</summary>
    public long Entries { get; set; }

    /// <summary>Of <see cref="Entries"/>, those not modified for the walk's age limit.</summary>
    public long OldEntries { get; set; }

    public long TotalBytes => Bytes.Sum();

    public List<DirectoryTally> Children { get; } = [];

    public void AddTo(DirectoryTally other)
    {
        for (var i = 0; i < Kinds; i++)
        {
            other.Bytes[i] += Bytes[i];
            other.Files[i] += Files[i];
        }
        other.Entries += Entries;
        other.OldEntries += OldEntries;
    }
}

/// <summary>
/// Walks a directory tree on one filesystem (other mounts below it are skipped, symbolic links not
/// followed) within a time and entry budget, tallying each file by <see cref="SpaceKind"/>. Both
/// direct and subtree tallies are kept, so the diagnosis can name the directory that holds the bulk.
/// </summary>
internal sealed class FilesystemWalk
{
    private static readonly string[] SystemTrees =
        ["/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32", "/boot", "/etc", "/opt", "/snap", "/nix", "/var/lib", "/proc", "/sys", "/dev", "/run"];

    private static readonly string[] PackageCaches =
        ["/var/cache/apt/", "/var/cache/dnf/", "/var/cache/yum/", "/var/cache/zypp/packages/", "/var/cache/pacman/pkg/", "/var/cache/apk/"];

    private static readonly string[] RotatedSuffixes = [".gz", ".xz", ".bz2", ".zst", ".lz4", ".old", ".bak"];

    private FilesystemWalk(string root, int ageDays)
    {
        Root = root;
        AgeDays = ageDays;
    }

    public string Root { get; }

    public int AgeDays { get; }

    /// <summary>Every directory walked, parents before children; element 0 is the root.</summary>
    public List<DirectoryTally> Directories { get; } = [];

    /// <summary>Subtree totals, by directory path.</summary>
    public Dictionary<string, DirectoryTally> Subtrees { get; } = new(StringComparer.Ordinal);

    public bool Complete { get; private set; } = true;

    public int Unreadable { get; private set; }

    public DirectoryTally Total => Subtrees[Root];

    public static FilesystemWalk Run(string root, int ageDays, TimeSpan budget, DateTime nowUtc, CancellationToken ct, long maxEntries = 5_000_000)
    {
        var walk = new FilesystemWalk(root, ageDays);
        var otherMounts = MountPoints().Where(m => m != root && (root == "/" || DiagnosticOptions.IsUnder(m, root))).ToHashSet(StringComparer.Ordinal);
        var oldBefore = nowUtc.AddDays(-ageDays);
        var clock = Stopwatch.StartNew();
        var pending = new Stack<DirectoryTally>();
        pending.Push(new DirectoryTally(root, null));
        long entries = 0;
        var options = new EnumerationOptions { IgnoreInaccessible = true, RecurseSubdirectories = false, AttributesToSkip = 0, ReturnSpecialDirectories = false };
        while (pending.Count > 0)
        {
            if (clock.Elapsed > budget || entries > maxEntries)
            {
                walk.Complete = false;
                break;
            }
            ct.ThrowIfCancellationRequested();
            var directory = pending.Pop();
            walk.Directories.Add(directory);
            directory.Parent?.Children.Add(directory);
            IEnumerable<FileSystemInfo> listing;
            try
            {
                listing = new DirectoryInfo(directory.Path).EnumerateFileSystemInfos("*", options).ToList();
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                walk.Unreadable++;
                continue;
            }
            foreach (var entry in listing)
            {
                entries++;
                directory.Entries++;
                var old = entry.LastWriteTimeUtc < oldBefore;
                if (old)
                {
                    directory.OldEntries++;
                }
                if ((entry.Attributes & FileAttributes.ReparsePoint) != 0)
                {
                    continue; // a symbolic link: its target is counted where it lives
                }
                if (entry is DirectoryInfo)
                {
                    if (!otherMounts.Contains(entry.FullName))
                    {
                        pending.Push(new DirectoryTally(entry.FullName, directory));
                    }
                    continue;
                }
                if (entry is FileInfo file)
                {
                    var kind = Classify(file.FullName, old);
                    directory.Bytes[(int)kind] += file.Length;
                    directory.Files[(int)kind]++;
                }
            }
        }
        // Children were appended after their parents, so summing from the end reaches each parent complete.
        for (var i = walk.Directories.Count - 1; i >= 0; i--)
        {
            var direct = walk.Directories[i];
            var subtree = walk.Subtrees.TryGetValue(direct.Path, out var partial) ? partial : new DirectoryTally(direct.Path, null);
            direct.AddTo(subtree);
            walk.Subtrees[direct.Path] = subtree;
            if (direct.Parent is { } parent)
            {
                if (!walk.Subtrees.TryGetValue(parent.Path, out var parentTotal))
                {
                    walk.Subtrees[parent.Path] = parentTotal = new DirectoryTally(parent.Path, null);
                }
                subtree.AddTo(parentTotal);
            }
        }
        return walk;
    }

    /// <summary>
    /// The most specific directory holding the bulk of what <paramref name="measure"/> counts: from
    /// the root, step into the child that holds at least 80 % of it, as long as there is one.
    /// </summary>
    public DirectoryTally Focus(Func<DirectoryTally, long> measure)
    {
        var direct = Directories[0];
        while (true)
        {
            var here = measure(Subtrees[direct.Path]);
            var next = direct.Children.Select(c => (Child: c, Amount: measure(Subtrees[c.Path]))).OrderByDescending(c => c.Amount).FirstOrDefault();
            if (here <= 0 || next.Child is null || next.Amount < here * 0.8)
            {
                return Subtrees[direct.Path];
            }
            direct = next.Child;
        }
    }

    /// <summary>The file's category by where it lives and what it is called; system trees and package files are never "old files".</summary>
    internal static SpaceKind Classify(string path, bool old)
    {
        var name = System.IO.Path.GetFileName(path);
        if (name.EndsWith(".journal", StringComparison.Ordinal) || name.EndsWith(".journal~", StringComparison.Ordinal))
        {
            return SpaceKind.Journal;
        }
        if (PackageCaches.Any(c => path.StartsWith(c, StringComparison.Ordinal)))
        {
            return SpaceKind.PackageCache;
        }
        if (InLogDirectory(path))
        {
            if (IsRotatedName(name))
            {
                return SpaceKind.RotatedLogs;
            }
            if (name.EndsWith(".log", StringComparison.Ordinal))
            {
                return SpaceKind.ActiveLogs;
            }
        }
        if (IsSystemPath(path))
        {
            return SpaceKind.System;
        }
        return old ? SpaceKind.OldFiles : SpaceKind.RecentFiles;
    }

    /// <summary>Paths the operating system and installed software own (and live data under /var/lib): never a cleanup target.</summary>
    internal static bool IsSystemPath(string path) =>
        SystemTrees.Any(t => path == t || DiagnosticOptions.IsUnder(path, t));

    private static bool InLogDirectory(string path)
    {
        var segments = path.Split('/');
        return segments.Take(segments.Length - 1).Any(s => s is "log" or "logs");
    }

    /// <summary>What logrotate and friends leave behind: app.log.1, app.log.2.gz, app.log-20240101, syslog.old.</summary>
    internal static bool IsRotatedName(string name)
    {
        var stem = name;
        foreach (var suffix in RotatedSuffixes)
        {
            if (stem.EndsWith(suffix, StringComparison.Ordinal) && stem.Length > suffix.Length)
            {
                return true;
            }
        }
        var dot = stem.LastIndexOf('.');
        if (dot > 0 && dot < stem.Length - 1 && stem[(dot + 1)..].All(char.IsAsciiDigit))
        {
            return true;
        }
        var dash = stem.LastIndexOf('-');
        return dash > 0 && stem.Length - dash - 1 is 8 or 10 && stem[(dash + 1)..].All(char.IsAsciiDigit);
    }

    /// <summary>Every mount point in this mount namespace (pseudo filesystems too: a walk never enters one).</summary>
    internal static IReadOnlyList<string> MountPoints()
    {
        string text;
        try
        {
            text = File.ReadAllText("/proc/self/mounts");
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return [];
        }
        return text.Split('\n').Select(l => l.Split(' ')).Where(f => f.Length > 2).Select(f => Unescape(f[1])).ToList();
    }

    /// <summary>The mount point whose filesystem holds <paramref name="path"/>: the longest mount point it lies under.</summary>
    internal static string MountOf(string path) =>
        MountPoints().Where(m => m == "/" || m == path || DiagnosticOptions.IsUnder(path, m)).OrderByDescending(m => m.Length).FirstOrDefault() ?? "/";

    private static string Unescape(string field) =>
        !field.Contains('\\') ? field : System.Text.RegularExpressions.Regex.Replace(field, @"\\([0-7]{3})", m => ((char)Convert.ToInt32(m.Groups[1].Value, 8)).ToString());
}
