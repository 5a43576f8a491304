using System.CommandLine;
using System.Net.Http.Headers;
using Medic.Contracts;

namespace Medic.Cli.Commands;

/// <summary><c>webhooks mapping list|set|remove</c>: sources of the tenant's own naming, read through JSON paths.</summary>
internal static class WebhookMappingCommands
{
    public static Command Mapping()
    {
        var json = Shared.JsonOption();
        var list = new Command("list", "The tenant's mapped sources: name, URL and the fields they read (admins)") { json };
        list.SetAction(async (parse, ct) =>
        {
            using var client = Shared.RequireSession(parse).Client();
            var mappings = await client.GetAsync("/api/v1/webhooks/mappings", ApiClient.Json.IReadOnlyListWebhookMappingResponse, ct);
            if (parse.GetValue(json))
            {
                Output.Json(mappings, ApiClient.Json.IReadOnlyListWebhookMappingResponse);
                return ExitCodes.Ok;
            }

            Output.Table(["NAME", "TITLE", "STATUS", "SEVERITY", "HOST", "URL"], mappings.Select(m => (IReadOnlyList<string?>)
                [m.Name, m.Mapping.Title, m.Mapping.Status, m.Mapping.Severity, m.Mapping.Host, m.Url]));
            return ExitCodes.Ok;
        });

        var name = new Argument<string>("name") { Description = "The source's name: 2 to 40 lower-case letters, digits or dashes (it becomes the end of the webhook URL)" };
        var file = new Option<FileInfo>("--file", "-f") { Description = "A JSON file of the mapping: {\"title\": \"$.path\", \"fingerprint\", \"status\", \"resolved_values\", \"severity\", \"severity_map\", \"host\", \"summary\", \"alerts\"} (docs/webhooks.md)", Required = true };
        var setJson = Shared.JsonOption();
        var set = new Command("set", "Create or replace a mapped source from a JSON file (admins)") { name, file, setJson };
        set.SetAction(async (parse, ct) =>
        {
            var f = parse.GetValue(file)!;
            if (!f.Exists) throw new CliException($"{f.FullName} does not exist", "give the path of a mapping file (docs/webhooks.md has an example)");
            var body = await File.ReadAllTextAsync(f.FullName, ct);
            using var client = Shared.RequireSession(parse).Client();
            // The file goes to the server as written, so the server's validation names every wrong field.
            var request = new HttpRequestMessage(HttpMethod.Put, "/api/v1/webhooks/mappings/" + Shared.Escape(parse.GetValue(name)!))
            {
                Content = new StringContent(body, new MediaTypeHeaderValue("application/json")),
            };
            var mapping = await client.SendAsync(request, ApiClient.Json.WebhookMappingResponse, ct);
            if (parse.GetValue(setJson))
            {
                Output.Json(mapping, ApiClient.Json.WebhookMappingResponse);
                return ExitCodes.Ok;
            }

            Console.Out.WriteLine($"Saved the mapped source '{mapping.Name}'. Senders post to:");
            Console.Out.WriteLine(mapping.Url);
            Console.Out.WriteLine("with the tenant's bearer token or signature ('medic webhooks show --source generic' shows both).");
            return ExitCodes.Ok;
        });

        var removeName = new Argument<string>("name") { Description = "The mapped source to remove" };
        var remove = new Command("remove", "Remove a mapped source; deliveries to its URL are refused from then on (admins)") { removeName };
        remove.SetAction(async (parse, ct) =>
        {
            using var client = Shared.RequireSession(parse).Client();
            using var response = await client.SendRawAsync(new HttpRequestMessage(HttpMethod.Delete, "/api/v1/webhooks/mappings/" + Shared.Escape(parse.GetValue(removeName)!)), ct);
            Console.Out.WriteLine($"Removed the mapped source '{parse.GetValue(removeName)}'.");
            return ExitCodes.Ok;
        });

        return new Command("mapping", "Mapped sources: any sender's JSON read through JSON paths, no code needed") { list, set, remove };
    }
}
