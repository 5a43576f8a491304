using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;
using Medic.Agent.Diagnostics;
using Medic.Agent.Execution;
using Medic.Agent.Host;
using Medic.Contracts.Agent;
using TaskStatus = Medic.Contracts.Agent.TaskStatus;

namespace Medic.Agent.Monitors;

/// <summary>Fire at or above the threshold; recover below <c>recover_below</c> (or the threshold); hold in between.</summary>
internal static class Threshold
{
    public static Verdict Classify(double value, double max, double? recoverBelow) =>
        value >= max ? Verdict.Fail : value < (recoverBelow ?? max) ? Verdict.Pass : Verdict.Hold;

    public static string Percent(double value) => value.ToString("0.#", CultureInfo.InvariantCulture) + "%";
}

internal sealed class HttpCheck(MonitorDefinition d) : IMonitorCheck
{
    private const int BodyLimit = 64 * 1024;
    private readonly Regex? _body = d.BodyRegex is null ? null : new Regex(d.BodyRegex, RegexOptions.CultureInvariant, TimeSpan.FromSeconds(1));

    public async Task<Observation> CheckAsync(CancellationToken ct)
    {
        var (answer, error, ms) = await NetworkProbes.GetAsync(MonitorHttp.Client, new Uri(d.Url!), TimeSpan.FromSeconds(d.TimeoutSeconds), BodyLimit, closeConnection: true, ct);
        var evidence = new Dictionary<string, string> { ["url"] = d.Url!, ["duration_ms"] = ms.ToString(CultureInfo.InvariantCulture) };
        if (answer is null) return Observation.Fail($"GET {d.Url} failed: {error}", evidence);
        evidence["status"] = answer.Status.ToString(CultureInfo.InvariantCulture);
        var statusOk = d.ExpectStatus is { } expected ? answer.Status == expected : answer.Status < 400;
        if (!statusOk)
        {
            evidence["body"] = Preview(answer.Body);
            return Observation.Fail($"GET {d.Url} answered HTTP {answer.Status}{(d.ExpectStatus is { } e ? $", expected {e}" : "")}", evidence);
        }

        if (_body is not null && !_body.IsMatch(Encoding.UTF8.GetString(answer.Body)))
        {
            evidence["body"] = Preview(answer.Body);
            return Observation.Fail($"GET {d.Url} answered HTTP {answer.Status} but the body does not match /{d.BodyRegex}/", evidence);
        }

        return Observation.Pass($"GET {d.Url}: HTTP {answer.Status} in {ms} ms", evidence);
    }

    private static string Preview(byte[] body) => Encoding.UTF8.GetString(body, 0, Math.Min(body.Length, 512));
}

internal sealed class TcpCheck(MonitorDefinition d) : IMonitorCheck
{
    public async Task<Observation> CheckAsync(CancellationToken ct)
    {
        var probe = await NetworkProbes.ConnectAsync(d.Host!, d.Port!.Value, TimeSpan.FromSeconds(d.TimeoutSeconds), ct);
        var evidence = new Dictionary<string, string> { ["address"] = $"{d.Host}:{d.Port}", ["duration_ms"] = probe.Milliseconds.ToString(CultureInfo.InvariantCulture) };
        return probe.Error is null
            ? Observation.Pass($"connected to {d.Host}:{d.Port} in {probe.Milliseconds} ms", evidence)
            : Observation.Fail($"cannot connect to {d.Host}:{d.Port}: {probe.Error}", evidence);
    }
}

internal sealed class TlsCheck(MonitorDefinition d, TimeProvider time) : IMonitorCheck
{
    public async Task<Observation> CheckAsync(CancellationToken ct)
    {
        var fetched = await NetworkProbes.FetchCertificateAsync(d.Host!, d.Port!.Value, TimeSpan.FromSeconds(d.TimeoutSeconds), ct);
        var evidence = new Dictionary<string, string> { ["address"] = $"{d.Host}:{d.Port}" };
        if (fetched.Certificate is null) return Observation.Fail($"no TLS certificate from {d.Host}:{d.Port}: {fetched.Error}", evidence);
        using var certificate = fetched.Certificate;
        var notAfter = new DateTimeOffset(certificate.NotAfter.ToUniversalTime(), TimeSpan.Zero);
        var days = NetworkProbes.DaysLeft(notAfter, time.GetUtcNow());
        evidence["subject"] = certificate.Subject;
        evidence["not_after"] = notAfter.ToString("yyyy-MM-ddTHH:mm:ssZ", CultureInfo.InvariantCulture);
        evidence["days_left"] = days.ToString(CultureInfo.InvariantCulture);
        if (fetched.Errors != System.Net.Security.SslPolicyErrors.None) evidence["validation"] = fetched.Errors.ToString();
        var minDays = d.MinDays ?? 14;
        return days < minDays
            ? Observation.Fail(days < 0 ? $"the certificate of {d.Host}:{d.Port} expired {-days} days ago" : $"the certificate of {d.Host}:{d.Port} expires in {days} days (under {minDays})", evidence)
            : Observation.Pass($"the certificate of {d.Host}:{d.Port} expires in {days} days", evidence);
    }
}

