using System.Diagnostics;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;

namespace Medic.E2E.Tests;

/// <summary>
/// Debian's real Prometheus, Alertmanager and node exporter on loopback ports, alerting into a real
/// <c>medic server</c>: one incident per instance, matched to its server, resolved by the resolve.
/// </summary>
public sealed class PrometheusAlertTests : IAsyncLifetime
{
    private readonly MedicHome _home = new();
    private readonly List<ChildProcess> _children = [];

    [Fact]
    public async Task Alerts_on_two_labelled_instances_open_one_incident_each_matched_to_its_server_and_resolve_when_the_alerts_resolve()
    {
        var watch = Stopwatch.StartNew();
        _home.Environment["MEDIC_ADMIN_PASSWORD"] = "alert-identity-password-1";
        await using var server = await RunningServer.StartAsync(_home, "server", "--data", Path.Combine(_home.Home, "data"));
        using var http = new HttpClient { BaseAddress = new Uri(server.Url), Timeout = TimeSpan.FromSeconds(30) };
        using (var login = await http.PostAsync("/api/v1/auth/token", new StringContent("""{"username":"admin","password":"alert-identity-password-1"}""", Encoding.UTF8, "application/json")))
        {
            login.EnsureSuccessStatusCode();
            http.DefaultRequestHeaders.Authorization = new("Bearer", (await login.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("secret").GetString());
        }

        // A node named web-1 exists (agentless, never reached here); db-1 has none.
        var keys = Path.Combine(_home.Home, "data", "ssh", "keys", "default");
        Directory.CreateDirectory(keys);
        using (var keygen = Process.Start("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-f", Path.Combine(keys, "unused")]))
        {
            await keygen.WaitForExitAsync();
            keygen.ExitCode.ShouldBe(0);
        }
        using (var added = await http.PostAsync("/api/v1/servers", new StringContent(
            """{"name":"web-1","address":"192.0.2.10","user":"medic","key":"unused","accept_new_host_key":true}""", Encoding.UTF8, "application/json")))
        {
            added.IsSuccessStatusCode.ShouldBeTrue(await added.Content.ReadAsStringAsync());
        }

        var token = (await http.GetFromJsonAsync<JsonElement>("/api/v1/webhooks")).GetProperty("bearer_token").GetString()!;
        var webhookUrl = $"{server.Url}/api/v1/webhooks/alerts/default/alertmanager";

        // The exporters' ports are chosen now but nothing listens yet: both targets are down, so up == 0 fires for both.
        var exporterPorts = new[] { MedicHome.FreePort(), MedicHome.FreePort() };
        var alertmanagerPort = MedicHome.FreePort();
        var prometheusPort = MedicHome.FreePort();
        var dir = Path.Combine(_home.Home, "prometheus");
        Directory.CreateDirectory(dir);
        await File.WriteAllTextAsync(Path.Combine(dir, "alertmanager.yml"), $"""
            route:
              receiver: medic
              group_by: [alertname]
              group_wait: 1s
              group_interval: 2s
              repeat_interval: 1h
            receivers:
              - name: medic
                webhook_configs:
                  - url: {webhookUrl}
                    send_resolved: true
                    http_config:
                      authorization:
                        type: Bearer
                        credentials: {token}
            """);
        await File.WriteAllTextAsync(Path.Combine(dir, "rules.yml"), """
            groups:
              - name: medic-e2e
                interval: 1s
                rules:
                  - alert: NodeExporterDown
                    expr: up{job="node"} == 0
                    labels:
                      severity: critical
                    annotations:
                      summary: node exporter unreachable
                      description: "{{ $labels.instance }} has not answered a scrape"
            """);
        await File.WriteAllTextAsync(Path.Combine(dir, "prometheus.yml"), $$"""
            global:
              scrape_interval: 1s
              scrape_timeout: 500ms
              evaluation_interval: 1s
            rule_files: [{{Path.Combine(dir, "rules.yml")}}]
            alerting:
              alertmanagers:
                - static_configs:
                    - targets: ["127.0.0.1:{{alertmanagerPort}}"]
            scrape_configs:
              - job_name: node
                static_configs:
                  - targets: ["127.0.0.1:{{exporterPorts[0]}}"]
                    labels: {instance: "web-1:9100"}
                  - targets: ["127.0.0.1:{{exporterPorts[1]}}"]
                    labels: {instance: "db-1:9100"}
            """);

        Start("/usr/bin/prometheus-alertmanager", "--config.file=" + Path.Combine(dir, "alertmanager.yml"), "--storage.path=" + Path.Combine(dir, "am-data"),
            $"--web.listen-address=127.0.0.1:{alertmanagerPort}", "--cluster.listen-address=");
        Start("/usr/bin/prometheus", "--config.file=" + Path.Combine(dir, "prometheus.yml"), "--storage.tsdb.path=" + Path.Combine(dir, "tsdb"),
            $"--web.listen-address=127.0.0.1:{prometheusPort}");

        var firing = await WaitForAsync(http, incidents => incidents.Count == 2 && incidents.All(i => i.GetProperty("status").GetString() != "resolved"), "two open incidents", watch);
        var byInstance = firing.ToDictionary(i => i.GetProperty("labels").GetProperty("instance").GetString()!);
        byInstance.Keys.Order(StringComparer.Ordinal).ShouldBe(["db-1:9100", "web-1:9100"]);
        byInstance["web-1:9100"].GetProperty("server").GetString().ShouldBe("web-1");
        byInstance["db-1:9100"].GetProperty("server").ValueKind.ShouldBe(JsonValueKind.Null);
        firing.ShouldAllBe(i => i.GetProperty("severity").GetString() == "critical"
            && i.GetProperty("title").GetString() == "NodeExporterDown: node exporter unreachable"
            && i.GetProperty("group_key").GetString()!.Contains("NodeExporterDown", StringComparison.Ordinal));
        byInstance["db-1:9100"].GetProperty("summary").GetString().ShouldBe("db-1:9100 has not answered a scrape");

        // The exporters come up: up == 1, Prometheus sends the resolve, Alertmanager passes it on.
        foreach (var port in exporterPorts)
        {
            Start("/usr/bin/prometheus-node-exporter", $"--web.listen-address=127.0.0.1:{port}", "--collector.disable-defaults", "--collector.loadavg");
        }

        var resolved = await WaitForAsync(http, incidents => incidents.Count == 2 && incidents.All(i => i.GetProperty("status").GetString() == "resolved"), "both incidents resolved", watch);
        resolved.Select(i => i.GetProperty("id").GetString()).Order(StringComparer.Ordinal).ShouldBe(firing.Select(i => i.GetProperty("id").GetString()).Order(StringComparer.Ordinal));
        resolved.ShouldAllBe(i => i.GetProperty("resolution").GetString() == "resolved by alertmanager");
    }

