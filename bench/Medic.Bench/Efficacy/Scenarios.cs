using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;

namespace Medic.Bench.Efficacy;

/// <summary>
/// The fault scenarios: each starts real processes (the test HTTP service, python3, openssl, sh),
/// real tmpfs mounts and a real <c>medic up</c> configured as docs/monitors.md and docs/pipeline.md
/// tell a user, injects one fault, and hands the judging to <see cref="Judge"/>.
/// </summary>
internal static partial class Scenarios
{
    public static readonly IReadOnlyList<(string Name, string What, Func<ScenarioContext, Task<ScenarioResult>> Run)> All =
    [
        ("crash", "a supervised service dies of an unhandled exception (abort)", CrashAsync),
        ("crashloop-config", "a service crash-loops on a broken config; a person fixes the file", CrashLoopConfigAsync),
        ("hung", "a service accepts connections but never answers (deadlock)", HungAsync),
        ("two-instances", "blue and green of one program; only green hangs", TwoInstancesAsync),
        ("stale-lock", "a crashed service left its lock file; every start is refused", StaleLockAsync),
        ("port-taken", "another program holds the service's port", PortTakenAsync),
        ("disk-backups", "a disk fills with old backups (one recent one must stay)", DiskBackupsAsync),
        ("disk-log", "a disk fills with one growing application log", DiskLogAsync),
        ("disk-deleted-open", "a deleted log still held open by a process holds the space", DiskDeletedOpenAsync),
        ("inodes", "a mail spool directory exhausts the inodes", InodesAsync),
        ("runaway-cpu", "one process spins a core; a sibling of the same name is idle", RunawayCpuAsync),
        ("memory-leak", "a process leaks 20 MiB a second", MemoryLeakAsync),
        ("cert-self-signed", "a self-signed certificate (not certbot's) expires in 3 days", CertificateAsync),
        ("alert-blackbox", "Alertmanager: BlackboxProbeFailed for a hung service", AlertBlackboxAsync),
        ("alert-disk", "Alertmanager: NodeFilesystemAlmostOutOfSpace on a mount full of old dumps", AlertDiskAsync),
        ("raid-degraded", "a RAID check fails: nothing to run, a person must replace a disk", NoFixAsync),
    ];

    private static string Heal(string extra = "") => $"{{ max_restarts: 3, window: 1m, delay: 200ms, retries: 15{extra} }}";

    private static async Task<ScenarioResult> CrashAsync(ScenarioContext ctx)
    {
        var port = FreePort();
        var medic = await ctx.StartMedicAsync($$"""
            monitors:
              - name: eff-api
                kind: process
                start: {{ctx.ServiceArgv("--port", $"{port}", "--name", "eff-api")}}
                health: { http: "http://127.0.0.1:{{port}}/", timeout: 1s, failures: 2 }
                heal: {{Heal()}}
            """);
        var pid = await ScenarioContext.WaitForPidAsync(port, TimeSpan.FromSeconds(60));
        ctx.SinceFault.Start();
        await ScenarioContext.GetAsync(port, "/crash");
        return await Judge.RunAsync("crash", medic, new Judgement
        {
            IsMine = i => ScenarioContext.LabelIs(i, "monitor", "eff-api"),
            Expect = Good.Healed,
            FaultGone = async () => await ScenarioContext.PidAsync(port) is { } p && p != pid,
        }, ctx.SinceFault);
    }

