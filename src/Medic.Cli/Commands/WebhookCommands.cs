using System.CommandLine;
using Medic.Contracts;

namespace Medic.Cli.Commands;

/// <summary><c>webhooks show</c> and <c>webhooks rotate</c>: where alert senders post and with which credentials.</summary>
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

        return new Command("webhooks", "Alert webhooks: URLs, credentials and sender configuration") { show, rotate, WebhookMappingCommands.Mapping() };
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

        Console.Out.WriteLine($"Limits:         {webhooks.RateLimitPerMinute} deliveries per minute for the tenant, bodies up to {webhooks.MaxBodyBytes / 1024 / 1024} MiB");
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
