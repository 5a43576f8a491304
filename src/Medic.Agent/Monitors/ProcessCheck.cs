using Medic.Agent.Diagnostics;
using Medic.Contracts.Agent;

namespace Medic.Agent.Monitors;

/// <summary>One check of one monitor; never throws for what it observes (a failure is an observation).</summary>
internal interface IMonitorCheck
{
    Task<Observation> CheckAsync(CancellationToken ct);
}

/// <summary>
/// Is the process there, and (with a <c>health</c> check) does it answer? A live process whose
/// health check fails <c>failures</c> times in a row is hung: as unhealthy as a dead one (a
/// SIGSTOPped process, a deadlocked server that still holds its port).
/// </summary>
internal sealed class ProcessCheck(MonitorDefinition definition, ProcessTarget target) : IMonitorCheck
{
    public const string HungKey = "hung";
    private const int EvidenceLines = 20;
    private int _healthFailures;
    private bool _wasDead;

    public ProcessTarget Target => target;

    /// <summary>The pid the last check found alive, for the monitor's limits (which must not probe systemd again).</summary>
    public int? LastPid { get; private set; }

    public Task<Observation> CheckAsync(CancellationToken ct) => ObserveAsync(strict: false, ct);

    /// <summary>With <paramref name="strict"/> (verifying a restart), one failed health check is enough to fail.</summary>
    public async Task<Observation> ObserveAsync(bool strict, CancellationToken ct)
    {
        var live = await target.ProbeAsync(ct);
        LastPid = live.Alive ? live.Pid : null;
        if (!live.Alive)
        {
            _healthFailures = 0;
            var evidence = new Dictionary<string, string>(live.Evidence) { [EvidenceKeys.Summary] = live.Summary };
            // The log lines matter when it dies, not at every check while it stays dead (journalctl is not free).
            if (!strict && !_wasDead && await target.LastLinesAsync(EvidenceLines, ct) is { Length: > 0 } lines) evidence[EvidenceKeys.LastLines] = lines;
            _wasDead = !strict;
            return Observation.Fail(live.Summary, evidence);
        }

        _wasDead = false;

        if (definition.Health is not { } health) return Observation.Pass(live.Summary, live.Evidence);
        var failure = await HealthAsync(health, ct);
        if (failure is null)
        {
            _healthFailures = 0;
            return Observation.Pass(live.Summary + ", healthy", live.Evidence);
        }

        _healthFailures++;
        var details = new Dictionary<string, string>(live.Evidence) { ["health"] = failure, ["health_failures"] = _healthFailures.ToString(System.Globalization.CultureInfo.InvariantCulture) };
        if (strict) return Observation.Fail($"{live.Summary} but unhealthy: {failure}", details);
        if (_healthFailures < health.Failures) return Observation.Hold($"{live.Summary}; health check failed ({_healthFailures} of {health.Failures}): {failure}", details);
        details[HungKey] = "true";
        details[EvidenceKeys.Summary] = $"hung: {live.Summary} but its health check failed {_healthFailures} times in a row: {failure}";
        if (await target.LastLinesAsync(EvidenceLines, ct) is { Length: > 0 } last) details[EvidenceKeys.LastLines] = last;
        return Observation.Fail(details[EvidenceKeys.Summary], details);
    }

    /// <summary>Null when healthy, else what failed.</summary>
    private static async Task<string?> HealthAsync(HealthCheckDefinition health, CancellationToken ct)
    {
        var timeout = TimeSpan.FromSeconds(health.TimeoutSeconds);
        if (health.Http is { } url)
        {
            var (answer, error, ms) = await NetworkProbes.GetAsync(MonitorHttp.Client, new Uri(url), timeout, 1024, closeConnection: true, ct);
            if (answer is null) return $"GET {url}: {error} after {ms} ms";
            var expected = health.ExpectStatus is { } status ? answer.Status == status : answer.Status < 400;
            return expected ? null : $"GET {url}: HTTP {answer.Status} {answer.ReasonPhrase}";
        }

        MonitorFile.TryHostPort(health.Tcp!, out var host, out var port);
        var probe = await NetworkProbes.ConnectAsync(host, port, timeout, ct);
        return probe.Error is null ? null : $"connect {health.Tcp}: {probe.Error}";
    }
}

/// <summary>The one HTTP client monitors share: no proxy, no redirects, no cookies.</summary>
internal static class MonitorHttp
{
    public static HttpClient Client { get; } = new(NetworkProbes.NewHandler()) { Timeout = Timeout.InfiniteTimeSpan };
}