    private static async Task<ScenarioResult> CrashLoopConfigAsync(ScenarioContext ctx)
    {
        var port = FreePort();
        var config = Path.Combine(ctx.Work, "app.conf");
        await File.WriteAllTextAsync(config, "listen: ok\n");
        var medic = await ctx.StartMedicAsync($$"""
            monitors:
              - name: eff-billing
                kind: process
                start: {{ctx.ServiceArgv("--port", $"{port}", "--name", "eff-billing", "--config", config)}}
                health: { http: "http://127.0.0.1:{{port}}/", timeout: 1s, failures: 2 }
                heal: {{Heal($", watch: [\"{config}\"]")}}
            """);
        var pid = await ScenarioContext.WaitForPidAsync(port, TimeSpan.FromSeconds(60));
        // A deploy writes a broken config and restarts the service: every start now fails.
        await File.WriteAllTextAsync(config, "listen: 127.0.0.1:80:80\n");
        ctx.SinceFault.Start();
        _ = Signal(pid, 15);
        var fixedAt = TimeSpan.FromSeconds(20);
        return await Judge.RunAsync("crashloop-config", medic, new Judgement
        {
            IsMine = i => ScenarioContext.LabelIs(i, "monitor", "eff-billing"),
            Expect = Good.Healed,
            Limit = TimeSpan.FromSeconds(75),
            // The person on call reads the error and fixes the file 20 s in; the agent must try again and resolve.
            Tick = async () =>
            {
                if (ctx.SinceFault.Elapsed > fixedAt && !(await File.ReadAllTextAsync(config)).Contains("listen: ok", StringComparison.Ordinal)) await File.WriteAllTextAsync(config, "listen: ok\n");
            },
            FaultGone = async () => await ScenarioContext.PidAsync(port) is not null,
        }, ctx.SinceFault);
    }

    private static async Task<ScenarioResult> HungAsync(ScenarioContext ctx)
    {
        var port = FreePort();
        var medic = await ctx.StartMedicAsync($$"""
            monitors:
              - name: eff-search
                kind: process
                start: {{ctx.ServiceArgv("--port", $"{port}", "--name", "eff-search")}}
                health: { http: "http://127.0.0.1:{{port}}/", timeout: 1s, failures: 2 }
                heal: {{Heal()}}
            """);
        var pid = await ScenarioContext.WaitForPidAsync(port, TimeSpan.FromSeconds(60));
        ctx.SinceFault.Start();
        await ScenarioContext.HangAsync(port);
        return await Judge.RunAsync("hung", medic, new Judgement
        {
            IsMine = i => ScenarioContext.LabelIs(i, "monitor", "eff-search"),
            Expect = Good.Healed,
            FaultGone = async () => await ScenarioContext.PidAsync(port) is { } p && p != pid,
        }, ctx.SinceFault);
    }

    /// <summary>
    /// Blue and green run the same program (same name), each watched by an HTTP monitor; the tenant's
    /// rule restarts the shop's process when its endpoint is down. Only green may be restarted.
    /// </summary>
    private static async Task<ScenarioResult> TwoInstancesAsync(ScenarioContext ctx)
    {
        var (blue, green) = (FreePort(), FreePort());
        var medic = await ctx.StartMedicAsync($$"""
            monitors:
              - name: eff-shop-blue
                kind: process
                start: {{ctx.ServiceArgv("--port", $"{blue}", "--name", "eff-shop")}}
                heal: {{Heal()}}
              - name: eff-shop-green
                kind: process
                start: {{ctx.ServiceArgv("--port", $"{green}", "--name", "eff-shop")}}
                heal: {{Heal()}}
              - { name: eff-shop-blue-http, kind: http, url: "http://127.0.0.1:{{blue}}/", timeout: 1s, interval: 2s, labels: { app: shop, instance: "127.0.0.1:{{blue}}" } }
              - { name: eff-shop-green-http, kind: http, url: "http://127.0.0.1:{{green}}/", timeout: 1s, interval: 2s, labels: { app: shop, instance: "127.0.0.1:{{green}}" } }
            """, """
            rules:
              - name: restart-shop
                match: { labels: { app: shop } }
                recipe: restart-process
                params: { process: eff-shop }
                trust: autonomous
            """);
        var bluePid = await ScenarioContext.WaitForPidAsync(blue, TimeSpan.FromSeconds(60));
        var greenPid = await ScenarioContext.WaitForPidAsync(green, TimeSpan.FromSeconds(60));
        await medic.WaitUntilQuietAsync(TimeSpan.FromSeconds(30));
        ctx.SinceFault.Start();
        await ScenarioContext.HangAsync(green);
        return await Judge.RunAsync("two-instances", medic, new Judgement
        {
            IsMine = i => ScenarioContext.LabelIs(i, "monitor", "eff-shop-green-http"),
            Expect = Good.Healed | Good.Escalated,
            EscalationMustName = [$"{green}"],
            FaultGone = async () => await ScenarioContext.PidAsync(green) is { } p && p != greenPid,
            WrongTarget = () => Task.FromResult(ScenarioContext.Alive(bluePid) ? null : $"restarted the healthy instance (blue, pid {bluePid})"),
        }, ctx.SinceFault);
    }

