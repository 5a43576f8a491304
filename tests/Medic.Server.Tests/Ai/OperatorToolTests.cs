using System.Net;
using System.Text.Json.Nodes;
using Medic.Contracts;
using Medic.ModelServer;
using Medic.Server.Tests.Audit;
using Medic.Server.Tests.Infrastructure;
using static Medic.Server.Tests.Ai.AiSetup;

namespace Medic.Server.Tests.Ai;

/// <summary>
/// Operator-defined AI tools: saved and validated over the API and the CLI, and called by a model
/// (the scripted one, through the real SDK client) on the real agent, whose policy has the last word.
/// </summary>
public sealed class OperatorToolTests
{
    /// <summary>printf with the value as one argv element: its output shows exactly what the program got.</summary>
    private const string Shout = """
        {"description":"Echo a word back in angle brackets.","kind":"shell_command","program":"/usr/bin/printf","args":["<%s>","{{ word }}"],
         "parameters":[{"name":"word","type":"string","pattern":"[ -~]{1,200}","description":"Printable ASCII."}]}
        """;

    private const string Nap = """
        {"description":"Sleep a while.","kind":"shell_command","program":"/usr/bin/sleep","args":["{{seconds}}"],"timeout_seconds":1,
         "parameters":[{"name":"seconds","type":"integer","min":0,"max":10}]}
        """;

    private const string Listing = """
        {"description":"List a directory.","kind":"shell_command","program":"/bin/ls","args":["-la","--","{{ path }}"],
         "parameters":[{"name":"path","type":"enum","values":["/etc","/var/log"]}]}
        """;

    private static async Task SaveAsync(MedicServer server, string name, string json)
    {
        using var response = await server.Admin.PutAsync("/api/v1/ai/tools/" + name, Json.Raw(json));
        response.StatusCode.ShouldBe(HttpStatusCode.Created, await response.Content.ReadAsStringAsync());
    }

    [Theory]
    [MemberData(nameof(Dialects.Both), MemberType = typeof(Dialects))]
    public async Task A_model_calls_operator_tools_on_the_real_agent_values_stay_one_argv_element_and_refusals_carry_their_codes(string dialect)
    {
        await using var server = await MedicServer.StartAsync(dialect);
        await using var agent = await McpRealAgent.StartAsync(server, "ops-node", "exec: true\nexec_allow:\n  - /usr/bin/printf *\n  - /usr/bin/sleep *\n");
        await using var model = await ScriptedModelServer.StartAsync();
        await SecretAsync(server, "llm-key", Key);
        await ModelAsync(server, "default", model);
        var port = server.BaseAddress.Port;
        await SaveAsync(server, "shout", Shout);
        await SaveAsync(server, "nap", Nap);
        await SaveAsync(server, "listing", Listing);
        await SaveAsync(server, "health", $$$"""
            {"description":"Medic's own health page, from the server.","kind":"http_request","url":"http://127.0.0.1:{{{port}}}/healthz?probe={{ q }}",
             "parameters":[{"name":"q","type":"string","pattern":"[^\\n]{1,50}"}]}
            """);
        await SaveAsync(server, "hidden", Shout);
        using (var saved = await server.Admin.PutAsync("/api/v1/ai/agents/" + Agent,
            Json.Raw("""{"trust":"supervised","roles":["diagnose"],"tools":["diag","escalate","shout","nap","listing","health","ghost"]}""")))
        {
            var response = await saved.ReadAsync(AiAgentsJson.Default.AiAgentResponse, HttpStatusCode.Created);
            response.Warnings!.ShouldHaveSingleItem().ShouldContain("'ghost'");
        }

        var directory = "/tmp/medic-optools-" + Guid.NewGuid().ToString("N")[..8];
        Directory.CreateDirectory(directory);
        (string Tool, object Args, string? Code)[] calls =
        [
            ("shout", new { word = "hello world" }, null),
            ("shout", new { word = $"x; touch {directory}/semicolon" }, null),
            ("shout", new { word = $"$(touch {directory}/subst) `touch {directory}/tick` | touch {directory}/pipe" }, null),
            ("health", new { q = "a b&c=d" }, null),
            ("shout", new { word = $"x\ntouch {directory}/newline" }, "tool.input_invalid"),
            ("shout", new { word = "ok\n" }, "tool.input_invalid"),
            ("shout", new { word = "hi", command = "id" }, "tool.input_invalid"),
            ("nap", new { seconds = "1; id" }, "tool.input_invalid"),
            ("nap", new { seconds = 11 }, "tool.input_invalid"),
            ("listing", new { path = "/root" }, "tool.input_invalid"),
            ("listing", new { path = "/etc" }, "policy.denied"),
            ("hidden", new { word = "x" }, "tool.not_found"),
            ("ghost", new { }, "tool.not_found"),
            ("nap", new { seconds = 5 }, "timeout"),
        ];
        model.Enqueue(ModelReply.ReplyToolCalls([.. calls.Select(c => (c.Tool, c.Args))]));
        model.ReplyText("Done looking.");

        var incident = await IncidentAsync(server, "queue stuck on ops-node", "ops-node");
        var (run, _) = await DiagnosedAsync(server, incident);

        // The model was offered the allowlisted operator tools, each with its typed schema, and nothing it was not allowed.
        model.Requests[0].ToolNames.Order(StringComparer.Ordinal).ShouldBe(["diag", "escalate", "health", "listing", "nap", "shout"]);
        var schemas = model.Requests[0].Body!["tools"]!.ToJsonString();
        schemas.ShouldContain("[ -~]{1,200}");
        var received = ToolResults(model.Requests[1]);
        received.Select(ErrorCode).ShouldBe(calls.Select(c => c.Code), string.Join("\n", received));
        received[0].ShouldContain("\"output\":\"<hello world>\"");
        received[1].ShouldContain($"\"output\":\"<x; touch {directory}/semicolon>\"");
        received[2].ShouldContain($"<$(touch {directory}/subst) `touch {directory}/tick` | touch {directory}/pipe>");
        received[3].ShouldContain("200");
        received[3].ShouldContain($"\"url\":\"http://127.0.0.1:{port}/healthz?probe=a%20b%26c%3Dd\"", Case.Sensitive, received[3]);
        received[4].ShouldContain("does not match the pattern");
        received[5].ShouldContain("does not match the pattern");
        received[7].ShouldContain("whole number");
        received[10].ShouldContain("exec_allow");
        received[12].ShouldContain("there is no tool 'ghost'");
        Directory.GetFiles(directory).ShouldBeEmpty("no value reached a shell");
        Directory.Delete(directory);

        var bundle = await BundleAsync(server, run.Id);
        bundle.Steps.Where(s => s.Kind == "tool").Select(s => s.Error).ShouldBe(calls.Select(c => c.Code));
        agent.Output.ShouldNotContain("newline");
    }

