using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Medic.Agent.Monitors;
using Medic.Contracts;

namespace Medic.Cli.Commands;

/// <summary><c>medic ai tools ...</c>: the tenant's operator-defined AI tools (docs/ai-tools.md).</summary>
internal static class AiToolCommands
{
    /// <summary>The fields a YAML file gives as numbers; every other scalar is text.</summary>
    private static readonly HashSet<string> NumberFields = new(StringComparer.Ordinal) { "timeout_seconds", "output_limit", "max_length", "min", "max" };

    public static Command Tools()
    {
        var listJson = Shared.JsonOption();
        var list = new Command("list", "The tenant's operator-defined AI tools: kind, what they run, parameters") { listJson };
        list.SetAction(async (parse, ct) =>
        {
            using var client = Shared.RequireSession(parse).Client();
            var tools = await client.GetAsync("/api/v1/ai/tools", MedicJson.Default.IReadOnlyListAiToolResponse, ct);
            if (parse.GetValue(listJson))
            {
                Output.Json(tools, MedicJson.Default.IReadOnlyListAiToolResponse);
                return ExitCodes.Ok;
            }

            if (tools.Count == 0)
            {
                Console.Out.WriteLine("No AI tools: agents have the built-in ones only. Add one: medic ai tools add -f tool.yaml (docs/ai-tools.md)");
                return ExitCodes.Ok;
            }

            Output.Table(["NAME", "KIND", "RUNS", "PARAMETERS", "TIMEOUT", "UPDATED"], tools.Select(t => (IReadOnlyList<string?>)
            [
                t.Name, t.Kind, Texts.Truncate(Runs(t), 60), t.Parameters.Count == 0 ? "-" : string.Join(",", t.Parameters.Select(p => p.Name)),
                t.TimeoutSeconds.ToString(CultureInfo.InvariantCulture) + "s", Output.Time(t.UpdatedAt),
            ]));
            return ExitCodes.Ok;
        });

        var showName = new Argument<string>("name") { Description = "The tool's name" };
        var showJson = Shared.JsonOption();
        var show = new Command("show", "One AI tool: what it runs, its parameters and limits") { showName, showJson };
        show.SetAction(async (parse, ct) =>
        {
            using var client = Shared.RequireSession(parse).Client();
            var tool = await client.GetAsync("/api/v1/ai/tools/" + Shared.Escape(parse.GetValue(showName)!), MedicJson.Default.AiToolResponse, ct);
            if (parse.GetValue(showJson)) Output.Json(tool, MedicJson.Default.AiToolResponse);
            else Print(tool);
            return ExitCodes.Ok;
        });

        var file = new Option<FileInfo>("--file", "-f") { Description = "A YAML or JSON file: name, description, kind, program and args or url, parameters (docs/ai-tools.md)", Required = true };
        var addJson = Shared.JsonOption();
        var add = new Command("add", "Create or replace an AI tool from a file; an agent calls it only when its tool allowlist names it (admins)") { file, addJson };
        add.SetAction(async (parse, ct) =>
        {
            var path = parse.GetValue(file)!;
            if (!path.Exists) throw new CliException($"the tool file {path.FullName} does not exist", "give the path of a YAML or JSON file (see docs/ai-tools.md)");
            var request = Read(path.Name, await File.ReadAllTextAsync(path.FullName, ct));
            if (string.IsNullOrEmpty(request.Name)) throw new CliException($"{path.Name} names no tool", "add 'name: my_tool' to the file");
            using var client = Shared.RequireSession(parse).Client();
            var saved = await client.SendAsync(HttpMethod.Put, "/api/v1/ai/tools/" + Shared.Escape(request.Name), request, MedicJson.Default.AiToolRequest,
                MedicJson.Default.AiToolResponse, ct);
            if (parse.GetValue(addJson))
            {
                Output.Json(saved, MedicJson.Default.AiToolResponse);
                return ExitCodes.Ok;
            }

            Console.Out.WriteLine($"Saved AI tool '{saved.Name}' ({saved.Kind}: {Runs(saved)}). An agent calls it only when its tools name it: medic ai agents set AGENT --tool {saved.Name} ...");
            return ExitCodes.Ok;
        });

        var removeName = new Argument<string>("name") { Description = "The tool to remove" };
        var remove = new Command("remove", "Remove an AI tool; agents naming it no longer get it (admins)") { removeName };
        remove.SetAction(async (parse, ct) =>
        {
            using var client = Shared.RequireSession(parse).Client();
            using var response = await client.SendRawAsync(new HttpRequestMessage(HttpMethod.Delete, "/api/v1/ai/tools/" + Shared.Escape(parse.GetValue(removeName)!)), ct);
            Console.Out.WriteLine($"Removed the AI tool '{parse.GetValue(removeName)}'.");
            return ExitCodes.Ok;
        });

        return new Command("tools", "Operator-defined AI tools: shell_command and http_request templates with typed parameters (docs/ai-tools.md)") { list, show, add, remove };
    }

