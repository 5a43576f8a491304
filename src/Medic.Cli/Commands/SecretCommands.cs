using System.CommandLine;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using Medic.Contracts;

namespace Medic.Cli.Commands;

/// <summary><c>medic secrets set|list|show|delete</c>: the tenant's named secrets (docs/secrets.md). Values go in and never come back out.</summary>
internal static class SecretCommands
{
    /// <summary>Responses are read leniently, like <see cref="ApiClient.Json"/>.</summary>
    private static readonly SecretsJson Json = new(new JsonSerializerOptions(SecretsJson.Default.Options) { UnmappedMemberHandling = JsonUnmappedMemberHandling.Skip });

    public static Command Secrets()
    {
        var name = new Argument<string>("name") { Description = "The secret's name: lowercase letters, digits, '.', '_' and '-', such as db-password" };
        var valueStdin = new Option<bool>("--value-stdin") { Description = "Read the value from standard input (the default when input is piped); a final line break is dropped" };
        var fromFile = new Option<string?>("--from-file") { Description = "Read the value from this file, exactly as it is" };
        var description = new Option<string?>("--description") { Description = "What the secret is for (kept when a value is replaced without one)" };
        var setJson = Shared.JsonOption();
        var set = new Command("set", "Create or replace a secret (admins). The value is never an argument: arguments show in the process list and shell history; "
            + "pipe it in (printf '%s' \"$TOKEN\" | medic secrets set NAME), use --from-file, or type it at the hidden prompt")
        {
            name, valueStdin, fromFile, description, setJson,
        };
        set.SetAction(async (parse, ct) =>
        {
            var secretName = parse.GetValue(name)!;
            var value = ReadValue(parse.GetValue(valueStdin), parse.GetValue(fromFile), secretName);
            using var client = Shared.RequireSession(parse).Client();
            var saved = await client.SendAsync(HttpMethod.Put, "/api/v1/secrets/" + Shared.Escape(secretName), new SetSecretRequest(value, parse.GetValue(description)),
                SecretsJson.Default.SetSecretRequest, Json.SecretResponse, ct);
            if (parse.GetValue(setJson)) Output.Json(saved, Json.SecretResponse);
            else Console.Out.WriteLine($"Saved secret '{saved.Name}' ({saved.Length} characters). Use it as ${{{{ secrets.{saved.Name} }}}} in a runbook step, or secret:{saved.Name} in a channel.");
            return ExitCodes.Ok;
        });

        var listJson = Shared.JsonOption();
        var list = new Command("list", "The tenant's secrets: names and metadata, never values (admins)") { listJson };
        list.SetAction(async (parse, ct) =>
        {
            using var client = Shared.RequireSession(parse).Client();
            var secrets = await client.GetAsync("/api/v1/secrets", Json.IReadOnlyListSecretResponse, ct);
            if (parse.GetValue(listJson))
            {
                Output.Json(secrets, Json.IReadOnlyListSecretResponse);
                return ExitCodes.Ok;
            }

            if (secrets.Count == 0)
            {
                Console.Out.WriteLine("The tenant has no secrets; add one with: printf '%s' \"$VALUE\" | medic secrets set NAME");
                return ExitCodes.Ok;
            }

            Output.Table(["NAME", "LENGTH", "UPDATED", "BY", "DESCRIPTION"], secrets.Select(s => (IReadOnlyList<string?>)
                [s.Name, s.Length.ToString(System.Globalization.CultureInfo.InvariantCulture), Output.Time(s.UpdatedAt), s.UpdatedBy, s.Description]));
            return ExitCodes.Ok;
        });

        var showName = new Argument<string>("name") { Description = "The secret to show" };
        var showJson = Shared.JsonOption();
        var show = new Command("show", "One secret's metadata; its value is never shown (admins)") { showName, showJson };
        show.SetAction(async (parse, ct) =>
        {
            using var client = Shared.RequireSession(parse).Client();
            var s = await client.GetAsync("/api/v1/secrets/" + Shared.Escape(parse.GetValue(showName)!), Json.SecretResponse, ct);
            if (parse.GetValue(showJson))
            {
                Output.Json(s, Json.SecretResponse);
                return ExitCodes.Ok;
            }

            Console.Out.WriteLine($"name:        {s.Name}");
            Console.Out.WriteLine($"description: {(s.Description.Length == 0 ? "-" : s.Description)}");
            Console.Out.WriteLine($"length:      {s.Length} characters");
            Console.Out.WriteLine($"created:     {Output.Time(s.CreatedAt)} by {s.CreatedBy}");
            Console.Out.WriteLine($"updated:     {Output.Time(s.UpdatedAt)} by {s.UpdatedBy}");
            return ExitCodes.Ok;
        });

        var deleteName = new Argument<string>("name") { Description = "The secret to delete" };
        var delete = new Command("delete", "Delete a secret; what names it fails clearly until it is set again (admins)") { deleteName };
        delete.SetAction(async (parse, ct) =>
        {
            using var client = Shared.RequireSession(parse).Client();
            using var response = await client.SendRawAsync(new HttpRequestMessage(HttpMethod.Delete, "/api/v1/secrets/" + Shared.Escape(parse.GetValue(deleteName)!)), ct);
            Console.Out.WriteLine($"Deleted the secret '{parse.GetValue(deleteName)}'.");
            return ExitCodes.Ok;
        });

        return new Command("secrets", "Named secrets for runbooks, notification channels and AI models: write-only, redacted from outputs (docs/secrets.md)") { set, list, show, delete };
    }

    private static string ReadValue(bool fromStdin, string? file, string name)
    {
        if (fromStdin && file is not null)
        {
            throw new CliException("--value-stdin and --from-file both give the value", "use one of them");
        }

        if (file is not null)
        {
            if (!File.Exists(file)) throw new CliException($"no file '{file}'", "give the path of a file that holds the value");
            var bytes = File.ReadAllBytes(file);
            if (bytes.Length == 0) throw new CliException($"'{file}' is empty", "put the value in the file, or pipe it in");
            return Encoding.UTF8.GetString(bytes);
        }

        if (fromStdin || Console.IsInputRedirected)
        {
            if (!Console.IsInputRedirected) throw new CliException("--value-stdin reads standard input, which is the terminal", $"pipe the value in: printf '%s' \"$VALUE\" | medic secrets set {name}");
            var text = Console.In.ReadToEnd();
            // One final line break is what echo and here-strings add; anything else is part of the value.
            text = text.EndsWith("\r\n", StringComparison.Ordinal) ? text[..^2] : text.EndsWith('\n') ? text[..^1] : text;
            if (text.Length == 0) throw new CliException("no value on standard input", $"pipe the value in: printf '%s' \"$VALUE\" | medic secrets set {name}");
            return text;
        }

        var typed = Shared.PromptSecret($"Value for {name} (not shown): ");
        if (typed.Length == 0) throw new CliException("no value typed", $"type the value, or pipe it in: printf '%s' \"$VALUE\" | medic secrets set {name}");
        return typed;
    }
}