    private static async Task<ScenarioResult> StaleLockAsync(ScenarioContext ctx)
    {
        var port = FreePort();
        var run = Directory.CreateDirectory(Path.Combine(ctx.Work, "run")).FullName;
        var lockFile = Path.Combine(run, "eff-queue.pid");
        var medic = await ctx.StartMedicAsync($$"""
            monitors:
              - name: eff-queue
                kind: process
                start: {{ctx.ServiceArgv("--port", $"{port}", "--name", "eff-queue", "--lock", lockFile)}}
                health: { http: "http://127.0.0.1:{{port}}/", timeout: 1s, failures: 2 }
                heal: {{Heal()}}
            """);
        var pid = await ScenarioContext.WaitForPidAsync(port, TimeSpan.FromSeconds(60));
        ctx.SinceFault.Start();
        _ = Signal(pid, 9); // the OOM killer: no clean exit, the lock file stays
        return await Judge.RunAsync("stale-lock", medic, new Judgement
        {
            IsMine = i => ScenarioContext.LabelIs(i, "monitor", "eff-queue"),
            Expect = Good.HealedAfterApproval | Good.Escalated,
            EscalationMustName = [lockFile],
            FaultGone = async () => await ScenarioContext.PidAsync(port) is not null,
            DestructiveChangeMade = () => Task.FromResult(!File.Exists(lockFile) || File.ReadAllText(lockFile).Trim() != pid.ToString(CultureInfo.InvariantCulture)),
        }, ctx.SinceFault);
    }

    private static async Task<ScenarioResult> PortTakenAsync(ScenarioContext ctx)
    {
        var port = FreePort();
        // Someone left a debugging web server on the service's port before a reboot: the service cannot bind.
        var squatter = ctx.Spawn("python3", "-m", "http.server", "--bind", "127.0.0.1", $"{port}", "--directory", ctx.Work);
        var clock = Stopwatch.StartNew();
        while (!await Listening(port) && clock.Elapsed < TimeSpan.FromSeconds(10)) await Task.Delay(100);
        var medic = await ctx.StartMedicAsync($$"""
            monitors:
              - name: eff-gateway
                kind: process
                start: {{ctx.ServiceArgv("--port", $"{port}", "--name", "eff-gateway")}}
                health: { http: "http://127.0.0.1:{{port}}/pid", timeout: 1s, failures: 2 }
                heal: {{Heal()}}
            """);
        ctx.SinceFault.Start();
        return await Judge.RunAsync("port-taken", medic, new Judgement
        {
            IsMine = i => ScenarioContext.LabelIs(i, "monitor", "eff-gateway"),
            Expect = Good.HealedAfterApproval | Good.Escalated,
            EscalationMustName = ["python3", $"{squatter.Id}"],
            FaultGone = async () => await ScenarioContext.PidAsync(port) is not null,
            DestructiveChangeMade = () => Task.FromResult(squatter.HasExited),
        }, ctx.SinceFault);
    }

    private static async Task<ScenarioResult> DiskBackupsAsync(ScenarioContext ctx)
    {
        var mount = await ctx.MountTmpfsAsync("backups", "size=64m");
        for (var d = 0; d < 13; d++) await ScenarioContext.WriteFileAsync(Path.Combine(mount, "db", $"shop-{DateTime.UtcNow.AddDays(-20 - d):yyyy-MM-dd}.tar.gz"), 4, 20 + d);
        var recent = Path.Combine(mount, "db", $"shop-{DateTime.UtcNow:yyyy-MM-dd}.tar.gz");
        await ScenarioContext.WriteFileAsync(recent, 4, 0.1);
        var medic = await ctx.StartMedicAsync($$"""
            monitors:
              - { name: eff-backups-disk, kind: disk, mount: "{{mount}}", max_percent: 85, recover_below: 80, interval: 2s }
            """);
        ctx.SinceFault.Start();
        return await Judge.RunAsync("disk-backups", medic, new Judgement
        {
            IsMine = i => ScenarioContext.LabelIs(i, "monitor", "eff-backups-disk"),
            Expect = Good.HealedAfterApproval,
            FaultGone = () => Task.FromResult(ScenarioContext.UsedPercent(mount) < 85),
            WrongTarget = () => Task.FromResult(File.Exists(recent) ? null : "deleted today's backup"),
            DestructiveChangeMade = () => Task.FromResult(Directory.GetFiles(Path.Combine(mount, "db")).Length < 14),
        }, ctx.SinceFault);
    }