internal sealed class DiskCheck(MonitorDefinition d) : IMonitorCheck
{
    public Task<Observation> CheckAsync(CancellationToken ct)
    {
        if (StatVfs.Query(d.Mount!) is not { BytesTotal: > 0 } size)
        {
            return Task.FromResult(Observation.Fail($"{d.Mount} cannot be measured (not mounted, or not readable)", new Dictionary<string, string> { ["mount"] = d.Mount! }));
        }

        var bytes = 100.0 * size.BytesUsed / size.BytesTotal;
        var inodes = size.InodesTotal > 0 ? 100.0 * size.InodesUsed / size.InodesTotal : 0;
        var evidence = new Dictionary<string, string>
        {
            ["mount"] = d.Mount!,
            ["bytes_used_percent"] = Threshold.Percent(bytes),
            ["bytes_free"] = size.BytesFree.ToString(CultureInfo.InvariantCulture),
            ["inodes_used_percent"] = Threshold.Percent(inodes),
        };
        var verdicts = new List<(Verdict Verdict, string Text)>();
        if (d.MaxPercent is { } maxBytes) verdicts.Add((Threshold.Classify(bytes, maxBytes, d.RecoverBelow), $"{Threshold.Percent(bytes)} of bytes used (threshold {Threshold.Percent(maxBytes)})"));
        if (d.MaxInodesPercent is { } maxInodes) verdicts.Add((Threshold.Classify(inodes, maxInodes, d.RecoverBelow), $"{Threshold.Percent(inodes)} of inodes used (threshold {Threshold.Percent(maxInodes)})"));
        var failing = verdicts.Where(v => v.Verdict == Verdict.Fail).Select(v => v.Text).ToList();
        var summary = $"{d.Mount}: {string.Join(", ", failing.Count > 0 ? failing : verdicts.Select(v => v.Text))}";
        return Task.FromResult(failing.Count > 0 ? Observation.Fail(summary, evidence)
            : verdicts.All(v => v.Verdict == Verdict.Pass) ? Observation.Pass(summary, evidence)
            : Observation.Hold(summary, evidence));
    }
}

/// <summary>
/// Memory used (total minus available, /proc/meminfo). While over the threshold the evidence names
/// the processes with the most resident memory; when one of them holds at least half of what is
/// used, the incident is that process's (process_leaking), not the machine's (memory_high).
/// </summary>
internal sealed class MemoryCheck(MonitorDefinition d, string procRoot = "/proc") : IMonitorCheck
{
    public Task<Observation> CheckAsync(CancellationToken ct)
    {
        var memory = ProcParsers.MemInfo(File.ReadAllText(Path.Combine(procRoot, "meminfo")));
        var percent = memory.TotalBytes > 0 ? 100.0 * memory.UsedBytes / memory.TotalBytes : 0;
        var evidence = new Dictionary<string, string>
        {
            ["used_percent"] = Threshold.Percent(percent),
            ["used_bytes"] = memory.UsedBytes.ToString(CultureInfo.InvariantCulture),
            ["total_bytes"] = memory.TotalBytes.ToString(CultureInfo.InvariantCulture),
        };
        var summary = $"memory {Threshold.Percent(percent)} used (threshold {Threshold.Percent(d.MaxPercent!.Value)})";
        var verdict = Threshold.Classify(percent, d.MaxPercent.Value, d.RecoverBelow);
        if (verdict == Verdict.Pass) return Task.FromResult(new Observation(verdict, summary, evidence));

        var top = ProcessSampler.All(procRoot).OrderByDescending(p => p.RssBytes).Take(TopProcesses.Count).ToList();
        var culprit = TopProcesses.Describe(top.Select(p => (p, ProcessLimitCheck.Bytes(p.RssBytes))).ToList(), "RSS", evidence, procRoot);
        string? type = null;
        if (culprit is { } one && memory.UsedBytes > 0 && one.RssBytes * 2 >= memory.UsedBytes)
        {
            evidence["rss_bytes"] = one.RssBytes.ToString(CultureInfo.InvariantCulture);
            type = ProcessLimitCheck.LeakingType;
            summary += $"; pid {one.Pid} ({one.Command}) holds {ProcessLimitCheck.Bytes(one.RssBytes)} of it";
        }

        return Task.FromResult(new Observation(verdict, summary, evidence, Type: type));
    }
}

