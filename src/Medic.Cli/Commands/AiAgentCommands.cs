using System.CommandLine;
using Medic.Contracts;

namespace Medic.Cli.Commands;

/// <summary><c>medic ai agents ...</c> and <c>medic ai skills ...</c>: the tenant's AI agents and the skills they are given (docs/ai-agents.md).</summary>
internal static class AiAgentCommands
{
    private static readonly AiAgentsJson Json = new(new System.Text.Json.JsonSerializerOptions(AiAgentsJson.Default.Options)
    {
        UnmappedMemberHandling = System.Text.Json.Serialization.JsonUnmappedMemberHandling.Skip,
    });

    public static Command Agents()
    {
        var listJson = Shared.JsonOption();
        var list = new Command("list", "The tenant's AI agents: trust, roles, model, patrol") { listJson };
        list.SetAction(async (parse, ct) =>
        {
            using var client = Shared.RequireSession(parse).Client();
            var agents = await client.GetAsync("/api/v1/ai/agents", Json.IReadOnlyListAiAgentResponse, ct);
            if (parse.GetValue(listJson))
            {
                Output.Json(agents, Json.IReadOnlyListAiAgentResponse);
                return ExitCodes.Ok;
            }

            if (agents.Count == 0)
            {
                Console.Out.WriteLine("No AI agents: the rules engine performs every stage. Add one: medic ai agents set NAME --trust supervised --role diagnose");
                return ExitCodes.Ok;
            }

            Output.Table(["NAME", "TRUST", "ROLES", "MODEL", "PATROL", "ENABLED", "UPDATED"], agents.Select(a => (IReadOnlyList<string?>)
            [
                a.Name, a.Trust.ToText(), string.Join(",", a.Roles.Select(r => r.ToText())), a.Model ?? "default", a.Patrol ?? "-", a.Enabled ? "yes" : "no", Output.Time(a.UpdatedAt),
            ]));
            return ExitCodes.Ok;
        });

        var showName = new Argument<string>("name") { Description = "The agent's name" };
        var showJson = Shared.JsonOption();
        var show = new Command("show", "One AI agent with its prompt, skills and tools") { showName, showJson };
        show.SetAction(async (parse, ct) =>
        {
            using var client = Shared.RequireSession(parse).Client();
            var agent = await client.GetAsync("/api/v1/ai/agents/" + Shared.Escape(parse.GetValue(showName)!), Json.AiAgentResponse, ct);
            if (parse.GetValue(showJson)) Output.Json(agent, Json.AiAgentResponse);
            else Print(agent);
            return ExitCodes.Ok;
        });

        var name = new Argument<string>("name") { Description = "The agent's name: lowercase letters, digits, '.', '_', '-'" };
        var trust = new Option<string?>("--trust") { Description = "autonomous (proposals face the risk gate), supervised (always wait for a person; the default) or manual (never proposes)" }
            .OneOf(StateText.All<AiTrust>());
        var role = new Option<string[]>("--role") { Description = "A stage it performs instead of the rules engine: " + string.Join(", ", StateText.All<AiRole>()) + "; repeat for several" };
        var promptFile = new Option<FileInfo?>("--prompt-file") { Description = "A file holding the system prompt (at most 16 KiB)" };
        var prompt = new Option<string?>("--prompt") { Description = "The system prompt as text" };
        var skill = new Option<string[]>("--skill") { Description = "A skill to give it (see 'medic ai skills list'); repeat for several, in the order it reads them" };
        var tool = new Option<string[]>("--tool") { Description = "A tool it may call (none: the default read-only set); repeat for several, e.g. --tool diag --tool propose_remediation" };
        var model = new Option<string?>("--model") { Description = "The AI model entry it uses (default: the tenant's default model)" };
        var patrol = new Option<string?>("--patrol") { Description = "How often it patrols the fleet, at least 5m (e.g. 30m, 2h); none: no patrols" };
        var disabled = new Option<bool>("--disabled") { Description = "Save it disabled: it holds no role and runs nothing" };
        var force = new Option<bool>("--force") { Description = "Take roles that another enabled agent holds (that agent loses them)" };
        var setJson = Shared.JsonOption();
        var set = new Command("set", "Create or replace an AI agent (admins)") { name, trust, role, promptFile, prompt, skill, tool, model, patrol, disabled, force, setJson };
        set.SetAction(async (parse, ct) =>
        {
            var file = parse.GetValue(promptFile);
            var text = parse.GetValue(prompt);
            if (file is not null && text is not null) throw new CliException("--prompt-file and --prompt both give the system prompt", "use one of them");
            if (file is not null)
            {
                if (!file.Exists) throw new CliException($"the prompt file {file.FullName} does not exist", "give the path of a text file with the system prompt");
                text = await File.ReadAllTextAsync(file.FullName, ct);
            }

            var roles = new List<AiRole>();
            foreach (var r in parse.GetValue(role) ?? [])
            {
                if (!StateText.TryParse<AiRole>(r, out var parsed)) throw new CliException($"'{r}' is not a role", "use --role " + string.Join(", --role ", StateText.All<AiRole>()));
                roles.Add(parsed);
            }

            AiTrust? trustLevel = parse.GetValue(trust) is { } t ? StateText.Parse<AiTrust>(t) : null;
            var request = new AiAgentRequest(trustLevel, roles, text, parse.GetValue(skill), parse.GetValue(tool), parse.GetValue(model), parse.GetValue(patrol), !parse.GetValue(disabled));
            using var client = Shared.RequireSession(parse).Client();
            var path = "/api/v1/ai/agents/" + Shared.Escape(parse.GetValue(name)!) + (parse.GetValue(force) ? "?force=true" : "");
            var saved = await client.SendAsync(HttpMethod.Put, path, request, AiAgentsJson.Default.AiAgentRequest, Json.AiAgentResponse, ct);
            if (parse.GetValue(setJson))
            {
                Output.Json(saved, Json.AiAgentResponse);
                return ExitCodes.Ok;
            }

            Console.Out.WriteLine($"Saved AI agent '{saved.Name}' ({saved.Trust.ToText()}{(saved.Enabled ? "" : ", disabled")}): " +
                (saved.Roles.Count == 0 ? "no roles" : "roles " + string.Join(", ", saved.Roles.Select(r => r.ToText()))) + ".");
            foreach (var warning in saved.Warnings ?? []) Console.Error.WriteLine("warning: " + warning);
            return ExitCodes.Ok;
        });

        var removeName = new Argument<string>("name") { Description = "The agent to remove" };
        var remove = new Command("remove", "Remove an AI agent; the stages it performed go back to the rules engine (admins)") { removeName };
        remove.SetAction(async (parse, ct) =>
        {
            using var client = Shared.RequireSession(parse).Client();
            using var response = await client.SendRawAsync(new HttpRequestMessage(HttpMethod.Delete, "/api/v1/ai/agents/" + Shared.Escape(parse.GetValue(removeName)!)), ct);
            Console.Out.WriteLine($"Removed the AI agent '{parse.GetValue(removeName)}'.");
            return ExitCodes.Ok;
        });

        return new Command("agents", "AI agents: trust, roles, prompt, skills, tools, model, patrol (docs/ai-agents.md)") { list, show, set, remove };
    }

