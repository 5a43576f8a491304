using System.CommandLine;
using Medic.Contracts;

namespace Medic.Cli.Commands;

/// <summary>
/// <c>webhooks show</c>, <c>rotate</c>, <c>set-secret</c>, <c>set-basic-auth</c> and <c>deliveries</c>:
/// where alert senders post, with which credentials, and what became of their deliveries.
/// </summary>
internal static class WebhookCommands
{
    public static Command Webhooks()
    {
        var json = Shared.JsonOption();
        var source = new Option<string?>("--source") { Description = "Print the configuration of this sender only: alertmanager, grafana, datadog, pagerduty, zabbix, uptimekuma or generic" };
        var show = new Command("show", "Each alert source's URL, the tenant's webhook secret and token, and sender configuration to paste (admins)") { json, source };
        show.SetAction(async (parse, ct) =>
        {
            using var client = Shared.RequireSession(parse).Client();
            var webhooks = await client.GetAsync("/api/v1/webhooks", ApiClient.Json.WebhooksResponse, ct);
            Print(webhooks, parse.GetValue(json), parse.GetValue(source));
            return ExitCodes.Ok;
        });

        var overlap = new Option<string?>("--overlap") { Description = "How long the old secret and token keep working, e.g. 24h (the default), 90m, or 0 for not at all" };
        var rotateJson = Shared.JsonOption();
        var rotate = new Command("rotate", "Replace the webhook secret and token; the old ones keep working for the overlap (admins)") { overlap, rotateJson };
        rotate.SetAction(async (parse, ct) =>
        {
            using var client = Shared.RequireSession(parse).Client();
            var webhooks = await client.SendAsync(HttpMethod.Post, "/api/v1/webhooks/rotate", new RotateWebhooksRequest(parse.GetValue(overlap)),
                MedicJson.Default.RotateWebhooksRequest, ApiClient.Json.WebhooksResponse, ct);
            if (!parse.GetValue(rotateJson))
            {
                Console.Out.WriteLine("Rotated the webhook secret and token.");
                Console.Out.WriteLine(webhooks.Retired.Count == 0
                    ? "The old ones no longer work."
                    : $"The old ones keep working until {Output.Time(webhooks.Retired.Max(r => r.ExpiresAt))} UTC: update every sender before then.");
                Console.Out.WriteLine();
            }

            Print(webhooks, parse.GetValue(rotateJson), null);
            return ExitCodes.Ok;
        });

        return new Command("webhooks", "Alert webhooks: URLs, credentials, sender configuration and delivery logs") { show, rotate, SetSecret(), SetBasicAuth(), Deliveries(), WebhookMappingCommands.Mapping(), AlertTypeCommands.Types() };
    }

    private static Argument<string> SourceArgument() => new("SOURCE") { Description = "alertmanager, grafana, datadog, pagerduty, zabbix, uptimekuma, generic or a mapped source" };

    private static Command SetSecret()
    {
        var source = SourceArgument();
        var clear = new Option<bool>("--clear") { Description = "Remove the secret set for the source instead" };
        var command = new Command("set-secret",
            "Set the signing secret a source signs with, read from standard input (PagerDuty generates its own; admins)") { source, clear };
        command.SetAction(async (parse, ct) =>
        {
            var name = parse.GetValue(source)!;
            using var client = Shared.RequireSession(parse).Client();
            var path = $"/api/v1/webhooks/sources/{Shared.Escape(name)}/secret";
            if (parse.GetValue(clear))
            {
                using (await client.SendRawAsync(new HttpRequestMessage(HttpMethod.Delete, path), ct))
                {
                }

                Console.Out.WriteLine($"Removed the signing secret of {name}.");
                return ExitCodes.Ok;
            }

            var secret = ReadStdin("signing secret", $"printf '%s' \"$SECRET\" | medic webhooks set-secret {name}");
            var set = await client.SendAsync(HttpMethod.Put, path, new SetWebhookSecretRequest(secret), MedicJson.Default.SetWebhookSecretRequest, ApiClient.Json.WebhookSourceCredentialResponse, ct);
            Console.Out.WriteLine($"{set.Source} deliveries signed with this secret are accepted from now on (it replaces any set before).");
            return ExitCodes.Ok;
        });
        return command;
    }

    private static Command SetBasicAuth()
    {
        var source = SourceArgument();
        var username = new Option<string?>("--username") { Description = "The user name the sender presents (the password is read from standard input)" };
        var clear = new Option<bool>("--clear") { Description = "Remove the basic auth set for the source instead" };
        var command = new Command("set-basic-auth",
            "Let a source in with HTTP basic auth (Alertmanager's http_config.basic_auth, Datadog); the password is read from standard input (admins)") { source, username, clear };
        command.SetAction(async (parse, ct) =>
        {
            var name = parse.GetValue(source)!;
            using var client = Shared.RequireSession(parse).Client();
            var path = $"/api/v1/webhooks/sources/{Shared.Escape(name)}/basic-auth";
            if (parse.GetValue(clear))
            {
                using (await client.SendRawAsync(new HttpRequestMessage(HttpMethod.Delete, path), ct))
                {
                }

                Console.Out.WriteLine($"Removed the basic auth of {name}.");
                return ExitCodes.Ok;
            }

            var user = parse.GetValue(username) ?? throw new CliException("no --username", $"name the user the sender presents: medic webhooks set-basic-auth {name} --username alertmanager");
            var password = ReadStdin("password", $"printf '%s' \"$PASSWORD\" | medic webhooks set-basic-auth {name} --username {user}");
            var set = await client.SendAsync(HttpMethod.Put, path, new SetWebhookBasicAuthRequest(user, password), MedicJson.Default.SetWebhookBasicAuthRequest,
                ApiClient.Json.WebhookSourceCredentialResponse, ct);
            Console.Out.WriteLine($"{set.Source} deliveries with basic auth user '{set.Username}' and this password are accepted from now on.");
            return ExitCodes.Ok;
        });
        return command;
    }

