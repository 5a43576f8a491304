using System.Diagnostics;
using System.Globalization;
using System.Text;
using Medic.Bench.Fanout;
using Medic.Contracts;
using Medic.Server.Tests.Infrastructure;

namespace Medic.Bench.Agentless;

/// <summary>
/// <c>agentless [--targets N] [--reps R]</c>: <c>true</c> on N loopback sshd targets (one sshd
/// process each), side by side: Medic's agentless path through the API of a running control plane
/// (POST /api/v1/exec to the execution completed), cold (a new ssh connection per server) and warm
/// (the master connection reused); <c>ansible all -m command -a true -f N</c> against the same
/// targets, cold and warm (its ControlPersist); and Medic's agent path with N simulated agents
/// (the fanout bench). Prints each approach's median wall-clock and the ratios.
/// </summary>
internal static class AgentlessBench
{
    private const int ExecTimeoutSeconds = 60;

    public static async Task<int> RunAsync(string[] args)
    {
        try
        {
            var (targets, reps, medic) = Parse(args);
            await RunAsync(targets, reps, FanoutBench.LocateMedic(medic));
            return 0;
        }
        catch (BenchFailure f)
        {
            Console.Error.WriteLine("agentless: " + f.Message);
            Console.Error.WriteLine("  remedy: " + f.Remedy);
            return 1;
        }
    }

    private static (int Targets, int Reps, string? Medic) Parse(string[] args)
    {
        var targets = 20;
        var reps = 5;
        string? medic = null;
        var a = new BenchArgs(args, "see: Medic.Bench agentless [--targets N] [--reps R] [--medic PATH]");
        while (a.Next(out var option))
        {
            switch (option)
            {
                case "--targets": targets = a.Number(1, 200); break;
                case "--reps": reps = a.Number(1, 100); break;
                case "--medic": medic = a.Value(); break;
                default: throw a.Unknown(option);
            }
        }

        return (targets, reps, medic);
    }

