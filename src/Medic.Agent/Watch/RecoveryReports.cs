using System.Globalization;
using System.Text;
using Medic.Agent.Monitors;

namespace Medic.Agent.Watch;

/// <summary>
/// One markdown report per incident in the reports directory: what was seen, what was done and how
/// it ended. Rewritten at each event of the incident, so it is complete at any moment.
/// </summary>
internal sealed class RecoveryReports(string directory, string host)
{
    private readonly Dictionary<string, Report> _open = new(StringComparer.Ordinal);

    // The last closed report of each fingerprint: a diagnosis that ends after its incident resolved still lands in it.
    private readonly Dictionary<string, Report> _closed = new(StringComparer.Ordinal);
    private readonly Lock _lock = new();

    private sealed class Report(string path, MonitorEvent opened)
    {
        public string Path { get; } = path;

        public MonitorEvent Opened { get; } = opened;

        public List<(string Kind, MonitorEvent Event)> Timeline { get; } = [];

        public string Outcome { get; set; } = "open";

        /// <summary>Sections after the evidence (the AI diagnosis), by title, in the order first added.</summary>
        public List<(string Title, string Markdown)> Sections { get; } = [];
    }

    /// <summary>Records an event and returns the report's path.</summary>
    public string Record(string kind, MonitorEvent e)
    {
        lock (_lock)
        {
            if (!_open.TryGetValue(e.Fingerprint, out var report))
            {
                Directory.CreateDirectory(directory);
                var name = $"{e.At.ToString("yyyyMMdd-HHmmss", CultureInfo.InvariantCulture)}-{Safe(e.Monitor)}";
                var path = Path.Combine(directory, name + ".md");
                for (var i = 2; File.Exists(path); i++) path = Path.Combine(directory, $"{name}-{i}.md");
                report = new Report(path, e);
                _open[e.Fingerprint] = report;
            }

            report.Timeline.Add((kind, e));
            report.Outcome = kind == "resolved" ? Outcome(e) : kind == "gave_up" ? "gave up: " + e.Title : "open";
            File.WriteAllText(report.Path, Render(report));
            if (kind == "resolved")
            {
                _open.Remove(e.Fingerprint);
                _closed[e.Fingerprint] = report;
            }

            return report.Path;
        }
    }

    /// <summary>Adds (or replaces) a section of the report at <paramref name="path"/>, open or the last closed one of its fingerprint.</summary>
    public void Annotate(string fingerprint, string path, string title, string markdown)
    {
        lock (_lock)
        {
            var report = _open.GetValueOrDefault(fingerprint) is { } open && open.Path == path ? open
                : _closed.GetValueOrDefault(fingerprint) is { } closed && closed.Path == path ? closed
                : null;
            if (report is null) return;
            var at = report.Sections.FindIndex(s => s.Title == title);
            if (at >= 0) report.Sections[at] = (title, markdown);
            else report.Sections.Add((title, markdown));
            File.WriteAllText(report.Path, Render(report));
        }
    }

    private static string Outcome(MonitorEvent e) =>
        e.Evidence.GetValueOrDefault(EvidenceKeys.Resolution) == EvidenceKeys.HealedLocally ? $"healed locally ({e.Title})" : $"recovered ({e.Title})";

    private string Render(Report report)
    {
        var outcome = report.Outcome;
        var o = report.Opened;
        var last = report.Timeline[^1].Event;
        var text = new StringBuilder();
        text.AppendLine($"# {o.Title}").AppendLine();
        text.AppendLine($"- host: {host}");
        text.AppendLine($"- monitor: {o.Monitor} ({MonitorText.Kind(o.Kind)}), severity {MonitorText.Severity(o.Severity)}");
        text.AppendLine($"- opened: {Stamp(o.At)}");
        text.AppendLine($"- outcome: {outcome}");
        text.AppendLine($"- fingerprint: {o.Fingerprint}").AppendLine();
        text.AppendLine("## Timeline").AppendLine();
        foreach (var (kind, e) in report.Timeline) text.AppendLine($"- {Stamp(e.At)} {kind}: {e.Title}");
        text.AppendLine().AppendLine("## What was seen").AppendLine();
        AppendEvidence(text, o.Evidence);
        if (last.Evidence.TryGetValue(EvidenceKeys.RestartHistory, out var history) && history.Length > 0)
        {
            text.AppendLine().AppendLine("## What was done").AppendLine().AppendLine("```").AppendLine(history).AppendLine("```");
        }

        if (!ReferenceEquals(last, o))
        {
            text.AppendLine().AppendLine("## Last evidence").AppendLine();
            AppendEvidence(text, last.Evidence);
        }

        foreach (var (title, markdown) in report.Sections) text.AppendLine().AppendLine("## " + title).AppendLine().AppendLine(markdown.TrimEnd());
        return text.ToString();
    }

    private static void AppendEvidence(StringBuilder text, IReadOnlyDictionary<string, string> evidence)
    {
        foreach (var (key, value) in evidence.OrderBy(kv => kv.Value.Contains('\n', StringComparison.Ordinal)).ThenBy(kv => kv.Key, StringComparer.Ordinal))
        {
            if (value.Contains('\n', StringComparison.Ordinal)) text.AppendLine($"{key}:").AppendLine().AppendLine("```").AppendLine(value).AppendLine("```");
            else text.AppendLine($"- {key}: {value}");
        }
    }

    private static string Stamp(DateTimeOffset at) => at.ToString("yyyy-MM-ddTHH:mm:ss.fffZ", CultureInfo.InvariantCulture);

    private static string Safe(string name) => new(name.Select(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.' ? c : '_').ToArray());
}
