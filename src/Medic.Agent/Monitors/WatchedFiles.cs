using System.Globalization;
using System.Security.Cryptography;

namespace Medic.Agent.Monitors;

/// <summary>
/// The files a ladder that gave up watches for a person's fix (the service's config, its unit
/// file, its program): polled on the monitor's tick by size, mtime and (for files up to
/// <see cref="MaxHashBytes"/>) content hash, so no inotify is needed. A directory counts as
/// changed when an entry directly in it appears, goes or changes.
/// </summary>
internal sealed class WatchedFiles
{
    private const long MaxHashBytes = 1024 * 1024;
    private readonly Dictionary<string, string> _baseline = new(StringComparer.Ordinal);

    public WatchedFiles(IEnumerable<string> paths)
    {
        foreach (var path in paths.Where(p => p.Length > 0).Distinct(StringComparer.Ordinal)) _baseline[path] = Fingerprint(path);
    }

    public IReadOnlyCollection<string> Paths => _baseline.Keys;

    /// <summary>The watched paths that differ from the baseline; the baseline moves to what is there now.</summary>
    public IReadOnlyList<string> Changed()
    {
        var changed = new List<string>();
        foreach (var (path, before) in _baseline.ToList())
        {
            var now = Fingerprint(path);
            if (now == before) continue;
            _baseline[path] = now;
            changed.Add(path);
        }

        return changed;
    }

    internal static string Fingerprint(string path)
    {
        try
        {
            if (Directory.Exists(path))
            {
                var entries = new DirectoryInfo(path).EnumerateFileSystemInfos()
                    .OrderBy(e => e.Name, StringComparer.Ordinal)
                    .Select(e => $"{e.Name}:{(e is FileInfo f ? f.Length : 0)}:{e.LastWriteTimeUtc.Ticks}");
                return "dir " + string.Join('|', entries);
            }

            var file = new FileInfo(path);
            if (!file.Exists) return "missing";
            var stamp = $"{file.Length}:{file.LastWriteTimeUtc.Ticks.ToString(CultureInfo.InvariantCulture)}";
            if (file.Length > MaxHashBytes) return stamp;
            return stamp + ":" + Convert.ToHexString(SHA256.HashData(File.ReadAllBytes(path)));
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return "unreadable " + e.GetType().Name;
        }
    }

    /// <summary>The absolute paths of existing files in a command line (<c>/etc/app.conf</c>, <c>--config=/etc/app.conf</c>): most often its config.</summary>
    public static IEnumerable<string> FilesIn(IReadOnlyList<string> argv)
    {
        foreach (var arg in argv.Skip(1))
        {
            var value = arg.StartsWith('-') && arg.IndexOf('=', StringComparison.Ordinal) is > 0 and var eq ? arg[(eq + 1)..] : arg;
            if (value is ['/', ..] && File.Exists(value)) yield return value;
        }
    }
}
