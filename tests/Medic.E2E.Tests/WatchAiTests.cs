using System.Diagnostics;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using Medic.ModelServer;

namespace Medic.E2E.Tests;

/// <summary>
/// <c>medic watch</c>'s AI rung as a real process: a service that cannot start because of a stale pid
/// file, a ladder that gives up, a scripted model (real OpenAI wire) that runs real read-only verbs on
/// this machine and proposes the fix, and a webhook receiver for the notifications.
/// </summary>
public sealed class WatchAiTests
{
    private const string ApiKey = "sk-watch-test-key-5f1e2d";
    private const string HeaderSecret = "Bearer hook-token-0b7c9a";
    private static readonly string ServiceDll = Path.Combine(AppContext.BaseDirectory, "medic-test-http.dll");

    private sealed class Scene : IAsyncDisposable
    {
        private readonly StringBuilder _output = new();

        public required MedicHome Home { get; init; }

        public required ScriptedModelServer Model { get; init; }

        public required WebhookReceiver Hooks { get; init; }

        public required string LockFile { get; init; }

        public required int DeadPid { get; init; }

        public required int Port { get; init; }

        public required string SecretLog { get; init; }

        public Process? Watch { get; private set; }

        public string Output()
        {
            lock (_output) return _output.ToString();
        }

        public static async Task<Scene> StartAsync(string aiExtra)
        {
            var home = new MedicHome();
            var model = await ScriptedModelServer.StartAsync();
            var hooks = new WebhookReceiver();
            int dead;
            using (var gone = Process.Start("true")!)
            {
                await gone.WaitForExitAsync();
                dead = gone.Id;
            }

            var lockFile = Path.Combine(home.Home, "webapp.pid");
            File.WriteAllText(lockFile, dead.ToString(CultureInfo.InvariantCulture) + "\n");
            var secretLog = Path.Combine(home.Home, "app.log");
            File.WriteAllText(secretLog, $"connecting with Authorization: {HeaderSecret}\n");
            home.Environment["WATCH_MODEL_KEY"] = ApiKey;
            var scene = new Scene { Home = home, Model = model, Hooks = hooks, LockFile = lockFile, DeadPid = dead, Port = MedicHome.FreePort(), SecretLog = secretLog };
            var dotnet = Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host ? host : "dotnet";
            var watchFile = Path.Combine(home.Home, "watch.yaml");
            File.WriteAllText(watchFile, $"""
                state_dir: {home.Home}/watch-state
                notify:
                  webhook:
                    url: {hooks.Url.TrimEnd('/')}
                    headers:
                      Authorization: {HeaderSecret}
                ai:
                  provider: openai
                  base_url: {model.OpenAiBaseUrl}
                  model: scripted-watch
                  api_key_env: WATCH_MODEL_KEY
                {aiExtra}
                monitors:
                  - name: web
                    kind: process
                    start: ["{dotnet}", "{ServiceDll}", --port, "{scene.Port}", --lock, "{lockFile}", --name, webapp]
                    health:
                      http: http://127.0.0.1:{scene.Port}/
                      timeout: 1s
                    heal:
                      max_restarts: 2
                      window: 1m
                      delay: 100ms
                      retries: 50
                      backoff: 100ms
                      retry_after: 1h
                """);
            var check = await home.RunAsync("watch", "-f", watchFile, "--check");
            check.ExitCode.ShouldBe(0, check.ToString());
            check.Stdout.ShouldContain("ai: openai scripted-watch at " + model.OpenAiBaseUrl + " (key from $WATCH_MODEL_KEY)");
            check.Stdout.ShouldNotContain(ApiKey);
            scene.Watch = new Process { StartInfo = home.StartInfo("watch", "-f", watchFile) };
            scene.Watch.OutputDataReceived += (_, e) => { lock (scene._output) scene._output.AppendLine(e.Data); };
            scene.Watch.ErrorDataReceived += (_, e) => { lock (scene._output) scene._output.AppendLine(e.Data); };
            return scene;
        }

        public void Start()
        {
            Watch!.Start();
            Watch.BeginOutputReadLine();
            Watch.BeginErrorReadLine();
        }

        public async Task<string> WaitForAsync(string line, TimeSpan timeout)
        {
            var deadline = DateTime.UtcNow + timeout;
            while (DateTime.UtcNow < deadline)
            {
                if (Output().Contains(line, StringComparison.Ordinal)) return Output();
                await Task.Delay(50);
            }

            throw new TimeoutException($"no '{line}' in the output:\n{Output()}");
        }