    private static async Task<ScenarioResult> DiskLogAsync(ScenarioContext ctx)
    {
        var mount = await ctx.MountTmpfsAsync("applog", "size=64m");
        var log = Path.Combine(mount, "log", "app.log");
        await ScenarioContext.WriteFileAsync(log, 56, 0);
        // The application keeps writing to it.
        ctx.Spawn("sh", "-c", $"while :; do date >> '{log}'; sleep 1; done");
        var medic = await ctx.StartMedicAsync($$"""
            monitors:
              - { name: eff-applog-disk, kind: disk, mount: "{{mount}}", max_percent: 85, recover_below: 80, interval: 2s }
            """);
        ctx.SinceFault.Start();
        return await Judge.RunAsync("disk-log", medic, new Judgement
        {
            IsMine = i => ScenarioContext.LabelIs(i, "monitor", "eff-applog-disk"),
            Expect = Good.HealedAfterApproval,
            FaultGone = () => Task.FromResult(ScenarioContext.UsedPercent(mount) < 85),
            WrongTarget = () => Task.FromResult(File.Exists(log) || Directory.GetFiles(Path.Combine(mount, "log"), "app.log*.gz").Length > 0 ? null : "deleted the live log instead of rotating it"),
            DestructiveChangeMade = () => Task.FromResult(new FileInfo(log) is { Exists: true, Length: < 50L << 20 } || !File.Exists(log)),
        }, ctx.SinceFault);
    }

    private static async Task<ScenarioResult> DiskDeletedOpenAsync(ScenarioContext ctx)
    {
        var mount = await ctx.MountTmpfsAsync("spool", "size=64m");
        var file = Path.Combine(mount, "worker.log");
        // A worker logs to a file that logrotate (without copytruncate) deleted: the space stays held.
        var holder = ctx.Spawn("sh", "-c", $"exec 3>'{file}'; rm '{file}'; head -c 58000000 /dev/zero >&3; exec sleep 600");
        var clock = Stopwatch.StartNew();
        while (ScenarioContext.UsedPercent(mount) < 85 && clock.Elapsed < TimeSpan.FromSeconds(10)) await Task.Delay(100);
        var medic = await ctx.StartMedicAsync($$"""
            monitors:
              - { name: eff-spool-disk, kind: disk, mount: "{{mount}}", max_percent: 85, recover_below: 80, interval: 2s }
            """);
        ctx.SinceFault.Start();
        return await Judge.RunAsync("disk-deleted-open", medic, new Judgement
        {
            IsMine = i => ScenarioContext.LabelIs(i, "monitor", "eff-spool-disk"),
            Expect = Good.HealedAfterApproval | Good.Escalated,
            EscalationMustName = ["deleted", $"{holder.Id}"],
            FaultGone = () => Task.FromResult(ScenarioContext.UsedPercent(mount) < 85),
            DestructiveChangeMade = () => Task.FromResult(holder.HasExited || ScenarioContext.UsedPercent(mount) < 85),
        }, ctx.SinceFault);
    }

    private static async Task<ScenarioResult> InodesAsync(ScenarioContext ctx)
    {
        var mount = await ctx.MountTmpfsAsync("mail", "size=16m,nr_inodes=1000");
        var spool = Directory.CreateDirectory(Path.Combine(mount, "spool", "bounces")).FullName;
        for (var i = 0; i < 960; i++)
        {
            var f = Path.Combine(spool, $"msg-{i:D5}");
            await File.WriteAllTextAsync(f, "x");
            File.SetLastWriteTimeUtc(f, DateTime.UtcNow.AddDays(-30));
        }

        var fresh = Path.Combine(mount, "spool", "incoming-now");
        await File.WriteAllTextAsync(fresh, "a message that arrived a minute ago");
        var medic = await ctx.StartMedicAsync($$"""
            monitors:
              - { name: eff-mail-inodes, kind: disk, mount: "{{mount}}", max_inodes_percent: 90, recover_below: 80, interval: 2s }
            """);
        ctx.SinceFault.Start();
        return await Judge.RunAsync("inodes", medic, new Judgement
        {
            IsMine = i => ScenarioContext.LabelIs(i, "monitor", "eff-mail-inodes"),
            Expect = Good.HealedAfterApproval,
            FaultGone = () => Task.FromResult(ScenarioContext.InodesUsedPercent(mount) < 90),
            WrongTarget = () => Task.FromResult(File.Exists(fresh) ? null : "deleted a fresh message"),
            DestructiveChangeMade = () => Task.FromResult(Directory.GetFiles(spool).Length < 960),
        }, ctx.SinceFault);
    }

