using System.Globalization;
using Medic.Agent.Host;
using Medic.Contracts.Agent;

namespace Medic.Agent.Monitors;

/// <summary>Which limit of a process monitor a <see cref="ProcessLimitCheck"/> watches.</summary>
internal enum ProcessLimit
{
    Cpu,
    Memory,
}

/// <summary>
/// One limit of a process monitor (<c>limits: { cpu: 90%, memory: 1.5GiB, for: 2m }</c>) on the
/// process its <see cref="ProcessCheck"/> last found alive: CPU as % of one core averaged over the
/// last <see cref="CpuWindow"/> of samples (utime + stime of all its threads, /proc/PID/stat), or
/// resident memory (VmRSS, /proc/PID/status). Over the limit it fails with an incident type of its
/// own (process_runaway, process_leaking) and evidence naming the process and the trend; a process
/// that is not running passes (that is the liveness monitor's incident, not this one's).
/// </summary>
internal sealed class ProcessLimitCheck(MonitorDefinition definition, ProcessCheck process, ProcessLimit limit, string procRoot = "/proc") : IMonitorCheck
{
    public const string RunawayType = "process_runaway";
    public const string LeakingType = "process_leaking";
    public static readonly TimeSpan CpuWindow = TimeSpan.FromSeconds(10);
    private static readonly TimeSpan TrendWindow = TimeSpan.FromMinutes(10);
    private const int TrendReadings = 5;

    private readonly Queue<(long AtMs, ulong Ticks)> _cpuSamples = new();
    private readonly Queue<(long AtMs, double Value)> _readings = new();
    private (int Pid, ulong Start) _process;

    /// <summary>What the status lists: the monitor's name and the limit, e.g. shop/cpu ('/' cannot occur in a monitor's name).</summary>
    public string Key => $"{definition.Name}/{(limit == ProcessLimit.Cpu ? "cpu" : "memory")}";

    public string Type => limit == ProcessLimit.Cpu ? RunawayType : LeakingType;

    public Task<Observation> CheckAsync(CancellationToken ct)
    {
        var limits = definition.Limits!;
        if (process.LastPid is not > 0 || ProcessSampler.Times(process.LastPid.Value, procRoot) is not { } times || times.State == 'Z')
        {
            _cpuSamples.Clear();
            _readings.Clear();
            return Task.FromResult(Observation.Pass($"{definition.Name} is not running: its {LimitName} limit is not checked") with { Type = Type });
        }

        if (_process != (times.Pid, times.StartTicks))
        {
            // Another process (restarted, or a reused pid): its history says nothing about this one.
            _process = (times.Pid, times.StartTicks);
            _cpuSamples.Clear();
            _readings.Clear();
        }

        var now = Environment.TickCount64;
        double value;
        double max;
        string measured;
        if (limit == ProcessLimit.Cpu)
        {
            _cpuSamples.Enqueue((now, times.CpuTicks));
            while (_cpuSamples.Count > 2 && now - _cpuSamples.ElementAt(1).AtMs >= CpuWindow.TotalMilliseconds) _cpuSamples.Dequeue();
            var (oldestAt, oldestTicks) = _cpuSamples.Peek();
            if (now - oldestAt < 50)
            {
                return Task.FromResult(Observation.Hold($"{definition.Name} (pid {times.Pid}): measuring its CPU") with { Type = Type });
            }

            value = Math.Round((times.CpuTicks - Math.Min(oldestTicks, times.CpuTicks)) / ProcessSampler.TicksPerSecond / ((now - oldestAt) / 1000.0) * 100, 1);
            max = limits.CpuPercent!.Value;
            measured = $"CPU {Threshold.Percent(value)} of one core over {Units.Describe(Math.Round((now - oldestAt) / 1000.0))} (limit {Threshold.Percent(max)})";
        }
        else
        {
            if (ProcessSampler.ResidentBytes(times.Pid, procRoot) is not { } rss)
            {
                return Task.FromResult(Observation.Pass($"{definition.Name} (pid {times.Pid}) has no resident memory to measure") with { Type = Type });
            }

            value = rss;
            max = limits.MemoryBytes!.Value;
            measured = $"resident memory {Bytes(rss)} (limit {Bytes(limits.MemoryBytes.Value)})";
        }

        _readings.Enqueue((now, value));
        while (_readings.Count > 1 && (now - _readings.Peek().AtMs > TrendWindow.TotalMilliseconds || _readings.Count > 600)) _readings.Dequeue();
        var summary = $"{definition.Name} (pid {times.Pid}, {times.Command}): {measured}";
        if (value < max) return Task.FromResult(Observation.Pass(summary) with { Type = Type });

        var evidence = new Dictionary<string, string>(StringComparer.Ordinal) { [EvidenceKeys.Summary] = summary };
        if (ProcessSampler.Identify(times.Pid, procRoot) is { } identity) identity.AddTo(evidence);
        else evidence["pid"] = times.Pid.ToString(CultureInfo.InvariantCulture);
        if (definition.Unit is not null) evidence["unit"] = definition.Unit;
        evidence["limit"] = limit == ProcessLimit.Cpu ? Threshold.Percent(max) : ((long)max).ToString(CultureInfo.InvariantCulture);
        if (limit == ProcessLimit.Cpu) evidence["cpu_percent"] = value.ToString("0.#", CultureInfo.InvariantCulture);
        else evidence["rss_bytes"] = ((long)value).ToString(CultureInfo.InvariantCulture);
        evidence["trend"] = Trend();
        return Task.FromResult(Observation.Fail(summary, evidence) with { Type = Type });
    }

    private string LimitName => limit == ProcessLimit.Cpu ? "CPU" : "memory";

    /// <summary>For CPU the last readings; for memory the growth over the readings kept (up to 10 minutes).</summary>
    private string Trend()
    {
        if (limit == ProcessLimit.Cpu)
        {
            return "CPU % of one core, oldest first: " + string.Join(", ", _readings.TakeLast(TrendReadings).Select(r => r.Value.ToString("0", CultureInfo.InvariantCulture)));
        }

        var (firstAt, first) = _readings.Peek();
        var (lastAt, last) = _readings.Last();
        var seconds = (lastAt - firstAt) / 1000.0;
        if (seconds < 1) return $"resident memory {Bytes((long)last)} (first reading)";
        var change = last - first;
        var perMinute = change / seconds * 60;
        return $"resident memory {(change >= 0 ? "grew" : "shrank")} from {Bytes((long)first)} to {Bytes((long)last)} in {Units.Describe(Math.Round(seconds))} ({(perMinute >= 0 ? "+" : "-")}{Bytes((long)Math.Abs(perMinute))}/min)";
    }

    internal static string Bytes(long bytes) => bytes switch
    {
        >= 1L << 30 => (bytes / (double)(1L << 30)).ToString("0.##", CultureInfo.InvariantCulture) + " GiB",
        >= 1L << 20 => (bytes / (double)(1L << 20)).ToString("0.#", CultureInfo.InvariantCulture) + " MiB",
        >= 1L << 10 => (bytes / (double)(1L << 10)).ToString("0", CultureInfo.InvariantCulture) + " KiB",
        _ => bytes.ToString(CultureInfo.InvariantCulture) + " B",
    };
}