        public string Report() => File.ReadAllText(Directory.GetFiles(Path.Combine(Home.Home, "watch-state", "reports")).ShouldHaveSingleItem());

        public JsonNode Notification(string kind) =>
            Hooks.Requests.Select(r => JsonNode.Parse(r.Body)!).FirstOrDefault(n => (string?)n["event"] == kind)
                ?? throw new ShouldAssertException($"no {kind} notification; got: {string.Join(", ", Hooks.Requests.Select(r => r.Body))}");

        public async ValueTask DisposeAsync()
        {
            if (Watch is not null)
            {
                if (!Watch.HasExited)
                {
                    using (var term = Process.Start("kill", ["-TERM", Watch.Id.ToString(CultureInfo.InvariantCulture)]))
                    {
                        await term!.WaitForExitAsync();
                    }

                    using var stopped = new CancellationTokenSource(TimeSpan.FromSeconds(30));
                    try
                    {
                        await Watch.WaitForExitAsync(stopped.Token);
                    }
                    catch (OperationCanceledException)
                    {
                        Watch.Kill(entireProcessTree: true);
                    }
                }

                Watch.Dispose();
            }

            Hooks.Dispose();
            await Model.DisposeAsync();
            Home.Dispose();
        }
    }

    private static void ScriptDiagnosis(Scene s, bool withRefusals)
    {
        if (withRefusals)
        {
            s.Model.ReplyToolCalls(("shell", new Dictionary<string, string> { ["command"] = "rm -rf /" }));
            s.Model.ReplyToolCalls(("stale-lock", new Dictionary<string, string> { ["path"] = "relative/web.pid" }));
            s.Model.ReplyToolCalls(("file-tail", new Dictionary<string, string> { ["path"] = s.SecretLog }));
        }

        s.Model.ReplyToolCalls(("stale-lock", new Dictionary<string, string> { ["path"] = s.LockFile, ["program"] = "webapp" }));
        s.Model.ReplyToolCalls(("propose_fix", new Dictionary<string, object>
        {
            ["recipe"] = "remove-stale-lock",
            ["params"] = new Dictionary<string, string> { ["path"] = s.LockFile, ["owner_pid"] = s.DeadPid.ToString(CultureInfo.InvariantCulture), ["program"] = "webapp" },
            ["rationale"] = "the pid file names a process that is gone, and webapp refuses to start while it exists",
        }));
        s.Model.ReplyText($"Cause: a stale pid file {s.LockFile} left by a crashed webapp (pid {s.DeadPid} is gone). Fix: remove it.");
    }