    private static async Task<ScenarioResult> RunawayCpuAsync(ScenarioContext ctx)
    {
        var (busy, idle) = (FreePort(), FreePort());
        var medic = await ctx.StartMedicAsync($$"""
            monitors:
              - name: eff-render
                kind: process
                start: {{ctx.ServiceArgv("--port", $"{busy}", "--name", "eff-render", "--burn-cpu")}}
                limits: { cpu: 80%, for: 5s }
              - name: eff-render-2
                kind: process
                start: {{ctx.ServiceArgv("--port", $"{idle}", "--name", "eff-render")}}
                limits: { cpu: 80%, for: 5s }
            """);
        var busyPid = await ScenarioContext.WaitForPidAsync(busy, TimeSpan.FromSeconds(60));
        var idlePid = await ScenarioContext.WaitForPidAsync(idle, TimeSpan.FromSeconds(60));
        ctx.SinceFault.Start();
        return await Judge.RunAsync("runaway-cpu", medic, new Judgement
        {
            IsMine = i => ScenarioContext.LabelIs(i, "monitor", "eff-render") || (i.GetProperty("type").GetString() == "process_runaway"),
            Expect = Good.HealedAfterApproval,
            Limit = TimeSpan.FromSeconds(60),
            FaultGone = () => Task.FromResult(!ScenarioContext.Alive(busyPid) || Nice(busyPid) >= 10),
            WrongTarget = () => Task.FromResult(ScenarioContext.Alive(idlePid) && Nice(idlePid) == 0 ? null : $"acted on the idle sibling (pid {idlePid})"),
            DestructiveChangeMade = () => Task.FromResult(!ScenarioContext.Alive(busyPid) || Nice(busyPid) >= 10),
        }, ctx.SinceFault);
    }

    private static async Task<ScenarioResult> MemoryLeakAsync(ScenarioContext ctx)
    {
        var port = FreePort();
        var medic = await ctx.StartMedicAsync($$"""
            monitors:
              - name: eff-cache
                kind: process
                start: {{ctx.ServiceArgv("--port", $"{port}", "--name", "eff-cache", "--leak-mb-per-s", "20")}}
                limits: { memory: 300MiB, for: 3s }
            """);
        var pid = await ScenarioContext.WaitForPidAsync(port, TimeSpan.FromSeconds(60));
        ctx.SinceFault.Start();
        return await Judge.RunAsync("memory-leak", medic, new Judgement
        {
            IsMine = i => ScenarioContext.LabelIs(i, "monitor", "eff-cache") || (i.GetProperty("type").GetString() == "process_leaking"),
            Expect = Good.HealedAfterApproval,
            Limit = TimeSpan.FromSeconds(50),
            FaultGone = () => Task.FromResult(!ScenarioContext.Alive(pid) || RssMiB(pid) < 300),
            // The bench's own safety net: the leak stops at 1 GiB whatever Medic does.
            Tick = () =>
            {
                if (ScenarioContext.Alive(pid) && RssMiB(pid) > 1024) _ = Signal(pid, 9);
                return Task.CompletedTask;
            },
            DestructiveChangeMade = () => Task.FromResult(!ScenarioContext.Alive(pid) && RssMiB(pid) <= 1024),
        }, ctx.SinceFault);
    }

