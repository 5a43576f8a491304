using System.Diagnostics;
using System.Net.Sockets;
using System.Text;
using System.Text.RegularExpressions;
using Medic.Contracts.Agent;
using Medic.Contracts;
using Medic.Server.Common;
using Medic.Server.Fleet;
using Medic.Server.Gateway;
using Medic.Server.Incidents;

namespace Medic.Server.Detection.Checks;

/// <summary>What a check run means for the check's state and for its incident.</summary>
public enum CheckSignal { None, Fire, Repeat, Resolve }

/// <summary>The pure decision after each run: consecutive failures up to the threshold fire, the first pass after firing resolves.</summary>
internal static class CheckVerdict
{
    public static (CheckState State, int ConsecutiveFailures, CheckSignal Signal) Next(CheckState state, int consecutiveFailures, int threshold, bool ok)
    {
        if (ok) return (CheckState.Passing, 0, state == CheckState.Failing ? CheckSignal.Resolve : CheckSignal.None);
        var failures = consecutiveFailures + 1;
        if (failures < threshold) return (state == CheckState.Failing ? CheckState.Failing : state, failures, CheckSignal.None);
        return (CheckState.Failing, failures, state == CheckState.Failing ? CheckSignal.Repeat : CheckSignal.Fire);
    }
}

/// <summary>Runs one check (an HTTP request, a TCP connect, or a command on a server), records the result and feeds its incident.</summary>
internal sealed class CheckRunner(CheckStore store, NodeStore nodes, TaskDispatcher dispatcher, IIncidentIngest incidents, IHttpClientFactory http, TimeProvider time)
{
    public const string HttpClientName = "medic-checks";
    private const int BodyLimit = 1024 * 1024;

    public async Task<(bool Ok, string Detail)> RunAsync(CheckRow check, CancellationToken ct)
    {
        var started = Stopwatch.GetTimestamp();
        var at = time.GetUtcNow();
        (bool Ok, string Detail) outcome;
        try
        {
            outcome = check.Kind switch
            {
                CheckKinds.Http => await HttpAsync(check, ct),
                CheckKinds.Tcp => await TcpAsync(check, ct),
                CheckKinds.Command => await CommandAsync(check, ct),
                _ => (false, $"unknown check kind '{check.Kind}'"),
            };
        }
        catch (Exception ex) when (ex is HttpRequestException or SocketException or IOException or OperationCanceledException or RegexMatchTimeoutException && !ct.IsCancellationRequested)
        {
            outcome = (false, ex is OperationCanceledException ? $"no answer within {check.TimeoutSeconds} s" : Describe(ex));
        }

        var duration = (long)Stopwatch.GetElapsedTime(started).TotalMilliseconds;
        var detail = Texts.Truncate(outcome.Detail, 2000);
        var (state, failures, signal) = CheckVerdict.Next(check.StateValue, check.ConsecutiveFailures, check.Failures, outcome.Ok);
        check.StateValue = state;
        check.ConsecutiveFailures = failures;
        check.LastRunAt = at;
        check.LastDetail = detail;
        await store.RecordAsync(check, at, outcome.Ok, duration, detail, ct);
        if (signal != CheckSignal.None)
        {
            await incidents.IngestAsync([Signal(check, at, signal == CheckSignal.Resolve, detail, duration)], ct);
        }

        return (outcome.Ok, detail);
    }

    private static IncidentSignal Signal(CheckRow check, DateTimeOffset at, bool resolved, string detail, long durationMs) => new(
        check.TenantId, IncidentSources.Check, "check:" + check.Id, "check_failed", check.Severity,
        // Incidents are shown to every role, so credentials inside the check's URL stay out of them.
        $"Check {check.Name} is failing", UrlMask.MaskIn($"{check.Kind} check of {check.Target ?? check.ServerName}: {detail}"), check.ServerId, null,
        new Dictionary<string, string> { ["check"] = check.Name, ["kind"] = check.Kind },
        new Dictionary<string, string>
        {
            ["target"] = UrlMask.MaskIn(check.Target ?? check.ServerName ?? ""), ["detail"] = UrlMask.MaskIn(detail), ["duration_ms"] = durationMs.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["consecutive_failures"] = check.ConsecutiveFailures.ToString(System.Globalization.CultureInfo.InvariantCulture),
        },
        resolved, at, "check:" + check.Id);

    private static string Describe(Exception ex) => ex switch
    {
        HttpRequestException { InnerException: SocketException s } => s.Message,
        HttpRequestException { InnerException: IOException io } => io.Message,
        _ => ex.Message,
    };

    private async Task<(bool, string)> HttpAsync(CheckRow check, CancellationToken ct)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
        timeout.CancelAfter(TimeSpan.FromSeconds(check.TimeoutSeconds));
        using var client = http.CreateClient(HttpClientName);
        using var response = await client.GetAsync(check.Target, HttpCompletionOption.ResponseHeadersRead, timeout.Token);
        var status = (int)response.StatusCode;
        var statusOk = check.ExpectStatus is { } expected ? status == expected : status is >= 200 and < 400;
        if (!statusOk)
        {
            return (false, $"HTTP {status}, expected {(check.ExpectStatus?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "2xx or 3xx")}");
        }

        if (check.BodyRegex is null) return (true, $"HTTP {status}");
        await using var stream = await response.Content.ReadAsStreamAsync(timeout.Token);
        var buffer = new byte[BodyLimit];
        var read = 0;
        int n;
        while (read < buffer.Length && (n = await stream.ReadAsync(buffer.AsMemory(read), timeout.Token)) > 0) read += n;
        var body = Encoding.UTF8.GetString(buffer, 0, read);
        return Regex.IsMatch(body, check.BodyRegex, RegexOptions.None, TimeSpan.FromSeconds(1))
            ? (true, $"HTTP {status}, body matches /{check.BodyRegex}/")
            : (false, $"HTTP {status}, but the body does not match /{check.BodyRegex}/");
    }

    private static async Task<(bool, string)> TcpAsync(CheckRow check, CancellationToken ct)
    {
        var (host, port) = SplitHostPort(check.Target!);
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
        timeout.CancelAfter(TimeSpan.FromSeconds(check.TimeoutSeconds));
        using var socket = new Socket(SocketType.Stream, ProtocolType.Tcp);
        await socket.ConnectAsync(host, port, timeout.Token);
        return (true, $"connected to {host}:{port}");
    }

    public static (string Host, int Port) SplitHostPort(string target)
    {
        var colon = target.LastIndexOf(':');
        var host = target[..colon].Trim('[', ']');
        return (host, int.Parse(target[(colon + 1)..], System.Globalization.CultureInfo.InvariantCulture));
    }

    private async Task<(bool, string)> CommandAsync(CheckRow check, CancellationToken ct)
    {
        if (check.ServerId is null || await nodes.FindAsync(check.TenantId, check.ServerId, ct) is not { } node)
        {
            return (false, "the check's server no longer exists");
        }

        var r = await dispatcher.RunAsync(node, TaskKind.Exec, ["sh", "-c", check.Command!], null, null, check.TimeoutSeconds, null, ct);
        var output = (r.Stdout + r.Stderr).Trim();
        if (output.Length > 500) output = "…" + output[^500..];
        return r.Status == TaskRunStatus.Completed && r.ExitCode == 0
            ? (true, output.Length > 0 ? "exit 0: " + output : "exit 0")
            : (false, r.Status == TaskRunStatus.Completed ? $"exit {r.ExitCode}: {output}" : $"{r.Status.ToText()}: {r.Reason}");
    }
}