    [Theory]
    [MemberData(nameof(Dialects.Both), MemberType = typeof(Dialects))]
    public async Task A_tool_is_saved_shown_listed_replaced_and_removed_each_change_audited(string dialect)
    {
        await using var server = await MedicServer.StartAsync(dialect);
        using (var created = await server.Admin.PutAsync("/api/v1/ai/tools/shout", Json.Raw(Shout)))
        {
            var tool = await created.ReadAsync(MedicJson.Default.AiToolResponse, HttpStatusCode.Created);
            (tool.Name, tool.Kind, tool.Program, tool.TimeoutSeconds, tool.OutputLimit, tool.Method, tool.Url).ShouldBe(("shout", "shell_command", "/usr/bin/printf", 10, 8000, (string?)null, (string?)null));
            tool.Args.ShouldBe(["<%s>", "{{ word }}"]);
            var word = tool.Parameters.ShouldHaveSingleItem();
            (word.Name, word.Type, word.Pattern, word.MaxLength).ShouldBe(("word", "string", "[ -~]{1,200}", (int?)200));
        }

        using (var replaced = await server.Admin.PutAsync("/api/v1/ai/tools/shout",
            Json.Raw("""{"name":"shout","description":"Queue depth.","kind":"http_request","url":"http://localhost:9000/queues/{{ queue }}/depth","timeout_seconds":5,"output_limit":1000,"parameters":[{"name":"queue","type":"enum","values":["mail","jobs"]}]}""")))
        {
            var tool = await replaced.ReadAsync(MedicJson.Default.AiToolResponse);
            (tool.Kind, tool.Method, tool.Program, tool.TimeoutSeconds, tool.OutputLimit).ShouldBe(("http_request", "GET", (string?)null, 5, 1000));
        }

        using (var list = await server.Admin.GetAsync("/api/v1/ai/tools"))
        {
            (await list.ReadAsync(MedicJson.Default.IReadOnlyListAiToolResponse)).ShouldHaveSingleItem().Url.ShouldBe("http://localhost:9000/queues/{{ queue }}/depth");
        }

        var viewer = await server.ClientForNewUserAsync(server.Admin, "vera", Role.Viewer);
        var operatorClient = await server.ClientForNewUserAsync(server.Admin, "otto", Role.Operator);
        (await viewer.GetAsync("/api/v1/ai/tools/shout")).StatusCode.ShouldBe(HttpStatusCode.OK);
        foreach (var client in new[] { viewer, operatorClient })
        {
            (await client.PutAsync("/api/v1/ai/tools/other", Json.Raw(Shout))).StatusCode.ShouldBe(HttpStatusCode.Forbidden);
            (await client.DeleteAsync("/api/v1/ai/tools/shout")).StatusCode.ShouldBe(HttpStatusCode.Forbidden);
        }

        (await server.Admin.DeleteAsync("/api/v1/ai/tools/shout")).StatusCode.ShouldBe(HttpStatusCode.NoContent);
        using (var gone = await server.Admin.GetAsync("/api/v1/ai/tools/shout"))
        {
            gone.StatusCode.ShouldBe(HttpStatusCode.NotFound);
            (await gone.Content.ReadAsStringAsync()).ShouldContain("medic ai tools list");
        }

        (await server.Admin.DeleteAsync("/api/v1/ai/tools/shout")).StatusCode.ShouldBe(HttpStatusCode.NotFound);
        var saves = await AuditAsync(server, "ai_tool.saved");
        saves.Select(e => e.Details["created"]).ShouldBe(["true", "false"], ignoreOrder: true);
        saves.ShouldContain(e => e.Details["runs"] == "/usr/bin/printf <%s> {{ word }}" && e.Details["parameters"] == "word:string");
        (await AuditAsync(server, "ai_tool.deleted")).ShouldHaveSingleItem().Target.ShouldBe("ai_tool:shout");
    }