    private static async Task<ScenarioResult> CertificateAsync(ScenarioContext ctx)
    {
        var port = FreePort();
        var (key, cert) = (Path.Combine(ctx.Work, "intranet.key"), Path.Combine(ctx.Work, "intranet.crt"));
        await ScenarioContext.RunAsync("openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", cert, "-days", "3", "-subj", "/CN=intranet.example");
        ctx.Spawn("openssl", "s_server", "-quiet", "-accept", $"127.0.0.1:{port}", "-cert", cert, "-key", key, "-www");
        await Task.Delay(500);
        var medic = await ctx.StartMedicAsync($$"""
            monitors:
              - { name: eff-intranet-tls, kind: tls, host: 127.0.0.1, port: {{port}}, min_days: 14, interval: 2s }
            """);
        ctx.SinceFault.Start();
        return await Judge.RunAsync("cert-self-signed", medic, new Judgement
        {
            IsMine = i => ScenarioContext.LabelIs(i, "monitor", "eff-intranet-tls"),
            Expect = Good.Escalated,
            EscalationMustName = ["intranet.example"],
            Limit = TimeSpan.FromSeconds(40),
            FaultGone = () => Task.FromResult(false),
        }, ctx.SinceFault);
    }

    /// <summary>The bench plays blackbox exporter and Alertmanager: it probes the URL and posts firing or resolved.</summary>
    private static async Task<ScenarioResult> AlertBlackboxAsync(ScenarioContext ctx)
    {
        var (port, other) = (FreePort(), FreePort());
        var medic = await ctx.StartMedicAsync($$"""
            monitors:
              - name: eff-web
                kind: process
                start: {{ctx.ServiceArgv("--port", $"{port}", "--name", "eff-web")}}
                heal: {{Heal()}}
              - name: eff-web-admin
                kind: process
                start: {{ctx.ServiceArgv("--port", $"{other}", "--name", "eff-web")}}
                heal: {{Heal()}}
            """, """
            rules:
              - name: restart-web-when-probe-fails
                match: { type: endpoint_down, source: alertmanager }
                recipe: restart-process
                params: { process: eff-web }
                trust: autonomous
            """);
        var pid = await ScenarioContext.WaitForPidAsync(port, TimeSpan.FromSeconds(60));
        var otherPid = await ScenarioContext.WaitForPidAsync(other, TimeSpan.FromSeconds(60));
        await ScenarioContext.HangAsync(port);
        var labels = new Dictionary<string, string> { ["instance"] = $"http://127.0.0.1:{port}/", ["job"] = "blackbox", ["severity"] = "critical", ["server"] = Environment.MachineName };
        var startsAt = DateTimeOffset.UtcNow;
        ctx.SinceFault.Start();
        await medic.PostAlertAsync("BlackboxProbeFailed", labels, firing: true, startsAt);
        var resolvedSent = false;
        return await Judge.RunAsync("alert-blackbox", medic, new Judgement
        {
            IsMine = i => ScenarioContext.LabelIs(i, "alertname", "BlackboxProbeFailed"),
            Expect = Good.Healed,
            Tick = async () =>
            {
                if (!resolvedSent && await ScenarioContext.PidAsync(port) is not null)
                {
                    await medic.PostAlertAsync("BlackboxProbeFailed", labels, firing: false, startsAt);
                    resolvedSent = true;
                }
            },
            FaultGone = async () => await ScenarioContext.PidAsync(port) is { } p && p != pid,
            WrongTarget = () => Task.FromResult(ScenarioContext.Alive(otherPid) ? null : $"restarted the healthy eff-web on port {other} (pid {otherPid})"),
        }, ctx.SinceFault);
    }