    [Fact]
    public async Task A_fix_not_allowed_is_reported_with_the_diagnosis_and_nothing_changes()
    {
        await using var s = await Scene.StartAsync("");
        ScriptDiagnosis(s, withRefusals: true);
        s.Start();

        await s.WaitForAsync("incident diagnosed: web: diagnosed by AI", TimeSpan.FromSeconds(90));
        await EventuallyAsync(() => s.Hooks.Requests.Any(r => r.Body.Contains("\"diagnosed\"", StringComparison.Ordinal)), TimeSpan.FromSeconds(10), s.Output);

        // The gave_up notification went at once and says a diagnosis follows; the diagnosed one carries it.
        var gaveUp = s.Notification("gave_up");
        gaveUp["evidence"]!["ai_diagnosis"]!.GetValue<string>().ShouldStartWith("under way (scripted-watch)");
        var diagnosed = s.Notification("diagnosed");
        diagnosed["evidence"]!["diagnosis"]!.GetValue<string>().ShouldContain($"stale pid file {s.LockFile}");
        diagnosed["evidence"]!["proposed_fix"]!.GetValue<string>().ShouldStartWith($"remove-stale-lock(owner_pid={s.DeadPid}, path={s.LockFile}, program=webapp)");
        diagnosed["evidence"]!["fix"]!.GetValue<string>().ShouldStartWith("not run: 'remove-stale-lock' is not in ai.allow");
        var report = s.Report();
        report.ShouldContain("## Diagnosis (AI)");
        report.ShouldContain("- model: scripted-watch");
        report.ShouldContain("- outcome: completed in 6 turns");
        report.ShouldContain("- tool calls: 5");
        report.ShouldContain("1. `shell` {\"command\":\"rm -rf /\"} -> tool.not_found");
        report.ShouldContain("2. `stale-lock` {\"path\":\"relative/web.pid\"} -> tool.input_invalid");
        report.ShouldContain("- fix: not run: 'remove-stale-lock' is not in ai.allow");
        report.ShouldContain("- outcome: gave up: web: gave up restarting it");

        // Nothing changed: the stale file is still there and the service still down.
        File.ReadAllText(s.LockFile).Trim().ShouldBe(s.DeadPid.ToString(CultureInfo.InvariantCulture));
        s.Output().ShouldNotContain("incident resolved");

        // What the model received: structured errors, the real verb's output, no secrets.
        var requests = s.Model.Requests;
        requests.Count.ShouldBe(6);
        ToolResult(requests[1]).ShouldStartWith("{\"error\":{\"code\":\"tool.not_found\",\"message\":\"there is no tool 'shell' (there is no shell)");
        ToolResult(requests[2]).ShouldStartWith("{\"error\":{\"code\":\"tool.input_invalid\",\"message\":\"argument 'path' of 'stale-lock'");
        ToolResult(requests[3]).ShouldContain("connecting with Authorization: [redacted]");
        ToolResult(requests[4]).ShouldContain("the file is stale");
        requests[0].RawBody.ShouldContain("\"name\":\"stale-lock\"");
        requests[0].RawBody.ShouldNotContain("\"name\":\"shell\"");
        foreach (var r in requests)
        {
            r.RawBody.ShouldNotContain(ApiKey);
            r.RawBody.ShouldNotContain("hook-token-0b7c9a");
            r.HadAuth.ShouldBeTrue();
            r.AuthSha256Prefix.ShouldBe(Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(ApiKey)))[..12]);
        }
    }

    [Fact]
    public async Task An_allowed_fix_runs_after_its_precondition_is_checked_again_and_the_service_recovers()
    {
        await using var s = await Scene.StartAsync("  allow: [remove-stale-lock]");
        ScriptDiagnosis(s, withRefusals: false);
        s.Start();

        await s.WaitForAsync("incident diagnosed: web: diagnosed by AI", TimeSpan.FromSeconds(90));
        (await GetAsync(s.Port)).ShouldBe("ok", s.Output());
        File.ReadAllText(s.LockFile).Trim().ShouldNotBe(s.DeadPid.ToString(CultureInfo.InvariantCulture), "the service wrote its own pid into a new lock file");
        var report = s.Report();
        report.ShouldContain($"- fix: ran: removed {s.LockFile} (pid {s.DeadPid} is gone and nobody holds a lock on it); web is healthy again: the fix worked");
        report.ShouldContain("- outcome: healed locally (web healed locally on a retry after giving up (after the AI fix remove-stale-lock))");
        s.Output().ShouldContain("web: AI fix: ran:");
        await EventuallyAsync(() => s.Hooks.Requests.Any(r => r.Body.Contains("\"diagnosed\"", StringComparison.Ordinal)), TimeSpan.FromSeconds(10), s.Output);
        s.Notification("diagnosed")["evidence"]!["fix"]!.GetValue<string>().ShouldEndWith("the fix worked");
        s.Notification("healed");
    }

    [Fact]
    public async Task A_model_that_never_stops_is_cut_at_max_turns()
    {
        await using var s = await Scene.StartAsync("  max_turns: 3");
        var asked = 0;
        s.Model.Responder = _ => ModelReply.ReplyToolCalls(("stale-lock", new Dictionary<string, string> { ["path"] = s.LockFile, ["program"] = "webapp" + Interlocked.Increment(ref asked) }));
        s.Start();

        await s.WaitForAsync("incident diagnosed: web: diagnosed by AI", TimeSpan.FromSeconds(90));
        s.Model.Requests.Count.ShouldBe(3);
        var report = s.Report();
        report.ShouldContain("- outcome: max_turns: stopped after 3 model turns");
        report.ShouldContain("- proposed fix: none");
        File.Exists(s.LockFile).ShouldBeTrue();
    }

    /// <summary>The content of the last tool result in an OpenAI request.</summary>
    private static string ToolResult(ModelRequest request) =>
        request.Body!["messages"]!.AsArray().Last(m => (string?)m!["role"] == "tool")!["content"]!.GetValue<string>();

    private static async Task<string?> GetAsync(int port)
    {
        using var client = new HttpClient { Timeout = TimeSpan.FromSeconds(2) };
        try
        {
            return await client.GetStringAsync($"http://127.0.0.1:{port}/");
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
        {
            return null;
        }
    }

    private static async Task EventuallyAsync(Func<bool> condition, TimeSpan timeout, Func<string> what)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (!condition())
        {
            if (DateTime.UtcNow > deadline) throw new TimeoutException(what());
            await Task.Delay(50);
        }
    }
}