    private static async Task RunAsync(int targets, int reps, string medicDll)
    {
        if (!File.Exists(Sshd.SshdPath)) throw new BenchFailure("sshd is not installed", "apt-get install openssh-server (bench/agentless.sh does)");
        var ansible = Which("ansible") ?? throw new BenchFailure("ansible is not installed", "apt-get install ansible (bench/agentless.sh does)");
        Console.WriteLine($"agentless: `true` on {targets} sshd targets on 127.0.0.1 (one sshd process each), {reps} repetitions per approach; medians");
#if DEBUG
        Console.WriteLine("  warning: this bench is a Debug build; run it with -c Release for figures worth keeping");
#endif
        Console.WriteLine($"machine: {ProcStats.MachineLoad()}; {Environment.ProcessorCount} cores; {Version("ssh", "-V")}; {Version(ansible, "--version").Split('\n')[0]}");

        var fleet = new List<Sshd>();
        var work = Directory.CreateTempSubdirectory("medic-agentless-bench-").FullName;
        try
        {
            var clock = Stopwatch.StartNew();
            fleet.AddRange(await Task.WhenAll(Enumerable.Range(0, targets).Select(_ => Sshd.StartAsync())));
            Console.WriteLine($"started {targets} sshd in {clock.Elapsed.TotalSeconds:F1} s on ports {string.Join(",", fleet.Select(s => s.Port))}");

            var medicCold = new List<double>();
            var medicWarm = new List<double>();
            await using (var plane = await ControlPlaneProcess.StartAsync(medicDll, null, false, CancellationToken.None))
            {
                using var api = new ControlPlaneApi(plane.Url);
                await api.LogInAsync(plane.AdminPassword, CancellationToken.None);
                var keys = Path.Combine(plane.DataDir, "ssh", "keys", "default");
                Directory.CreateDirectory(keys);
                for (var i = 0; i < targets; i++)
                {
                    File.Copy(fleet[i].UserKey, Path.Combine(keys, $"t{i}"));
                    File.SetUnixFileMode(Path.Combine(keys, $"t{i}"), UnixFileMode.UserRead | UnixFileMode.UserWrite);
                }

                // One unmeasured round first: the control plane's JIT and SQLite warm up, as the agent bench's first round does.
                for (var rep = 0; rep <= reps; rep++)
                {
                    var set = $"r{rep}";
                    var added = new List<ServerResponse>();
                    for (var i = 0; i < targets; i++)
                    {
                        added.Add(await api.AddServerAsync(new CreateServerRequest($"{set}-t{i}", fleet[i].Address, Sshd.User, $"t{i}",
                            new Dictionary<string, string> { ["set"] = set }, fleet[i].HostKey), CancellationToken.None));
                    }

                    var cold = await MedicExecAsync(api, set, targets);
                    var warm = await MedicExecAsync(api, set, targets);
                    Console.WriteLine($"medic agentless {(rep == 0 ? "warm-up" : $"rep {rep}")}: cold {cold:F0} ms, warm {warm:F0} ms");
                    if (rep > 0)
                    {
                        medicCold.Add(cold);
                        medicWarm.Add(warm);
                    }

                    foreach (var server in added) await api.RemoveServerAsync(server.Id, CancellationToken.None);
                }
            }

            // An empty config, so no ansible.cfg of the machine or the user changes the run.
            File.WriteAllText(Path.Combine(work, "ansible.cfg"), "");
            var inventory = Path.Combine(work, "inventory.ini");
            var knownHosts = Path.Combine(work, "known_hosts");
            File.WriteAllLines(knownHosts, fleet.Select(s => $"[127.0.0.1]:{s.Port} {s.HostKey}"));
            var lines = new StringBuilder("[targets]\n");
            for (var i = 0; i < targets; i++)
            {
                lines.Append(CultureInfo.InvariantCulture, $"t{i} ansible_host=127.0.0.1 ansible_port={fleet[i].Port} ansible_user={Sshd.User} ansible_ssh_private_key_file={fleet[i].UserKey}\n");
            }

            lines.Append(CultureInfo.InvariantCulture, $"[targets:vars]\nansible_ssh_common_args='-o UserKnownHostsFile={knownHosts} -o StrictHostKeyChecking=yes'\nansible_python_interpreter=/usr/bin/python3\n");
            File.WriteAllText(inventory, lines.ToString());
            var ansibleCold = new List<double>();
            var ansibleWarm = new List<double>();
            for (var rep = 0; rep <= reps; rep++)
            {
                var controlDir = Directory.CreateTempSubdirectory("medic-ab-cp-").FullName;
                try
                {
                    var cold = await AnsibleAsync(ansible, inventory, controlDir, work, targets);
                    var warm = await AnsibleAsync(ansible, inventory, controlDir, work, targets);
                    Console.WriteLine($"ansible {(rep == 0 ? "warm-up" : $"rep {rep}")}: cold {cold:F0} ms, warm {warm:F0} ms");
                    if (rep > 0)
                    {
                        ansibleCold.Add(cold);
                        ansibleWarm.Add(warm);
                    }
                }
                finally
                {
                    await CloseMastersAsync(controlDir);
                    Directory.Delete(controlDir, recursive: true);
                }
            }

            Console.WriteLine();
            Console.WriteLine($"medic agent path: fanout bench with {targets} simulated agents (real control plane, real WebSockets), {reps + 1} rounds, the first not counted");
            var rounds = await FanoutBench.RunAsync(new FanoutOptions(targets, reps + 1, 0, null, medicDll, false), CancellationToken.None);
            var agent = rounds.Skip(1).Select(r => r.CompleteMs).ToList();

            Summarize(targets, reps, agent, medicWarm, medicCold, ansibleWarm, ansibleCold);
        }
        finally
        {
            foreach (var sshd in fleet) await sshd.DisposeAsync();
            Directory.Delete(work, recursive: true);
        }
    }

    /// <summary>POST /api/v1/exec on one set of servers to the execution completed, polled every 10 ms; fails unless every server completed with 0.</summary>
    private static async Task<double> MedicExecAsync(ControlPlaneApi api, string set, int targets)
    {
        var clock = Stopwatch.StartNew();
        var started = await api.StartExecAsync(new ExecRequest("true", new ExecSelector(Tags: new Dictionary<string, string> { ["set"] = set }), new ExecStrategy("parallel", targets),
            ExecTimeoutSeconds), CancellationToken.None);
        while (true)
        {
            var execution = await api.GetExecutionAsync(started.Id, CancellationToken.None);
            if (execution.Status != "running")
            {
                var elapsed = clock.Elapsed.TotalMilliseconds;
                var bad = execution.Results.Where(r => r.Status != TaskRunStatus.Completed || r.ExitCode != 0).ToList();
                if (execution.Results.Count != targets || bad.Count > 0)
                {
                    throw new BenchFailure($"medic exec on {set}: {execution.Results.Count} results, {bad.Count} not ok; first: {bad.FirstOrDefault()?.Reason}", "see the reason; the targets must accept the bench's key");
                }

                return elapsed;
            }

            if (clock.Elapsed > TimeSpan.FromSeconds(ExecTimeoutSeconds + 30)) throw new BenchFailure($"medic exec on {set} did not finish", "check the control plane");
            await Task.Delay(10);
        }
    }