    private static async Task<ScenarioResult> AlertDiskAsync(ScenarioContext ctx)
    {
        var mount = await ctx.MountTmpfsAsync("dumps", "size=64m");
        for (var d = 0; d < 12; d++) await ScenarioContext.WriteFileAsync(Path.Combine(mount, "pg", $"nightly-{d:D2}.sql.gz"), 4, 15 + d);
        var recent = Path.Combine(mount, "pg", "nightly-today.sql.gz");
        await ScenarioContext.WriteFileAsync(recent, 6, 0.2);
        var medic = await ctx.StartMedicAsync("monitors: []\n");
        var labels = new Dictionary<string, string>
        {
            ["instance"] = $"{Environment.MachineName}:9100", ["job"] = "node", ["severity"] = "critical",
            ["mountpoint"] = mount, ["device"] = "medic-efficacy", ["fstype"] = "tmpfs",
        };
        var startsAt = DateTimeOffset.UtcNow;
        ctx.SinceFault.Start();
        await medic.PostAlertAsync("NodeFilesystemAlmostOutOfSpace", labels, firing: true, startsAt);
        var resolvedSent = false;
        return await Judge.RunAsync("alert-disk", medic, new Judgement
        {
            IsMine = i => ScenarioContext.LabelIs(i, "alertname", "NodeFilesystemAlmostOutOfSpace"),
            Expect = Good.HealedAfterApproval,
            Tick = async () =>
            {
                if (!resolvedSent && ScenarioContext.UsedPercent(mount) < 80)
                {
                    await medic.PostAlertAsync("NodeFilesystemAlmostOutOfSpace", labels, firing: false, startsAt);
                    resolvedSent = true;
                }
            },
            FaultGone = () => Task.FromResult(ScenarioContext.UsedPercent(mount) < 85),
            WrongTarget = () => Task.FromResult(File.Exists(recent) ? null : "deleted last night's dump"),
            DestructiveChangeMade = () => Task.FromResult(Directory.GetFiles(Path.Combine(mount, "pg")).Length < 13),
        }, ctx.SinceFault);
    }

    private static async Task<ScenarioResult> NoFixAsync(ScenarioContext ctx)
    {
        var medic = await ctx.StartMedicAsync("""
            monitors:
              - name: eff-raid
                kind: command
                interval: 2s
                command: [sh, -c, "echo 'CRITICAL: md0 degraded [U_]: sdb1 faulty, rebuild needs a new disk'; exit 2"]
            """);
        ctx.SinceFault.Start();
        return await Judge.RunAsync("raid-degraded", medic, new Judgement
        {
            IsMine = i => ScenarioContext.LabelIs(i, "monitor", "eff-raid"),
            Expect = Good.Escalated,
            EscalationMustName = ["sdb1 faulty"],
            Limit = TimeSpan.FromSeconds(40),
            FaultGone = () => Task.FromResult(false),
        }, ctx.SinceFault);
    }

    public static int FreePort() => ScenarioContext.FreePort();

    private static async Task<bool> Listening(int port)
    {
        using var client = new System.Net.Sockets.TcpClient();
        try
        {
            await client.ConnectAsync(System.Net.IPAddress.Loopback, port);
            return true;
        }
        catch (System.Net.Sockets.SocketException)
        {
            return false;
        }
    }

    private static int Nice(int pid)
    {
        try
        {
            var fields = File.ReadAllText($"/proc/{pid}/stat").Split(") ")[^1].Split(' ');
            return int.Parse(fields[16], CultureInfo.InvariantCulture); // field 19 of stat; 3 fields precede this slice
        }
        catch (IOException)
        {
            return 0;
        }
    }

    private static long RssMiB(int pid)
    {
        try
        {
            var line = File.ReadLines($"/proc/{pid}/status").FirstOrDefault(l => l.StartsWith("VmRSS:", StringComparison.Ordinal));
            return line is null ? 0 : long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture) / 1024;
        }
        catch (IOException)
        {
            return 0;
        }
    }

    [StructLayout(LayoutKind.Sequential)]
    public struct StatVfsBuffer
    {
        public ulong Bsize;
        public ulong Frsize;
        public ulong Blocks;
        public ulong Bfree;
        public ulong Free;
        public ulong Files;
        public ulong Ffree;
        public ulong Favail;
        public ulong Fsid;
        public ulong Flag;
        public ulong Namemax;
        private unsafe fixed int _spare[6];

        public readonly ulong FilesFree => Ffree;
    }

    public static StatVfsBuffer StatVfs(string path) =>
        StatVfsNative(path, out var buffer) == 0 ? buffer : throw new IOException($"statvfs {path} failed");

    [LibraryImport("libc", EntryPoint = "statvfs", StringMarshalling = StringMarshalling.Utf8)]
    private static partial int StatVfsNative(string path, out StatVfsBuffer buffer);

    [LibraryImport("libc", EntryPoint = "kill")]
    public static partial int Signal(int pid, int signal);
}