    public static TheoryData<string, string, string> Invalid => new()
    {
        { "Restart", Shout, "is not a tool name" },
        { "diag", Shout, "is a built-in tool" },
        { "propose_remediation", Shout, "is a built-in tool" },
        { "shout", """{"description":"d","kind":"shell_command","program":"/usr/bin/printf","args":["{{ unknown }}"]}""", "references {{ unknown }}, which is not a declared parameter" },
        { "shout", """{"description":"d","kind":"shell_command","program":"/bin/systemctl status nginx; rm -rf /"}""", "is not an absolute path to a program" },
        { "shout", """{"description":"d","kind":"shell_command","program":"systemctl"}""", "is not an absolute path to a program" },
        { "shout", """{"description":"d","kind":"shell_command","program":"/bin/sh","args":["-c","id"]}""", "'sh' runs other programs or a shell string" },
        { "shout", """{"description":"d","kind":"shell_command","program":"/usr/bin/env","args":["id"]}""", "'env' runs other programs" },
        { "shout", """{"description":"d","kind":"shell_command","program":"/usr/bin/printf","args":["{{ a }}{{ b }}"],"parameters":[{"name":"a","type":"enum","values":["x"]},{"name":"b","type":"enum","values":["y"]}]}""", "an arg holds at most one" },
        { "shout", """{"description":"d","kind":"shell_command","program":"/usr/bin/printf","args":["{{ a "],"parameters":[{"name":"a","type":"enum","values":["x"]}]}""", "is not a whole reference" },
        { "shout", """{"description":"d","kind":"shell_command","program":"/usr/bin/printf","args":["x"],"parameters":[{"name":"a","type":"string"}]}""", "needs a pattern" },
        { "shout", """{"description":"d","kind":"shell_command","program":"/usr/bin/printf","args":["x"],"parameters":[{"name":"a","type":"enum","values":["x"]}]}""", "'a' is not used" },
        { "shout", """{"description":"d","kind":"shell_command","program":"/usr/bin/printf","args":["{{ a }}"],"parameters":[{"name":"a","type":"string","pattern":"[a-"}]}""", "not a valid regular expression" },
        { "shout", """{"description":"d","kind":"shell_command","program":"/usr/bin/printf","args":["{{ server }}"],"parameters":[{"name":"server","type":"enum","values":["x"]}]}""", "'server' is taken" },
        { "shout", """{"description":"d","kind":"shell_command","program":"/usr/bin/printf","timeout_seconds":61}""", "must be from 1 to 60" },
        { "shout", """{"description":"d","kind":"http_request","url":"http://example.com/status"}""", "is not this server" },
        { "shout", """{"description":"d","kind":"http_request","url":"http://{{ host }}/status","parameters":[{"name":"host","type":"enum","values":["127.0.0.1"]}]}""", "the host and port must be written out" },
        { "shout", """{"description":"d","kind":"http_request","method":"POST","url":"http://127.0.0.1/x"}""", "is not supported: an http_request is a GET" },
        { "shout", """{"description":"d","kind":"http_request","url":"http://127.0.0.1/x","timeout_seconds":30}""", "must be from 1 to 10 for an http_request" },
        { "shout", """{"description":"d","kind":"script","program":"/usr/bin/printf"}""", "is not a kind" },
        { "shout", """{"kind":"shell_command","program":"/usr/bin/printf"}""", "description" },
        { "shout", """{"name":"other","description":"d","kind":"shell_command","program":"/usr/bin/printf"}""", "the body names 'other'" },
    };