    public static Command Skills()
    {
        var listJson = Shared.JsonOption();
        var list = new Command("list", "The skills AI agents may be given: the tenant's own and the built-in ones") { listJson };
        list.SetAction(async (parse, ct) =>
        {
            using var client = Shared.RequireSession(parse).Client();
            var skills = await client.GetAsync("/api/v1/ai/skills", Json.IReadOnlyListAiSkillSummary, ct);
            if (parse.GetValue(listJson))
            {
                Output.Json(skills, Json.IReadOnlyListAiSkillSummary);
                return ExitCodes.Ok;
            }

            Output.Table(["NAME", "SOURCE", "TOKENS", "DESCRIPTION"], skills.Select(s => (IReadOnlyList<string?>)
            [
                s.Name, s.Builtin ? "built-in" : s.Overrides ? "tenant (overrides built-in)" : "tenant", s.Tokens.ToString(System.Globalization.CultureInfo.InvariantCulture),
                s.Description.Length > 80 ? s.Description[..79] + "…" : s.Description,
            ]));
            return ExitCodes.Ok;
        });

        var showName = new Argument<string>("name") { Description = "The skill's name" };
        var show = new Command("show", "Print a skill's Markdown") { showName };
        show.SetAction(async (parse, ct) =>
        {
            using var client = Shared.RequireSession(parse).Client();
            var skill = await client.GetAsync("/api/v1/ai/skills/" + Shared.Escape(parse.GetValue(showName)!), Json.AiSkillResponse, ct);
            Console.Out.Write(skill.Markdown);
            if (!skill.Markdown.EndsWith('\n')) Console.Out.WriteLine();
            return ExitCodes.Ok;
        });

        var name = new Argument<string>("name") { Description = "The skill's name, as in its header" };
        var file = new Option<FileInfo>("--file") { Description = "The Markdown file: a '---' header with name, description and when, then the text", Required = true };
        var set = new Command("set", "Create or replace a tenant skill; a built-in one of the same name is overridden for this tenant (admins)") { name, file };
        set.SetAction(async (parse, ct) =>
        {
            var path = parse.GetValue(file)!;
            if (!path.Exists) throw new CliException($"the skill file {path.FullName} does not exist", "give the path of a Markdown file (see docs/ai-agents.md#skills for its header)");
            var markdown = await File.ReadAllTextAsync(path.FullName, ct);
            using var client = Shared.RequireSession(parse).Client();
            var saved = await client.SendAsync(HttpMethod.Put, "/api/v1/ai/skills/" + Shared.Escape(parse.GetValue(name)!), new AiSkillRequest(markdown),
                AiAgentsJson.Default.AiSkillRequest, Json.AiSkillResponse, ct);
            Console.Out.WriteLine($"Saved skill '{saved.Skill.Name}' (about {saved.Skill.Tokens} tokens){(saved.Skill.Overrides ? ": it overrides the built-in skill of that name" : "")}.");
            return ExitCodes.Ok;
        });

        var removeName = new Argument<string>("name") { Description = "The tenant skill to remove" };
        var remove = new Command("remove", "Remove a tenant skill (a built-in one of the same name applies again) (admins)") { removeName };
        remove.SetAction(async (parse, ct) =>
        {
            using var client = Shared.RequireSession(parse).Client();
            using var response = await client.SendRawAsync(new HttpRequestMessage(HttpMethod.Delete, "/api/v1/ai/skills/" + Shared.Escape(parse.GetValue(removeName)!)), ct);
            Console.Out.WriteLine($"Removed the skill '{parse.GetValue(removeName)}'.");
            return ExitCodes.Ok;
        });

        return new Command("skills", "Skills: Markdown knowledge AI agents are given (docs/ai-agents.md#skills)") { list, show, set, remove };
    }

    private static void Print(AiAgentResponse a)
    {
        Console.Out.WriteLine($"name:     {a.Name}");
        Console.Out.WriteLine($"trust:    {a.Trust.ToText()}");
        Console.Out.WriteLine($"roles:    {(a.Roles.Count == 0 ? "-" : string.Join(", ", a.Roles.Select(r => r.ToText())))}{(a.Enabled ? "" : " (disabled: holds none)")}");
        Console.Out.WriteLine($"model:    {a.Model ?? "default"}");
        Console.Out.WriteLine($"patrol:   {a.Patrol ?? "-"}");
        Console.Out.WriteLine($"skills:   {(a.Skills.Count == 0 ? "-" : string.Join(", ", a.Skills))}");
        Console.Out.WriteLine($"tools:    {string.Join(", ", a.EffectiveTools)}{(a.Tools.Count == 0 ? " (the default set)" : "")}");
        Console.Out.WriteLine($"updated:  {Output.Time(a.UpdatedAt)} by {a.UpdatedBy}");
        Console.Out.WriteLine("prompt:");
        Console.Out.WriteLine(a.SystemPrompt.Length == 0 ? "  (none)" : a.SystemPrompt);
    }
}