/// <summary>
/// CPU busy between two checks (the first: since boot), from /proc/stat. While over the threshold
/// the evidence names the busiest processes over the same interval; when one of them uses at least
/// half of the busy CPU (and at least half a core), the incident is that process's
/// (process_runaway), not the machine's (cpu_high).
/// </summary>
internal sealed class CpuCheck(MonitorDefinition d, string procRoot = "/proc") : IMonitorCheck
{
    private readonly ProcessTable _processes = new(procRoot);
    private CpuTimes _previous;

    public Task<Observation> CheckAsync(CancellationToken ct)
    {
        var stat = File.ReadAllText(Path.Combine(procRoot, "stat"));
        var sample = ProcParsers.CpuSample(stat);
        var percent = sample.BusyPercentSince(_previous);
        _previous = sample;

        // Sampled at every check, so the next one has per-process figures over the same interval as the machine's.
        var usage = _processes.Sample();
        var summary = $"CPU {Threshold.Percent(percent)} busy (threshold {Threshold.Percent(d.MaxPercent!.Value)})";
        var evidence = new Dictionary<string, string> { ["busy_percent"] = Threshold.Percent(percent) };
        var verdict = Threshold.Classify(percent, d.MaxPercent.Value, d.RecoverBelow);
        if (verdict == Verdict.Pass) return Task.FromResult(new Observation(verdict, summary, evidence));

        var top = usage.OrderByDescending(u => u.CpuPercent).Take(TopProcesses.Count).ToList();
        var culprit = TopProcesses.Describe(top.Select(u => (u.Times, Threshold.Percent(u.CpuPercent))).ToList(), "CPU", evidence, procRoot);
        string? type = null;
        if (culprit is { } one)
        {
            var cpu = top[0].CpuPercent;
            evidence["cpu_percent"] = cpu.ToString("0.#", CultureInfo.InvariantCulture);
            var busyCores = percent / 100 * CpuCount(stat);
            if (cpu >= 50 && cpu / 100 * 2 >= busyCores)
            {
                type = ProcessLimitCheck.RunawayType;
                summary += $"; pid {one.Pid} ({one.Command}) uses {Threshold.Percent(cpu)} of one core";
            }
        }

        return Task.FromResult(new Observation(verdict, summary, evidence, Type: type));
    }

    private static int CpuCount(string stat) =>
        Math.Max(1, stat.Split('\n').Count(l => l.StartsWith("cpu", StringComparison.Ordinal) && l.Length > 3 && char.IsAsciiDigit(l[3])));
}

/// <summary>The <c>top_processes</c> evidence of the machine-wide cpu and memory monitors, and the top one named as pid, process, user, cmdline, unit, cwd.</summary>
internal static class TopProcesses
{
    public const int Count = 5;

    /// <summary>Adds the evidence; returns the top process, or null when there is none.</summary>
    public static ProcessTimes? Describe(IReadOnlyList<(ProcessTimes Process, string Figure)> top, string column, Dictionary<string, string> evidence, string procRoot)
    {
        if (top.Count == 0) return null;
        var lines = new StringBuilder($"{"PID",7} {"USER",-12} {column,9}  COMMAND");
        foreach (var (process, figure) in top)
        {
            var who = ProcessSampler.Identify(process.Pid, procRoot);
            var command = who is { CommandLine.Length: > 0 } ? who.CommandLine : $"[{process.Command}]";
            lines.Append(CultureInfo.InvariantCulture, $"\n{process.Pid,7} {who?.User ?? "?",-12} {figure,9}  {(command.Length > 100 ? command[..100] + "…" : command)}");
        }

        evidence["top_processes"] = lines.ToString();
        var first = top[0].Process;
        if (ProcessSampler.Identify(first.Pid, procRoot) is { } identity) identity.AddTo(evidence);
        else evidence["pid"] = first.Pid.ToString(CultureInfo.InvariantCulture);
        return first;
    }
}

