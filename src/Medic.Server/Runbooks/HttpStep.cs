using System.Globalization;
using System.Text;
using Medic.Contracts;
using Medic.Contracts.Agent;
using Medic.Server.Common;
using Medic.Server.Fleet;
using Medic.Server.Gateway;

namespace Medic.Server.Runbooks;

/// <summary>
/// An <c>http</c> request of a step or a check: from the target through its agent's http-probe
/// (GET only), or from the control plane; it passes on the expected status (2xx when none is
/// given) and, when asked, a body that matches.
/// </summary>
internal sealed class HttpStep(TaskDispatcher dispatcher, IHttpClientFactory http)
{
    public const string HttpClientName = "medic-runbooks";

    public async Task<StepOutcome> RunAsync(NodeRow node, HttpSpec spec, TimeSpan timeout, RunValues values, Func<TaskOutput, ValueTask> onOutput)
    {
        var url = values.Interpolate(spec.Url, uriEscape: true);
        int status;
        string body;
        if (spec.FromTarget)
        {
            var args = new Dictionary<string, string> { ["url"] = url, ["timeout"] = Math.Clamp(TaskSteps.Seconds(timeout), 1, 10).ToString(CultureInfo.InvariantCulture) };
            var probe = await dispatcher.RunAsync(node, TaskKind.Diag, [], "http-probe", args, TaskSteps.Seconds(timeout) + 5, onOutput, CancellationToken.None);
            if (probe.Status != TaskRunStatus.Completed) return StepOutcome.FromTask(probe);
            var statusLine = probe.Stdout.Split('\n').FirstOrDefault(l => l.StartsWith("HTTP/", StringComparison.Ordinal));
            if (statusLine is null || statusLine.Split(' ') is not [_, var code, ..] || !int.TryParse(code, CultureInfo.InvariantCulture, out status))
            {
                return StepOutcome.Fail("no answer: " + probe.Stdout.Trim(), probe.Stdout);
            }

            var blank = probe.Stdout.IndexOf("\n\n", StringComparison.Ordinal);
            body = blank < 0 ? "" : probe.Stdout[(blank + 2)..];
        }
        else
        {
            using var cts = new CancellationTokenSource(timeout);
            using var client = http.CreateClient(HttpClientName);
            using var request = new HttpRequestMessage(new HttpMethod(spec.Method), url) { Content = spec.Body is null ? null : new StringContent(spec.Body, Encoding.UTF8, "application/json") };
            try
            {
                using var response = await client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cts.Token);
                status = (int)response.StatusCode;
                await using var stream = await response.Content.ReadAsStreamAsync(cts.Token);
                var buffer = new byte[StepExecutor.OutputCap];
                var read = 0;
                int n;
                while (read < buffer.Length && (n = await stream.ReadAsync(buffer.AsMemory(read), cts.Token)) > 0) read += n;
                body = Encoding.UTF8.GetString(buffer, 0, read);
            }
            catch (OperationCanceledException)
            {
                return StepOutcome.Fail($"{spec.Method} {url}: no answer within {Durations.Format(timeout)}", status: RunbookStepStatus.Timeout);
            }
            catch (HttpRequestException ex)
            {
                return StepOutcome.Fail($"{spec.Method} {url}: {ex.InnerException?.Message ?? ex.Message}");
            }
        }

        var statusOk = spec.ExpectStatus is { } expected ? status == expected : status is >= 200 and < 300;
        if (!statusOk) return StepOutcome.Fail($"HTTP {status}, expected {spec.ExpectStatus?.ToString(CultureInfo.InvariantCulture) ?? "2xx"}", body);
        if (spec.ExpectBody is not null && !StepOutcome.Matches(spec.ExpectBody, body)) return StepOutcome.Fail($"HTTP {status}, but the body does not match /{spec.ExpectBody}/", body);
        return StepOutcome.Ok(body, $"HTTP {status}");
    }
}
