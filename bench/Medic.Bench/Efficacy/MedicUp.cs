using System.Diagnostics;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Medic.Bench.Fanout;

namespace Medic.Bench.Efficacy;

/// <summary>
/// A real <c>medic up</c> in a throwaway HOME (SQLite, its own local agent with <c>exec</c>), started
/// with the scenario's <c>~/.medic/monitors.yaml</c>; an admin client and a second person with the
/// approver role, who approves requests as an on-call person would. Disposing kills it and its children.
/// </summary>
internal sealed class MedicUp : IAsyncDisposable
{
    private const string AdminPassword = "efficacy-admin-password-1";
    private const string ApproverPassword = "efficacy-approver-password-1";
    private readonly Process _process;
    private readonly StringBuilder _log = new();

    private MedicUp(Process process, string home, string url)
    {
        _process = process;
        Home = home;
        Url = url;
        Admin = new HttpClient { BaseAddress = new Uri(url), Timeout = TimeSpan.FromSeconds(20) };
        Approver = new HttpClient { BaseAddress = new Uri(url), Timeout = TimeSpan.FromSeconds(20) };
    }

    public string Home { get; }

    public string Url { get; }

    public HttpClient Admin { get; }

    public HttpClient Approver { get; }

    public int Pid => _process.Id;

    public bool Alive => !_process.HasExited;

    public string Log { get { lock (_log) return _log.ToString(); } }

    public static string Dotnet => Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host ? host : "/usr/bin/dotnet";