    /// <summary>Polls the alertmanager incidents until <paramref name="done"/> holds, within the test's 100 s budget.</summary>
    private async Task<IReadOnlyList<JsonElement>> WaitForAsync(HttpClient http, Func<IReadOnlyList<JsonElement>, bool> done, string what, Stopwatch watch)
    {
        IReadOnlyList<JsonElement> incidents = [];
        while (watch.Elapsed < TimeSpan.FromSeconds(100))
        {
            var page = await http.GetFromJsonAsync<JsonElement>("/api/v1/incidents?source=alertmanager&limit=50");
            incidents = page.GetProperty("items").EnumerateArray().ToList();
            if (done(incidents)) return incidents;
            var exited = _children.FirstOrDefault(c => c.HasExited);
            if (exited is not null) throw new InvalidOperationException($"{exited.Command} exited early:\n{exited.Output}");
            await Task.Delay(500);
        }

        throw new TimeoutException($"no {what} after {watch.Elapsed.TotalSeconds:0} s; incidents: {JsonSerializer.Serialize(incidents)}\n"
            + string.Join("\n", _children.Select(c => $"--- {c.Command}\n{c.Output}")));
    }

    private void Start(string file, params string[] args) => _children.Add(ChildProcess.Start(file, args));

    public Task InitializeAsync() => Task.CompletedTask;

    /// <summary>xUnit calls this after the test, passed or failed: every child process is killed and waited for.</summary>
    public async Task DisposeAsync()
    {
        foreach (var child in _children) await child.DisposeAsync();
        _home.Dispose();
    }

    /// <summary>A child process with its output kept (the last 200 lines) for a failure message; disposing kills it.</summary>
    private sealed class ChildProcess : IAsyncDisposable
    {
        private readonly Process _process;
        private readonly Queue<string> _lines = new();

        private ChildProcess(Process process, string command)
        {
            _process = process;
            Command = command;
            process.OutputDataReceived += (_, e) => Keep(e.Data);
            process.ErrorDataReceived += (_, e) => Keep(e.Data);
            process.BeginOutputReadLine();
            process.BeginErrorReadLine();
        }

        public string Command { get; }

        public bool HasExited => _process.HasExited;

        public string Output { get { lock (_lines) return string.Join('\n', _lines); } }

        public static ChildProcess Start(string file, string[] args)
        {
            var psi = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
            foreach (var a in args) psi.ArgumentList.Add(a);
            var process = Process.Start(psi) ?? throw new InvalidOperationException("cannot start " + file);
            return new ChildProcess(process, Path.GetFileName(file) + " " + string.Join(' ', args));
        }

        private void Keep(string? line)
        {
            if (line is null) return;
            lock (_lines)
            {
                _lines.Enqueue(line);
                if (_lines.Count > 200) _lines.Dequeue();
            }
        }

        public async ValueTask DisposeAsync()
        {
            if (!_process.HasExited) _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
            _process.Dispose();
        }
    }
}
