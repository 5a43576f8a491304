using System.Diagnostics;
using System.Net;
using System.Text.Json.Nodes;
using Medic.Contracts;
using Medic.Server.Fleet;
using Medic.Server.Tests.Infrastructure;

namespace Medic.Server.Tests.Fleet;

/// <summary>
/// Agentless servers: registered with an address, a user and a key file, reached through the
/// system ssh client against a real sshd on loopback. Execution tests run on SQLite (the storage
/// is the same as for agents); registration runs on both dialects.
/// </summary>
public sealed class AgentlessServerTests
{
    /// <summary>Puts a private key where the control plane looks for the tenant's keys, 0600.</summary>
    internal static void InstallKey(MedicServer server, string name, string source, string tenantSlug = "default")
    {
        var dir = Path.Combine(server.DataDir, "ssh", "keys", tenantSlug);
        Directory.CreateDirectory(dir);
        var path = Path.Combine(dir, name);
        File.Copy(source, path, overwrite: true);
        File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite);
    }

    internal static string AddBody(string name, string address, string key, string? hostKey = null, bool acceptNew = false, IReadOnlyDictionary<string, string>? tags = null) =>
        System.Text.Json.JsonSerializer.Serialize(new CreateServerRequest(name, address, Sshd.User, key, tags, hostKey, acceptNew), MedicJson.Default.CreateServerRequest);

    internal static async Task<ServerResponse> AddAsync(HttpClient client, string name, string address, string key, string? hostKey = null, bool acceptNew = false,
        IReadOnlyDictionary<string, string>? tags = null)
    {
        using var response = await client.PostAsync("/api/v1/servers", Json.Raw(AddBody(name, address, key, hostKey, acceptNew, tags)));
        return await response.ReadAsync(MedicJson.Default.ServerResponse, HttpStatusCode.Created);
    }

    /// <summary>Runs a command on the named servers through POST /api/v1/exec and returns the finished execution.</summary>
    internal static async Task<ExecutionResponse> ExecAsync(HttpClient client, string command, IReadOnlyList<string> servers, int timeoutSeconds = 30)
    {
        using var start = await client.PostAsync("/api/v1/exec", Json.Body(new ExecRequest(command, new ExecSelector(Names: servers), null, timeoutSeconds), MedicJson.Default.ExecRequest));
        var execution = await start.ReadAsync(MedicJson.Default.ExecutionResponse, HttpStatusCode.Accepted);
        var watch = Stopwatch.StartNew();
        while (true)
        {
            using var poll = await client.GetAsync($"/api/v1/executions/{execution.Id}");
            var current = await poll.ReadAsync(MedicJson.Default.ExecutionResponse);
            if (current.Status != "running") return current;
            watch.Elapsed.ShouldBeLessThan(TimeSpan.FromSeconds(timeoutSeconds + 30), $"execution {execution.Id} is still running");
            await Task.Delay(50);
        }
    }

    private static async Task<TaskRunResponse> ExecOneAsync(HttpClient client, string command, string server, int timeoutSeconds = 30) =>
        (await ExecAsync(client, command, [server], timeoutSeconds)).Results.ShouldHaveSingleItem();

    private static async Task<ServerResponse> ShowAsync(HttpClient client, string server)
    {
        using var response = await client.GetAsync($"/api/v1/servers/{server}");
        return await response.ReadAsync(MedicJson.Default.ServerResponse);
    }

    [Theory]
    [MemberData(nameof(Dialects.Both), MemberType = typeof(Dialects))]
    public async Task An_agentless_server_is_listed_with_its_kind_and_ssh_settings_and_can_be_tagged_drained_and_removed(string dialect)
    {
        await using var server = await MedicServer.StartAsync(dialect);
        using var keys = new TempDirectory();
        await Sshd.NewKeyPairAsync(Path.Combine(keys.Path, "deploy"));
        InstallKey(server, "deploy", Path.Combine(keys.Path, "deploy"));
        var hostKey = "ssh-ed25519 " + File.ReadAllText(Path.Combine(keys.Path, "deploy.pub")).Split(' ')[1];

        var added = await AddAsync(server.Admin, "legacy-db", "db.internal:2222", "deploy", hostKey: $"[db.internal]:2222 {hostKey} comment", tags: new Dictionary<string, string> { ["env"] = "prod" });

        added.Kind.ShouldBe("agentless");
        added.Status.ToText().ShouldBe("offline");
        added.Ssh.ShouldBe(new SshTargetResponse("db.internal:2222", Sshd.User, "deploy", hostKey, false));
        added.Environment.ShouldBe("prod");
        using (var list = await server.Admin.GetAsync("/api/v1/servers?tag=env=prod"))
        {
            var listed = (await list.ReadAsync(MedicJson.Default.IReadOnlyListServerResponse)).ShouldHaveSingleItem();
            listed.Name.ShouldBe("legacy-db");
            listed.Kind.ShouldBe("agentless");
        }

        using (var tag = await server.Admin.PutAsync("/api/v1/servers/legacy-db/tags", Json.Raw("""{"tags":{"role":"db"}}""")))
        {
            (await tag.ReadAsync(MedicJson.Default.ServerResponse)).Tags["role"].ShouldBe("db");
        }

        using (var drain = await server.Admin.PostAsync("/api/v1/servers/legacy-db/drain", null))
        {
            (await drain.ReadAsync(MedicJson.Default.ServerResponse)).Drained.ShouldBeTrue();
        }

        var refused = await ExecOneAsync(server.Admin, "true", "legacy-db");
        refused.Status.ShouldBe(TaskRunStatus.Refused);
        refused.Reason.ShouldNotBeNull().ShouldContain("drained");

        using (var duplicate = await server.Admin.PostAsync("/api/v1/servers", Json.Raw(AddBody("legacy-db", "db2.internal", "deploy", acceptNew: true))))
        {
            (await duplicate.ShouldBeProblemAsync(HttpStatusCode.Conflict)).Detail().ShouldContain("legacy-db");
        }

        using (var remove = await server.Admin.DeleteAsync("/api/v1/servers/legacy-db"))
        {
            remove.StatusCode.ShouldBe(HttpStatusCode.OK);
        }

        using (var gone = await server.Admin.GetAsync("/api/v1/servers/legacy-db"))
        {
            gone.StatusCode.ShouldBe(HttpStatusCode.NotFound);
        }

        (await server.Database.ScalarAsync<long>("SELECT COUNT(*) FROM nodes WHERE kind = 'agentless' AND ssh_key = 'deploy' AND removed_at IS NOT NULL")).ShouldBe(1);
        using var audit = await server.Admin.GetAsync("/api/v1/audit?action=server.add");
        var entry = (await audit.ReadAsync(MedicJson.Default.AuditPage)).Items.ShouldHaveSingleItem();
        entry.Details["host_key"].ShouldBe(SshTarget.Fingerprint(hostKey));
        entry.Details.Values.ShouldNotContain(v => v.Contains("PRIVATE KEY", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Registration_refuses_bad_input_with_what_to_fix()
    {
        await using var server = await MedicServer.StartAsync(TestDatabase.Sqlite);
        using var keys = new TempDirectory();
        await Sshd.NewKeyPairAsync(Path.Combine(keys.Path, "good"));
        await Sshd.NewKeyPairAsync(Path.Combine(keys.Path, "locked"), passphrase: "secret-passphrase");
        InstallKey(server, "good", Path.Combine(keys.Path, "good"));
        InstallKey(server, "locked", Path.Combine(keys.Path, "locked"));
        InstallKey(server, "open", Path.Combine(keys.Path, "good"));
        File.SetUnixFileMode(Path.Combine(server.DataDir, "ssh", "keys", "default", "open"), UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.OtherRead);

        var cases = new (string Body, HttpStatusCode Status, string Mentions)[]
        {
            (AddBody("a", "-oProxyCommand=evil", "good", acceptNew: true), HttpStatusCode.BadRequest, "address"),
            (AddBody("a", "host:99999", "good", acceptNew: true), HttpStatusCode.BadRequest, "port"),
            (AddBody("a", "[::1", "good", acceptNew: true), HttpStatusCode.BadRequest, "address"),
            (AddBody("a", "host", "../../../etc/shadow", acceptNew: true), HttpStatusCode.BadRequest, "key"),
            (AddBody("a", "host", "good"), HttpStatusCode.BadRequest, "host_key"),
            (AddBody("a", "host", "good", hostKey: "ssh-ed25519 AAAA", acceptNew: true), HttpStatusCode.BadRequest, "either"),
            (AddBody("a", "host", "good", hostKey: "ssh-ed25519 not-base64!"), HttpStatusCode.BadRequest, "base64"),
            (AddBody("a", "host", "good", hostKey: "ssh-rsa AAAAC3NzaC1lZDI1NTE5AAAAIC43EsFoVk7JyxDA8oWyq2GGZTzkb+XxaUU3f3TABSZy"), HttpStatusCode.BadRequest, "not a ssh-rsa key"),
            (AddBody("a", "host", "missing", acceptNew: true), HttpStatusCode.UnprocessableEntity, "no key file"),
            (AddBody("a", "host", "open", acceptNew: true), HttpStatusCode.UnprocessableEntity, "other users"),
            (AddBody("a", "host", "locked", acceptNew: true), HttpStatusCode.UnprocessableEntity, "passphrase"),
            ("""{"name":"a","address":"host","user":"-l","key":"good","accept_new_host_key":true}""", HttpStatusCode.BadRequest, "user"),
            ("""{"name":"a","address":"host","key":"good"}""", HttpStatusCode.BadRequest, "user"),
        };
        foreach (var (body, status, mentions) in cases)
        {
            using var response = await server.Admin.PostAsync("/api/v1/servers", Json.Raw(body));
            var problem = await response.ShouldBeProblemAsync(status);
            problem.ToJsonString().ShouldContain(mentions, Case.Insensitive, body);
        }

        var operatorClient = await server.ClientForNewUserAsync(server.Admin, "olga", Role.Operator);
        using (var forbidden = await operatorClient.PostAsync("/api/v1/servers", Json.Raw(AddBody("a", "host", "good", acceptNew: true))))
        {
            await forbidden.ShouldBeProblemAsync(HttpStatusCode.Forbidden);
        }

        (await server.Database.ScalarAsync<long>("SELECT COUNT(*) FROM nodes")).ShouldBe(0);
    }

    [Fact]
    public async Task A_tenant_can_use_only_the_keys_in_its_own_key_folder_and_select_only_its_own_servers()
    {
        await using var sshd = await Sshd.StartAsync();
        await using var server = await MedicServer.StartAsync(TestDatabase.Sqlite);
        InstallKey(server, "deploy", sshd.UserKey);
        await AddAsync(server.Admin, "default-legacy", sshd.Address, "deploy", hostKey: sshd.HostKey);
        using (var create = await server.Admin.PostAsync("/api/v1/tenants", Json.Raw("""{"slug":"other","admin_username":"other-admin","admin_password":"other-admin-password"}""")))
        {
            create.StatusCode.ShouldBe(HttpStatusCode.Created);
        }

        var other = server.Client(await server.LogInAsync("other-admin", "other-admin-password", "other"));

        using (var borrowed = await other.PostAsync("/api/v1/servers", Json.Raw(AddBody("borrowed", sshd.Address, "deploy", hostKey: sshd.HostKey))))
        {
            (await borrowed.ShouldBeProblemAsync(HttpStatusCode.UnprocessableEntity)).Detail().ShouldContain(Path.Combine("keys", "other"));
        }

        using (var exec = await other.PostAsync("/api/v1/exec", Json.Body(new ExecRequest("id", new ExecSelector(Names: ["default-legacy"])), MedicJson.Default.ExecRequest)))
        {
            await exec.ShouldBeProblemAsync(HttpStatusCode.UnprocessableEntity);
        }

        sshd.AcceptedLogins.ShouldBe(0);
    }

    [Fact]
    public async Task Exec_runs_over_ssh_with_its_output_and_exit_code_and_marks_the_server_online()
    {
        await using var sshd = await Sshd.StartAsync();
        await using var server = await MedicServer.StartAsync(TestDatabase.Sqlite);
        InstallKey(server, "deploy", sshd.UserKey);
        await AddAsync(server.Admin, "legacy", sshd.Address, "deploy", hostKey: sshd.HostKey);

        var ok = await ExecOneAsync(server.Admin, "echo \"hello $(whoami)\"; echo 'it''s' >&2", "legacy");
        ok.Status.ShouldBe(TaskRunStatus.Completed, ok.Reason);
        ok.ExitCode.ShouldBe(0);
        ok.Stdout.ShouldBe($"hello {Sshd.User}\n");
        ok.Stderr.ShouldBe("its\n");
        ok.Truncated.ShouldBeFalse();

        var failed = await ExecOneAsync(server.Admin, "echo partial; exit 3", "legacy");
        failed.Status.ShouldBe(TaskRunStatus.Completed);
        failed.ExitCode.ShouldBe(3);
        failed.Stdout.ShouldBe("partial\n");

        // 255 is also ssh's own failure code; a command that exits 255 by itself is still its result.
        var exit255 = await ExecOneAsync(server.Admin, "exit 255", "legacy");
        (exit255.Status, exit255.ExitCode).ShouldBe((TaskRunStatus.Completed, 255));

        var shown = await ShowAsync(server.Admin, "legacy");
        shown.Status.ToText().ShouldBe("online");
        shown.LastSeenAt.ShouldNotBeNull();

        using var diag = await server.Admin.PostAsync("/api/v1/servers/legacy/diag", Json.Raw("""{"verb":"disk"}"""));
        (await diag.ShouldBeProblemAsync(HttpStatusCode.UnprocessableEntity)).Detail().ShouldContain("agentless");
    }

    [Fact]
    public async Task A_command_past_its_timeout_is_stopped_here_and_on_the_server()
    {
        await using var sshd = await Sshd.StartAsync();
        await using var server = await MedicServer.StartAsync(TestDatabase.Sqlite);
        InstallKey(server, "deploy", sshd.UserKey);
        await AddAsync(server.Admin, "slow", sshd.Address, "deploy", hostKey: sshd.HostKey);
        var pidFile = Path.Combine(sshd.Dir, "sleeper.pid");
        // The connection is set up first (it is kept per server), so the 5 s below are the command's
        // own: on a loaded machine an SSH handshake alone can take 2 s.
        (await ExecOneAsync(server.Admin, "true", "slow")).Status.ShouldBe(TaskRunStatus.Completed);

        var watch = Stopwatch.StartNew();
        var result = await ExecOneAsync(server.Admin, $"echo started; echo $$ > {pidFile}; exec sleep 60", "slow", timeoutSeconds: 5);

        result.Status.ShouldBe(TaskRunStatus.Timeout, result.Reason);
        result.ExitCode.ShouldBeNull();
        result.Stdout.ShouldBe("started\n");
        watch.Elapsed.ShouldBeLessThan(TimeSpan.FromSeconds(30));
        var pid = int.Parse(File.ReadAllText(pidFile).Trim(), System.Globalization.CultureInfo.InvariantCulture);
        var gone = Stopwatch.StartNew();
        while (Directory.Exists($"/proc/{pid}") && !File.ReadAllText($"/proc/{pid}/stat").Contains(") Z ", StringComparison.Ordinal))
        {
            gone.Elapsed.ShouldBeLessThan(TimeSpan.FromSeconds(15), $"the remote sleep (pid {pid}) is still running");
            await Task.Delay(100);
        }
    }

    [Fact]
    public async Task A_flood_of_output_is_capped_at_1_MiB_with_a_marker()
    {
        await using var sshd = await Sshd.StartAsync();
        await using var server = await MedicServer.StartAsync(TestDatabase.Sqlite);
        InstallKey(server, "deploy", sshd.UserKey);
        await AddAsync(server.Admin, "chatty", sshd.Address, "deploy", hostKey: sshd.HostKey);

        var result = await ExecOneAsync(server.Admin, "head -c 3000000 /dev/zero | tr '\\0' x", "chatty");

        result.Status.ShouldBe(TaskRunStatus.Completed, result.Reason);
        result.ExitCode.ShouldBe(0);
        result.Truncated.ShouldBeTrue();
        result.Stdout.ShouldEndWith("\n[medic: output truncated at 1048576 bytes]\n");
        result.Stdout.Length.ShouldBe(1024 * 1024 + "\n[medic: output truncated at 1048576 bytes]\n".Length);
        result.Stderr.ShouldBeEmpty();
    }

    [Fact]
    public async Task A_host_key_other_than_the_pinned_one_is_refused_and_accept_new_pins_the_first_one_seen()
    {
        await using var sshd = await Sshd.StartAsync();
        await using var server = await MedicServer.StartAsync(TestDatabase.Sqlite);
        InstallKey(server, "deploy", sshd.UserKey);
        using var keys = new TempDirectory();
        await Sshd.NewKeyPairAsync(Path.Combine(keys.Path, "impostor"));
        var impostor = string.Join(' ', File.ReadAllText(Path.Combine(keys.Path, "impostor.pub")).Split(' ').Take(2));
        await AddAsync(server.Admin, "pinned-wrong", sshd.Address, "deploy", hostKey: impostor);
        await AddAsync(server.Admin, "trusting", sshd.Address, "deploy", acceptNew: true);

        var refused = await ExecOneAsync(server.Admin, "echo must-not-run", "pinned-wrong");
        refused.Status.ShouldBe(TaskRunStatus.Offline);
        refused.Stdout.ShouldBeEmpty();
        refused.Reason.ShouldNotBeNull().ShouldContain("host key is not the one pinned");
        refused.Reason.ShouldContain("Host key for [127.0.0.1]:" + sshd.Port + " has changed");
        (await ShowAsync(server.Admin, "pinned-wrong")).Status.ToText().ShouldBe("offline");

        var first = await ExecOneAsync(server.Admin, "echo hi", "trusting");
        first.Status.ShouldBe(TaskRunStatus.Completed, first.Reason);
        var trusting = await ShowAsync(server.Admin, "trusting");
        trusting.Ssh.ShouldNotBeNull().HostKey.ShouldBe(sshd.HostKey);
        using var audit = await server.Admin.GetAsync("/api/v1/audit?action=server.host_key_pinned");
        (await audit.ReadAsync(MedicJson.Default.AuditPage)).Items.ShouldHaveSingleItem().Details["fingerprint"].ShouldBe(SshTarget.Fingerprint(sshd.HostKey));
        sshd.Log.ShouldNotContain("must-not-run");
    }

    [Fact]
    public async Task A_key_the_server_does_not_accept_answers_offline_with_sshs_reason()
    {
        await using var sshd = await Sshd.StartAsync();
        await using var server = await MedicServer.StartAsync(TestDatabase.Sqlite);
        using var keys = new TempDirectory();
        await Sshd.NewKeyPairAsync(Path.Combine(keys.Path, "stranger"));
        InstallKey(server, "stranger", Path.Combine(keys.Path, "stranger"));
        await AddAsync(server.Admin, "locked-out", sshd.Address, "stranger", hostKey: sshd.HostKey);

        var result = await ExecOneAsync(server.Admin, "true", "locked-out");

        result.Status.ShouldBe(TaskRunStatus.Offline);
        result.ExitCode.ShouldBeNull();
        result.Reason.ShouldNotBeNull().ShouldContain("Permission denied (publickey)");
        result.Reason.ShouldContain("authorized_keys");
        server.Logs.Lines.ShouldContain(l => l.Message.Contains("unreachable", StringComparison.Ordinal) && l.Message.Contains("Permission denied", StringComparison.Ordinal));
        server.Logs.Lines.ShouldNotContain(l => l.Message.Contains("PRIVATE KEY", StringComparison.Ordinal));

        var unreachable = await AddAsync(server.Admin, "nowhere", $"127.0.0.1:{FreePort()}", "stranger", hostKey: sshd.HostKey);
        var refused = await ExecOneAsync(server.Admin, "true", unreachable.Name);
        refused.Status.ShouldBe(TaskRunStatus.Offline);
        refused.Reason.ShouldNotBeNull().ShouldContain("Connection refused");
    }

    [Fact]
    public async Task Commands_after_the_first_reuse_one_ssh_connection()
    {
        await using var sshd = await Sshd.StartAsync();
        await using var server = await MedicServer.StartAsync(TestDatabase.Sqlite);
        InstallKey(server, "deploy", sshd.UserKey);
        var added = await AddAsync(server.Admin, "reused", sshd.Address, "deploy", hostKey: sshd.HostKey);

        for (var i = 0; i < 3; i++)
        {
            (await ExecOneAsync(server.Admin, "true", "reused")).Status.ShouldBe(TaskRunStatus.Completed);
        }

        sshd.AcceptedLogins.ShouldBe(1, sshd.Log);
        var socket = server.Service<SshRunner>().ControlPath(added.Id);
        File.Exists(socket).ShouldBeTrue();
        File.GetUnixFileMode(Path.GetDirectoryName(socket)!).ShouldBe(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);

        // A master that died (machine rebooted, process killed) is replaced, not tripped over.
        using (var kill = Process.Start(new ProcessStartInfo("ssh") { ArgumentList = { "-F", "none", "-o", "ControlPath=" + socket, "-O", "exit", "x" }, RedirectStandardError = true })!)
        {
            await kill.WaitForExitAsync();
        }

        (await ExecOneAsync(server.Admin, "echo again", "reused")).Stdout.ShouldBe("again\n");
        sshd.AcceptedLogins.ShouldBe(2, sshd.Log);

        // Removing the server closes its connection and forgets its host key.
        var knownHosts = server.Service<SshRunner>().KnownHostsFile(added.Id);
        File.Exists(knownHosts).ShouldBeTrue();
        (await server.Admin.DeleteAsync("/api/v1/servers/reused")).StatusCode.ShouldBe(HttpStatusCode.OK);
        File.Exists(socket).ShouldBeFalse();
        File.Exists(knownHosts).ShouldBeFalse();
    }

    [Fact]
    public async Task One_execution_runs_on_several_agentless_servers_in_parallel()
    {
        await using var first = await Sshd.StartAsync();
        await using var second = await Sshd.StartAsync();
        await using var server = await MedicServer.StartAsync(TestDatabase.Sqlite);
        InstallKey(server, "first", first.UserKey);
        InstallKey(server, "second", second.UserKey);
        await AddAsync(server.Admin, "one", first.Address, "first", hostKey: first.HostKey);
        await AddAsync(server.Admin, "two", second.Address, "second", acceptNew: true);

        var execution = await ExecAsync(server.Admin, "echo $SSH_CONNECTION | cut -d' ' -f4", ["one", "two"]);

        execution.Status.ShouldBe("completed");
        execution.Results.Select(r => (r.Server, r.Status, r.Stdout)).OrderBy(r => r.Server).ShouldBe(
            [("one", TaskRunStatus.Completed, $"{first.Port}\n"), ("two", TaskRunStatus.Completed, $"{second.Port}\n")]);
    }

    private static int FreePort()
    {
        using var listener = new System.Net.Sockets.TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