    private static Command Deliveries()
    {
        var source = SourceArgument();
        var json = Shared.JsonOption();
        var limit = new Option<int?>("--limit") { Description = "How many of the newest deliveries to print (default 50, at most 200)" };
        var command = new Command("deliveries", "A source's last deliveries with the reason for each refusal, and refusals counted by reason (admins)") { source, json, limit };
        command.SetAction(async (parse, ct) =>
        {
            var name = parse.GetValue(source)!;
            using var client = Shared.RequireSession(parse).Client();
            var query = parse.GetValue(limit) is { } n ? $"?limit={n}" : "";
            var log = await client.GetAsync($"/api/v1/webhooks/sources/{Shared.Escape(name)}/deliveries{query}", ApiClient.Json.WebhookDeliveriesResponse, ct);
            if (parse.GetValue(json))
            {
                Output.Json(log, ApiClient.Json.WebhookDeliveriesResponse);
                return ExitCodes.Ok;
            }

            if (log.Deliveries.Count == 0)
            {
                Console.Out.WriteLine($"No deliveries to {name} yet.");
            }
            else
            {
                Output.Table(["TIME", "STATUS", "OUTCOME", "AUTH", "CLIENT", "ALERTS", "DETAIL"], log.Deliveries.Select(d => (IReadOnlyList<string?>)
                    [d.At.ToUniversalTime().ToString("yyyy-MM-dd HH:mm:ss", System.Globalization.CultureInfo.InvariantCulture), d.Status.ToString(System.Globalization.CultureInfo.InvariantCulture),
                     d.Outcome.ToText(), d.Auth ?? "-", d.ClientAddress ?? "-", d.Alerts.ToString(System.Globalization.CultureInfo.InvariantCulture), d.Detail ?? ""]));
            }

            Console.Out.WriteLine();
            Console.Out.WriteLine(log.Refusals.Count == 0
                ? "Refusals: none"
                : "Refusals: " + string.Join(", ", log.Refusals.Select(r => $"{r.Key} {r.Value}")));
            return ExitCodes.Ok;
        });
        return command;
    }

    /// <summary>The whole of standard input without its final line break: a secret is never an argument (it would show in the process list).</summary>
    private static string ReadStdin(string what, string example)
    {
        if (!Console.IsInputRedirected)
        {
            throw new CliException($"the {what} is read from standard input, not the terminal", $"pipe it in: {example}");
        }

        var text = Console.In.ReadToEnd().TrimEnd('\r', '\n');
        if (text.Length == 0) throw new CliException($"no {what} on standard input", $"pipe it in: {example}");
        return text;
    }

    private static void Print(WebhooksResponse webhooks, bool json, string? source)
    {
        if (json)
        {
            Output.Json(webhooks, ApiClient.Json.WebhooksResponse);
            return;
        }

        var sources = webhooks.Sources.Where(s => source is null || s.Source == source).ToList();
        if (sources.Count == 0)
        {
            throw new CliException($"no alert source '{source}'", $"use one of: {string.Join(", ", webhooks.Sources.Select(s => s.Source))}");
        }

        Console.Out.WriteLine($"Tenant:         {webhooks.Tenant}");
        Console.Out.WriteLine($"Signing secret: {webhooks.SigningSecret}");
        Console.Out.WriteLine($"Bearer token:   {webhooks.BearerToken}");
        Console.Out.WriteLine($"Created:        {Output.Time(webhooks.CreatedAt)} UTC");
        foreach (var retired in webhooks.Retired.OrderBy(r => r.Kind, StringComparer.Ordinal))
        {
            Console.Out.WriteLine($"Previous {retired.Kind.Replace('_', ' ')} still accepted until {Output.Time(retired.ExpiresAt)} UTC");
        }

        foreach (var set in webhooks.SourceCredentials ?? [])
        {
            Console.Out.WriteLine($"Set for {set.Source}: {set.Kind.Replace('_', ' ')}{(set.Username is null ? "" : $" (user {set.Username})")}, by {set.CreatedBy} at {Output.Time(set.CreatedAt)} UTC");
        }

        Console.Out.WriteLine($"Limits:         {webhooks.RateLimitPerMinute} authenticated deliveries per minute per source, bodies up to {webhooks.MaxBodyBytes / 1024 / 1024} MiB");
        Console.Out.WriteLine();
        Output.Table(["SOURCE", "AUTH", "URL"], sources.Select(s => (IReadOnlyList<string?>)[s.Source, s.Auth, s.Url]));
        foreach (var s in sources)
        {
            Console.Out.WriteLine();
            Console.Out.WriteLine($"== {s.Source} ==");
            Console.Out.WriteLine(s.Setup);
        }
    }
}