internal sealed class LoadCheck(MonitorDefinition d, string procRoot = "/proc") : IMonitorCheck
{
    public Task<Observation> CheckAsync(CancellationToken ct)
    {
        var load = ProcParsers.LoadAvg(File.ReadAllText(Path.Combine(procRoot, "loadavg")));
        var text = load.One.ToString("0.00", CultureInfo.InvariantCulture);
        var summary = $"load {text} (threshold {d.MaxLoad!.Value.ToString(CultureInfo.InvariantCulture)})";
        var evidence = new Dictionary<string, string>
        {
            ["load1"] = text,
            ["load5"] = load.Five.ToString("0.00", CultureInfo.InvariantCulture),
            ["load15"] = load.Fifteen.ToString("0.00", CultureInfo.InvariantCulture),
        };
        return Task.FromResult(new Observation(Threshold.Classify(load.One, d.MaxLoad.Value, d.RecoverBelow), summary, evidence));
    }
}

/// <summary>The newest file's age: <c>path</c> itself, or the newest file directly inside it when it is a directory.</summary>
internal sealed class FileAgeCheck(MonitorDefinition d, TimeProvider time, Policy.ReadPathPolicy? readPaths = null) : IMonitorCheck
{
    public Task<Observation> CheckAsync(CancellationToken ct)
    {
        var path = d.Path!;
        var evidence = new Dictionary<string, string> { ["path"] = path };
        if (readPaths?.Refusal(path) is { } refusal) return Task.FromResult(Observation.Fail(refusal, evidence));
        FileSystemInfo? newest;
        try
        {
            newest = Directory.Exists(path)
                ? new DirectoryInfo(path).EnumerateFiles().MaxBy(f => f.LastWriteTimeUtc)
                : File.Exists(path) ? new FileInfo(path) : null;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return Task.FromResult(Observation.Fail($"{path} cannot be read: {e.Message}", evidence));
        }

        if (newest is null) return Task.FromResult(Observation.Fail(Directory.Exists(path) ? $"{path} holds no file" : $"{path} does not exist", evidence));
        var age = time.GetUtcNow() - new DateTimeOffset(newest.LastWriteTimeUtc, TimeSpan.Zero);
        evidence["file"] = newest.FullName;
        evidence["modified"] = newest.LastWriteTimeUtc.ToString("yyyy-MM-ddTHH:mm:ssZ", CultureInfo.InvariantCulture);
        evidence["age_seconds"] = ((long)age.TotalSeconds).ToString(CultureInfo.InvariantCulture);
        var summary = $"{newest.FullName} was last written {Units.Describe(Math.Max(0, age.TotalSeconds))} ago (limit {Units.Describe(d.MaxAgeSeconds!.Value)})";
        return Task.FromResult(age.TotalSeconds > d.MaxAgeSeconds.Value ? Observation.Fail(summary, evidence) : Observation.Pass(summary, evidence));
    }
}

/// <summary>A custom check with Nagios plugin exit codes: 0 ok, 1 warning, 2 critical, anything else unknown (fails at the monitor's severity).</summary>
internal sealed class CommandCheck(MonitorDefinition d) : IMonitorCheck
{
    public async Task<Observation> CheckAsync(CancellationToken ct)
    {
        var output = new StringBuilder();
        var outcome = await ProcessRunner.RunAsync(
            new ProcessRequest(d.Command!, TimeSpan.FromSeconds(d.TimeoutSeconds)) { OutputCapBytes = 16 * 1024 },
            (_, data) =>
            {
                output.Append(data);
                return ValueTask.CompletedTask;
            },
            ct);
        var text = output.ToString().Trim();
        var firstLine = text.Split('\n').FirstOrDefault()?.Trim() is { Length: > 0 } line ? line : null;
        var evidence = new Dictionary<string, string> { ["command"] = string.Join(' ', d.Command!), ["output"] = text.Length > 2000 ? text[..2000] : text };
        if (outcome.Status != TaskStatus.Completed)
        {
            return Observation.Fail($"UNKNOWN: {outcome.Reason}", evidence);
        }

        evidence["exit_code"] = outcome.ExitCode?.ToString(CultureInfo.InvariantCulture) ?? "?";
        return outcome.ExitCode switch
        {
            0 => Observation.Pass(firstLine ?? "OK", evidence),
            1 => Observation.Fail(firstLine ?? "WARNING (exit code 1)", evidence, MonitorSeverity.Warning),
            2 => Observation.Fail(firstLine ?? "CRITICAL (exit code 2)", evidence, MonitorSeverity.Critical),
            var code => Observation.Fail($"UNKNOWN (exit code {code}){(firstLine is null ? "" : ": " + firstLine)}", evidence),
        };
    }
}