    /// <summary>A tool file as the request: JSON when it starts with '{', else YAML (read strictly, with line numbers in errors).</summary>
    internal static AiToolRequest Read(string name, string text)
    {
        JsonNode? node;
        if (text.TrimStart().StartsWith('{'))
        {
            try
            {
                node = JsonNode.Parse(text);
            }
            catch (JsonException e)
            {
                throw new CliException($"{name} is not valid JSON: {e.Message}", "fix the file, or write it as YAML (docs/ai-tools.md)");
            }
        }
        else
        {
            try
            {
                node = ToJson(StrictYaml.Parse(text), null);
            }
            catch (YamlSyntaxException e)
            {
                throw new CliException($"{name} line {e.Line}: {e.Message}", "fix the YAML; quote values holding '{{ }}', ':' or '#'");
            }
        }

        if (node is not JsonObject) throw new CliException($"{name} does not hold a tool", "the file is a mapping: name, description, kind, program and args or url, parameters");
        try
        {
            return node.Deserialize(MedicJson.Default.AiToolRequest)!;
        }
        catch (JsonException e)
        {
            throw new CliException($"{name}: {e.Message}", "the fields are name, description, kind, program, args, method, url, parameters, timeout_seconds, output_limit (docs/ai-tools.md)");
        }
    }

    private static JsonNode? ToJson(YamlNode? node, string? key) => node switch
    {
        null => null,
        YamlScalar s when key is not null && NumberFields.Contains(key) && long.TryParse(s.Value, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var number) => JsonValue.Create(number),
        YamlScalar s => JsonValue.Create(s.Value),
        YamlList l => new JsonArray([.. l.Items.Select(i => ToJson(i, null))]),
        YamlMap m => new JsonObject(m.Entries.Select(e => KeyValuePair.Create(e.Key, ToJson(e.Value, e.Key)))),
        _ => null,
    };

    private static string Runs(AiToolResponse t) => t.Kind == "shell_command" ? string.Join(" ", new[] { t.Program ?? "" }.Concat(t.Args)) : $"{t.Method} {t.Url}";

    private static void Print(AiToolResponse t)
    {
        Console.Out.WriteLine($"name:        {t.Name}");
        Console.Out.WriteLine($"kind:        {t.Kind}");
        Console.Out.WriteLine($"runs:        {Runs(t)}");
        Console.Out.WriteLine($"timeout:     {t.TimeoutSeconds}s");
        Console.Out.WriteLine($"output:      at most {t.OutputLimit} characters");
        Console.Out.WriteLine($"updated:     {Output.Time(t.UpdatedAt)} by {t.UpdatedBy}");
        Console.Out.WriteLine($"description: {t.Description}");
        Console.Out.WriteLine(t.Parameters.Count == 0 ? "parameters:  none" : "parameters:");
        foreach (var p in t.Parameters)
        {
            var rule = p.Type switch
            {
                "string" => $"matching {p.Pattern}, at most {p.MaxLength} characters",
                "integer" => $"from {p.Min?.ToString(CultureInfo.InvariantCulture) ?? "any"} to {p.Max?.ToString(CultureInfo.InvariantCulture) ?? "any"}",
                _ => "one of " + string.Join(", ", p.Values ?? []),
            };
            Console.Out.WriteLine($"  {p.Name} ({p.Type}, {rule}){(string.IsNullOrEmpty(p.Description) ? "" : ": " + p.Description)}");
        }
    }
}