    [Theory]
    [MemberData(nameof(Invalid))]
    public async Task A_bad_tool_is_a_400_naming_what_to_fix_and_nothing_is_saved(string name, string json, string expected)
    {
        await using var server = await MedicServer.StartAsync(TestDatabase.Sqlite);
        using var response = await server.Admin.PutAsync("/api/v1/ai/tools/" + name, Json.Raw(json));
        var body = await response.Content.ReadAsStringAsync();
        response.StatusCode.ShouldBe(HttpStatusCode.BadRequest, body);
        JsonNode.Parse(body)!["detail"]!.GetValue<string>().ShouldContain(expected, Case.Sensitive, body);
        using var list = await server.Admin.GetAsync("/api/v1/ai/tools");
        (await list.ReadAsync(MedicJson.Default.IReadOnlyListAiToolResponse)).ShouldBeEmpty();
    }

    [Fact]
    public async Task The_cli_adds_a_tool_from_yaml_or_json_lists_shows_and_removes_it()
    {
        await using var server = await MedicServer.StartAsync(TestDatabase.Sqlite);
        using var cli = new MedicCli(server, server.AdminToken);
        var yaml = Path.Combine(cli.Home, "journal.yaml");
        await File.WriteAllTextAsync(yaml, """
            name: journal
            description: The last lines of a unit's journal.
            kind: shell_command
            program: /usr/bin/journalctl
            args: ["-u", "{{ unit }}", "-n", "{{ lines }}", "--no-pager"]
            timeout_seconds: 15
            parameters:
              - name: unit
                type: string
                pattern: "[A-Za-z0-9@._-]+"
                max_length: 100
              - name: lines
                type: integer
                min: 1
                max: 500
            """);
        var added = await cli.RunAsync("ai", "tools", "add", "-f", yaml);
        added.ExitCode.ShouldBe(0, added.ToString());
        added.Stdout.ShouldContain("Saved AI tool 'journal' (shell_command: /usr/bin/journalctl -u {{ unit }} -n {{ lines }} --no-pager)");

        var json = Path.Combine(cli.Home, "depth.json");
        await File.WriteAllTextAsync(json, """{"name":"depth","description":"Queue depth.","kind":"http_request","url":"http://127.0.0.1:9000/depth?q={{ q }}","parameters":[{"name":"q","type":"enum","values":["mail"]}]}""");
        (await cli.RunAsync("ai", "tools", "add", "-f", json)).ExitCode.ShouldBe(0);

        var list = await cli.RunAsync("ai", "tools", "list", "--json");
        list.ExitCode.ShouldBe(0, list.ToString());
        var tools = System.Text.Json.JsonSerializer.Deserialize(list.Stdout, MedicJson.Default.IReadOnlyListAiToolResponse)!;
        tools.Select(t => t.Name).ShouldBe(["depth", "journal"]);
        var journal = tools[1];
        (journal.TimeoutSeconds, journal.Parameters[0].MaxLength, journal.Parameters[1].Min, journal.Parameters[1].Max).ShouldBe((15, (int?)100, (long?)1, (long?)500));

        var show = await cli.RunAsync("ai", "tools", "show", "journal");
        show.Stdout.ShouldContain("unit (string, matching [A-Za-z0-9@._-]+, at most 100 characters)");
        show.Stdout.ShouldContain("lines (integer, from 1 to 500)");
        var table = await cli.RunAsync("ai", "tools", "list");
        table.Stdout.ShouldContain("GET http://127.0.0.1:9000/depth?q={{ q }}");

        var bad = Path.Combine(cli.Home, "bad.yaml");
        await File.WriteAllTextAsync(bad, "name: bad\ndescription: d\nkind: shell_command\nprogram: /bin/bash\nargs: [\"-c\", \"id\"]\n");
        var refused = await cli.RunAsync("ai", "tools", "add", "-f", bad);
        refused.ExitCode.ShouldNotBe(0);
        refused.Stderr.ShouldContain("'bash' runs other programs or a shell string");
        var unquoted = Path.Combine(cli.Home, "unquoted.yaml");
        await File.WriteAllTextAsync(unquoted, "name: x\nargs:\n  - {{ unit }}\n");
        var syntax = await cli.RunAsync("ai", "tools", "add", "-f", unquoted);
        syntax.ExitCode.ShouldNotBe(0);
        syntax.Stderr.ShouldContain("line 3");

        var removed = await cli.RunAsync("ai", "tools", "remove", "journal");
        removed.ExitCode.ShouldBe(0, removed.ToString());
        (await cli.RunAsync("ai", "tools", "show", "journal")).ExitCode.ShouldNotBe(0);
    }
}