    private static async Task<double> AnsibleAsync(string ansible, string inventory, string controlDir, string work, int targets)
    {
        var start = new ProcessStartInfo(ansible)
        {
            ArgumentList = { "all", "-i", inventory, "-m", "command", "-a", "true", "-f", targets.ToString(CultureInfo.InvariantCulture), "-o" },
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = work,
        };
        start.Environment["ANSIBLE_SSH_CONTROL_PATH_DIR"] = controlDir;
        start.Environment["ANSIBLE_LOCAL_TEMP"] = Path.Combine(work, "ansible-local");
        start.Environment["ANSIBLE_NOCOLOR"] = "1";
        start.Environment["ANSIBLE_CONFIG"] = Path.Combine(work, "ansible.cfg");
        var clock = Stopwatch.StartNew();
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync().WaitAsync(TimeSpan.FromMinutes(5));
        var elapsed = clock.Elapsed.TotalMilliseconds;
        var output = await stdout;
        var ok = output.Split('\n').Count(l => l.Contains("| CHANGED |", StringComparison.Ordinal) || l.Contains("| SUCCESS |", StringComparison.Ordinal));
        if (process.ExitCode != 0 || ok != targets)
        {
            throw new BenchFailure($"ansible exited {process.ExitCode} with {ok} of {targets} hosts ok:\n{output}{await stderr}", "see ansible's output");
        }

        return elapsed;
    }

    private static async Task CloseMastersAsync(string controlDir)
    {
        foreach (var socket in Directory.EnumerateFiles(controlDir))
        {
            using var exit = Process.Start(new ProcessStartInfo("ssh") { ArgumentList = { "-F", "none", "-o", "ControlPath=" + socket, "-O", "exit", "x" }, RedirectStandardError = true })!;
            await exit.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(10));
        }
    }

    private static void Summarize(int targets, int reps, List<double> agent, List<double> medicWarm, List<double> medicCold, List<double> ansibleWarm, List<double> ansibleCold)
    {
        static double Median(List<double> v) => new Percentiles(v).P50;
        var rows = new (string Name, List<double> Values)[]
        {
            ("medic, agent path (simulated agents, WebSocket)", agent),
            ("medic agentless, warm (ssh master reused)", medicWarm),
            ("medic agentless, cold (new ssh connection each)", medicCold),
            ($"ansible -m command -a true -f {targets}, warm (ControlPersist)", ansibleWarm),
            ($"ansible -m command -a true -f {targets}, cold", ansibleCold),
        };
        Console.WriteLine();
        Console.WriteLine($"summary: `true` on {targets} targets, wall-clock per run, {reps} repetitions (median / min / max ms)");
        Console.WriteLine("| approach | median (ms) | min | max | × medic agent |");
        Console.WriteLine("| --- | --- | --- | --- | --- |");
        foreach (var (name, values) in rows)
        {
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"| {name} | {Median(values):F0} | {values.Min():F0} | {values.Max():F0} | {Median(values) / Median(agent):F1} |"));
        }

        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"ratios: ansible / medic agentless: cold {Median(ansibleCold) / Median(medicCold):F1}x, warm {Median(ansibleWarm) / Median(medicWarm):F1}x; medic agentless cold / warm {Median(medicCold) / Median(medicWarm):F1}x"));
        Console.WriteLine($"machine now: {ProcStats.MachineLoad()}");
    }

    private static string? Which(string program) =>
        (Environment.GetEnvironmentVariable("PATH") ?? "/usr/bin:/bin").Split(':').Select(d => Path.Combine(d, program)).FirstOrDefault(File.Exists);

    private static string Version(string program, string flag)
    {
        using var process = Process.Start(new ProcessStartInfo(program) { ArgumentList = { flag }, RedirectStandardOutput = true, RedirectStandardError = true })!;
        var text = process.StandardOutput.ReadToEnd() + process.StandardError.ReadToEnd();
        process.WaitForExit();
        return text.Trim();
    }
}