    public static async Task<MedicUp> StartAsync(string medicDll, string home, string monitorsYaml, TimeSpan limit)
    {
        var data = Directory.CreateDirectory(Path.Combine(home, ".medic")).FullName;
        await File.WriteAllTextAsync(Path.Combine(data, "monitors.yaml"), monitorsYaml);
        var url = $"http://127.0.0.1:{Scenarios.FreePort()}";
        var start = new ProcessStartInfo(Dotnet, [medicDll, "up", "--listen", url])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
            WorkingDirectory = home,
        };
        foreach (var name in start.Environment.Keys.Where(k => k.StartsWith("MEDIC_", StringComparison.Ordinal) || k == "XDG_CONFIG_HOME").ToList()) start.Environment.Remove(name);
        start.Environment["HOME"] = home;
        start.Environment["MEDIC_ADMIN_PASSWORD"] = AdminPassword;
        start.Environment["MEDIC_RATE_LIMITS__API_PER_MINUTE"] = "1000000";
        start.Environment["DOTNET_NOLOGO"] = "1";
        var process = Process.Start(start) ?? throw new BenchFailure("could not start medic up", "check that 'dotnet' is on PATH");
        var up = new MedicUp(process, home, url);
        var ready = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        process.OutputDataReceived += (_, e) =>
        {
            if (e.Data is null) return;
            up.Append(e.Data);
            if (e.Data.Contains("Stop with Ctrl-C", StringComparison.Ordinal)) ready.TrySetResult();
        };
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) up.Append(e.Data); };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        try
        {
            var first = await Task.WhenAny(ready.Task, process.WaitForExitAsync(), Task.Delay(limit));
            if (first != ready.Task) throw new BenchFailure($"medic up did not get ready ({(process.HasExited ? $"exit {process.ExitCode}" : "timeout")}): {Tail(up.Log, 6)}", "run it by hand with the same monitors.yaml");
            await up.LoginAsync();
            return up;
        }
        catch
        {
            await up.DisposeAsync();
            throw;
        }
    }

    private static string Tail(string text, int lines) => string.Join(" | ", text.Split('\n', StringSplitOptions.RemoveEmptyEntries).TakeLast(lines));

    private void Append(string line)
    {
        lock (_log) _log.AppendLine(line);
    }

    private async Task LoginAsync()
    {
        Admin.DefaultRequestHeaders.Authorization = new("Bearer", await TokenAsync("admin", AdminPassword));
        using (var created = await Admin.PostAsJsonAsync("/api/v1/users", new { username = "oncall", role = "approver", password = ApproverPassword }))
        {
            if (!created.IsSuccessStatusCode) throw new BenchFailure($"could not add the approver: {(int)created.StatusCode} {await created.Content.ReadAsStringAsync()}", "see docs/security.md");
        }

        Approver.DefaultRequestHeaders.Authorization = new("Bearer", await TokenAsync("oncall", ApproverPassword));
    }

    private async Task<string> TokenAsync(string user, string password)
    {
        using var login = await Admin.PostAsJsonAsync("/api/v1/auth/token", new { username = user, password });
        if (!login.IsSuccessStatusCode) throw new BenchFailure($"login as {user} failed: {(int)login.StatusCode} {await login.Content.ReadAsStringAsync()}", "see docs/security.md");
        return (await login.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("secret").GetString()!;
    }

    public async Task<JsonElement> GetAsync(string path)
    {
        using var response = await Admin.GetAsync(path);
        var text = await response.Content.ReadAsStringAsync();
        if (!response.IsSuccessStatusCode) throw new BenchFailure($"GET {path}: {(int)response.StatusCode} {text}", "see the medic up log");
        return JsonDocument.Parse(text).RootElement.Clone();
    }

    /// <summary>
    /// Waits until no incident is active: monitors that looked before their service listened (a start
    /// races its own health checks) have seen it healthy, so the fault injected next opens its own incident.
    /// </summary>
    public async Task WaitUntilQuietAsync(TimeSpan limit)
    {
        var clock = System.Diagnostics.Stopwatch.StartNew();
        while (clock.Elapsed < limit)
        {
            var active = await GetAsync("/api/v1/incidents?status=active&limit=100");
            if (active.GetProperty("items").GetArrayLength() == 0) return;
            await Task.Delay(250);
        }

        throw new BenchFailure($"incidents from the start were still active after {limit.TotalSeconds:0} s", "see the medic up log (--keep keeps it)");
    }

    public async Task<string> GetTextAsync(string path)
    {
        using var response = await Admin.GetAsync(path);
        return await response.Content.ReadAsStringAsync();
    }

    public async Task PutTriageRulesAsync(string yaml)
    {
        using var response = await Admin.PutAsJsonAsync("/api/v1/pipeline/triage-rules", new { yaml });
        if (!response.IsSuccessStatusCode) throw new BenchFailure($"triage rules refused: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}", "fix the scenario's rules (docs/pipeline.md)");
    }

    public async Task<bool> ApproveAsync(string approvalId)
    {
        using var response = await Approver.PostAsJsonAsync($"/api/v1/approvals/{approvalId}/approve", new { comment = "efficacy suite: approved by the on-call person" });
        return response.IsSuccessStatusCode;
    }

    /// <summary>Posts an Alertmanager (payload version 4) delivery to the tenant's webhook with its bearer token.</summary>
    public async Task PostAlertAsync(string alertname, IReadOnlyDictionary<string, string> labels, bool firing, DateTimeOffset startsAt)
    {
        var token = (await GetAsync("/api/v1/webhooks")).GetProperty("bearer_token").GetString();
        var all = new Dictionary<string, string>(labels) { ["alertname"] = alertname };
        var alert = new Dictionary<string, object>
        {
            ["status"] = firing ? "firing" : "resolved",
            ["labels"] = all,
            ["annotations"] = new Dictionary<string, string> { ["summary"] = $"{alertname} on {labels.GetValueOrDefault("instance")}" },
            ["startsAt"] = startsAt.ToString("O"),
            ["endsAt"] = firing ? "0001-01-01T00:00:00Z" : DateTimeOffset.UtcNow.ToString("O"),
            ["fingerprint"] = Convert.ToHexString(System.Security.Cryptography.SHA256.HashData(Encoding.UTF8.GetBytes(string.Join(",", all.OrderBy(p => p.Key))))).ToLowerInvariant()[..16],
        };
        var payload = new Dictionary<string, object>
        {
            ["version"] = "4",
            ["groupKey"] = "{}:{alertname=\"" + alertname + "\"}",
            ["status"] = firing ? "firing" : "resolved",
            ["receiver"] = "medic",
            ["groupLabels"] = new Dictionary<string, string> { ["alertname"] = alertname },
            ["commonLabels"] = all,
            ["commonAnnotations"] = new Dictionary<string, string>(),
            ["externalURL"] = "http://alertmanager.example:9093",
            ["alerts"] = new[] { alert },
        };
        using var request = new HttpRequestMessage(HttpMethod.Post, "/api/v1/webhooks/alerts/default/alertmanager") { Content = JsonContent.Create(payload) };
        request.Headers.Authorization = new("Bearer", token);
        using var response = await Admin.SendAsync(request);
        if (!response.IsSuccessStatusCode) throw new BenchFailure($"webhook refused the alert: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}", "see docs/webhooks.md");
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            // SIGTERM first: the agent stops its supervised children (their process groups) on the way out.
            _ = Scenarios.Signal(_process.Id, 15);
            using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(10));
            try
            {
                await _process.WaitForExitAsync(cts.Token);
            }
            catch (OperationCanceledException)
            {
                _process.Kill(entireProcessTree: true);
                await _process.WaitForExitAsync();
            }
        }

        _process.Dispose();
        Admin.Dispose();
        Approver.Dispose();
    }
}
