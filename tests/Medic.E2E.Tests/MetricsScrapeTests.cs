using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;

namespace Medic.E2E.Tests;

/// <summary>
/// Debian's real Prometheus scrapes <c>medic up</c>'s <c>/metrics</c> with a metrics token read from
/// a credentials file; the series are queried back through Prometheus's HTTP API.
/// </summary>
public sealed class MetricsScrapeTests : IAsyncLifetime
{
    private readonly MedicHome _home = new();
    private Process? _prometheus;
    private readonly StringBuilder _prometheusOutput = new();

    [Fact]
    public async Task Prometheus_scrapes_medic_up_with_a_metrics_token_and_an_incident_from_a_webhook_shows_in_incidents_by_state()
    {
        var watch = Stopwatch.StartNew();
        _home.Environment["MEDIC_METRICS__REFRESH_SECONDS"] = "1";
        await using var server = await RunningServer.StartAsync(_home, "up");
        await _home.WaitForStatusAsync(Environment.MachineName, "online", TimeSpan.FromSeconds(30));
        var diag = await _home.RunAsync("diag", Environment.MachineName, "system", "--timeout", "20", "--json");
        diag.ExitCode.ShouldBe(0, diag.ToString());

        var metrics = await _home.RunAsync("tokens", "create", "--name", "prometheus", "--role", "metrics", "--json");
        metrics.ExitCode.ShouldBe(0, metrics.ToString());
        var metricsSecret = JsonDocument.Parse(metrics.Stdout).RootElement.GetProperty("secret").GetString()!;
        var admin = await _home.RunAsync("tokens", "create", "--name", "e2e", "--json");
        admin.ExitCode.ShouldBe(0, admin.ToString());
        using var http = new HttpClient { BaseAddress = new Uri(server.Url), Timeout = TimeSpan.FromSeconds(30) };
        http.DefaultRequestHeaders.Authorization = new("Bearer", JsonDocument.Parse(admin.Stdout).RootElement.GetProperty("secret").GetString());

        // One alert through the Alertmanager webhook: one incident.
        var webhookToken = (await http.GetFromJsonAsync<JsonElement>("/api/v1/webhooks")).GetProperty("bearer_token").GetString()!;
        using (var delivery = new HttpRequestMessage(HttpMethod.Post, "/api/v1/webhooks/alerts/default/alertmanager"))
        {
            delivery.Headers.Authorization = new("Bearer", webhookToken);
            delivery.Content = new StringContent("""
                {"receiver":"medic","status":"firing","version":"4","groupKey":"{}:{alertname=\"DiskFull\"}","truncatedAlerts":0,
                 "groupLabels":{"alertname":"DiskFull"},"commonLabels":{"alertname":"DiskFull"},"commonAnnotations":{},"externalURL":"http://alertmanager:9093",
                 "alerts":[{"status":"firing","labels":{"alertname":"DiskFull","instance":"db-9:9100","severity":"critical"},
                   "annotations":{"summary":"Disk almost full"},"startsAt":"2026-12-01T10:00:00Z","endsAt":"0001-01-01T00:00:00Z","fingerprint":"e2e0metrics0001"}]}
                """, Encoding.UTF8, "application/json");
            using var delivered = await http.SendAsync(delivery);
            delivered.IsSuccessStatusCode.ShouldBeTrue(await delivered.Content.ReadAsStringAsync());
        }

        var dir = Path.Combine(_home.Home, "prometheus");
        Directory.CreateDirectory(dir);
        var credentials = Path.Combine(dir, "medic-metrics-token");
        await File.WriteAllTextAsync(credentials, metricsSecret);
        File.SetUnixFileMode(credentials, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        var target = new Uri(server.Url);
        await File.WriteAllTextAsync(Path.Combine(dir, "prometheus.yml"), $$"""
            global:
              scrape_interval: 1s
              scrape_timeout: 900ms
            scrape_configs:
              - job_name: medic
                metrics_path: /metrics
                authorization:
                  type: Bearer
                  credentials_file: {{credentials}}
                static_configs:
                  - targets: ["{{target.Authority}}"]
            """);
        var prometheusPort = MedicHome.FreePort();
        StartPrometheus("--config.file=" + Path.Combine(dir, "prometheus.yml"), "--storage.tsdb.path=" + Path.Combine(dir, "tsdb"), $"--web.listen-address=127.0.0.1:{prometheusPort}");
        using var prometheus = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{prometheusPort}"), Timeout = TimeSpan.FromSeconds(10) };

        (await WaitForAsync(prometheus, "up{job=\"medic\"}", v => v == 1, watch)).ShouldBe(1);
        (await WaitForAsync(prometheus, "sum(medic_incidents)", v => v == 1, watch)).ShouldBe(1);
        (await WaitForAsync(prometheus, "sum(medic_incidents * on (tenant_id) group_left (tenant) medic_tenant_info{tenant=\"default\"})", v => v == 1, watch)).ShouldBe(1);
        (await WaitForAsync(prometheus, "sum(medic_webhook_deliveries_total{source=\"alertmanager\",outcome=\"accepted\"})", v => v == 1, watch)).ShouldBe(1);
        (await WaitForAsync(prometheus, "sum(medic_agent_connections)", v => v == 1, watch)).ShouldBe(1);
        (await WaitForAsync(prometheus, "medic_jobs{kind=\"pipeline.triage\",status=\"dead\"}", v => v == 0, watch)).ShouldBe(0);
        (await WaitForAsync(prometheus, "sum(medic_pipeline_stage_duration_seconds_count{stage=\"triage\"})", v => v >= 1, watch)).ShouldBeGreaterThanOrEqualTo(1);
        (await WaitForAsync(prometheus, "count(medic_db_transaction_duration_seconds_bucket)", v => v > 0, watch)).ShouldBeGreaterThan(0);
        (await WaitForAsync(prometheus, "sum(medic_task_round_trip_duration_seconds_count{kind=\"diag\",status=\"completed\"})", v => v >= 1, watch)).ShouldBeGreaterThanOrEqualTo(1);
    }

    /// <summary>Asks Prometheus for <paramref name="query"/> until its one value satisfies <paramref name="done"/>, within the test's 90 s budget.</summary>
    private async Task<double> WaitForAsync(HttpClient prometheus, string query, Func<double, bool> done, Stopwatch watch)
    {
        string last = "";
        while (watch.Elapsed < TimeSpan.FromSeconds(90))
        {
            try
            {
                last = await prometheus.GetStringAsync("/api/v1/query?query=" + Uri.EscapeDataString(query));
                var result = JsonDocument.Parse(last).RootElement.GetProperty("data").GetProperty("result");
                if (result.GetArrayLength() == 1)
                {
                    var value = double.Parse(result[0].GetProperty("value")[1].GetString()!, CultureInfo.InvariantCulture);
                    if (done(value)) return value;
                }
            }
            catch (HttpRequestException)
            {
                // Prometheus is still starting.
            }

            if (_prometheus is { HasExited: true }) throw new InvalidOperationException("prometheus exited early:\n" + PrometheusOutput);
            await Task.Delay(250);
        }

        throw new TimeoutException($"'{query}' never held after {watch.Elapsed.TotalSeconds:0} s; last answer: {last}\n"
            + (await prometheus.GetStringAsync("/api/v1/targets")) + "\n" + PrometheusOutput);
    }

    private string PrometheusOutput { get { lock (_prometheusOutput) return _prometheusOutput.ToString(); } }

    private void StartPrometheus(params string[] args)
    {
        var psi = new ProcessStartInfo("/usr/bin/prometheus") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in args) psi.ArgumentList.Add(a);
        _prometheus = Process.Start(psi) ?? throw new InvalidOperationException("cannot start prometheus");
        _prometheus.OutputDataReceived += (_, e) => { if (e.Data is not null) lock (_prometheusOutput) _prometheusOutput.AppendLine(e.Data); };
        _prometheus.ErrorDataReceived += (_, e) => { if (e.Data is not null) lock (_prometheusOutput) _prometheusOutput.AppendLine(e.Data); };
        _prometheus.BeginOutputReadLine();
        _prometheus.BeginErrorReadLine();
    }

    public Task InitializeAsync() => Task.CompletedTask;

    /// <summary>xUnit calls this after the test, passed or failed: Prometheus is killed and waited for.</summary>
    public async Task DisposeAsync()
    {
        if (_prometheus is not null)
        {
            if (!_prometheus.HasExited) _prometheus.Kill(entireProcessTree: true);
            await _prometheus.WaitForExitAsync();
            _prometheus.Dispose();
        }

        _home.Dispose();
    }
}
