using System.CommandLine;
using System.Globalization;
using Medic.Contracts;

namespace Medic.Cli.Commands;

/// <summary><c>medic notify channels add/list/remove/test</c>, <c>medic notify rules add/list/remove</c>, <c>medic notify log</c>.</summary>
internal static class NotifyCommands
{
    public static Command Notify() => new("notify", "Where incidents are announced: channels (Slack, Teams, Discord, Telegram, email, webhook, PagerDuty), routing rules, delivery log")
    {
        Channels(), Rules(), Log(),
    };

    private static Command Channels()
    {
        var name = new Argument<string>("name") { Description = "A name such as ops-slack" };
        var kind = new Option<string>("--kind") { Description = "slack, teams, discord, telegram, email, webhook or pagerduty", Required = true };
        var url = new Option<string?>("--url") { Description = "The webhook URL (slack, teams, discord, webhook); stored sealed" };
        var secret = new Option<string?>("--secret") { Description = "Bot token (telegram), routing key (pagerduty), SMTP password (email) or signing secret (webhook); '-' reads it from standard input" };
        var apiUrl = new Option<string?>("--api-url") { Description = "Another API base for telegram or pagerduty (a proxy, a test receiver)" };
        var chatId = new Option<string?>("--chat-id") { Description = "The Telegram chat id" };
        var smtpHost = new Option<string?>("--smtp-host") { Description = "The SMTP server (email)" };
        var smtpPort = new Option<int?>("--smtp-port") { Description = "Its port (default 25)" };
        var smtpUser = new Option<string?>("--smtp-user") { Description = "SMTP user name; the password goes in --secret" };
        var startTls = new Option<bool>("--starttls") { Description = "Use STARTTLS" };
        var from = new Option<string?>("--from") { Description = "Sender address (email)" };
        var to = new Option<string[]>("--to") { Description = "A recipient (email); repeat for several" };
        var addJson = Shared.JsonOption();
        var add = new Command("add", "Add a channel (admins); secrets are sealed on the server and never shown again")
        {
            name, kind, url, secret, apiUrl, chatId, smtpHost, smtpPort, smtpUser, startTls, from, to, addJson,
        };
        add.SetAction(async (parse, ct) =>
        {
            var secretValue = parse.GetValue(secret) is "-" ? Shared.ReadSecretFromStdin("secret") : parse.GetValue(secret);
            var recipients = parse.GetValue(to) is { Length: > 0 } list ? list : null;
            var request = new CreateNotificationChannelRequest(parse.GetValue(name)!, parse.GetValue(kind)!, parse.GetValue(url), secretValue, parse.GetValue(apiUrl), parse.GetValue(chatId),
                parse.GetValue(smtpHost), parse.GetValue(smtpPort), parse.GetValue(smtpUser), parse.GetValue(startTls) ? true : null, parse.GetValue(from), recipients);
            using var client = Shared.RequireSession(parse).Client();
            var created = await client.SendAsync(HttpMethod.Post, "/api/v1/notification-channels", request, MedicJson.Default.CreateNotificationChannelRequest,
                ApiClient.Json.NotificationChannelResponse, ct);
            if (parse.GetValue(addJson)) Output.Json(created, ApiClient.Json.NotificationChannelResponse);
            else Console.Out.WriteLine($"Added {created.Kind} channel {created.Name} ({created.Id}) to {created.Target}. Try it: medic notify channels test {created.Name}");
            return ExitCodes.Ok;
        });

        var json = Shared.JsonOption();
        var list = new Command("list", "List channels (admins); secrets are listed by name only") { json };
        list.SetAction(async (parse, ct) =>
        {
            using var client = Shared.RequireSession(parse).Client();
            var channels = await client.GetAsync("/api/v1/notification-channels", ApiClient.Json.IReadOnlyListNotificationChannelResponse, ct);
            if (parse.GetValue(json))
            {
                Output.Json(channels, ApiClient.Json.IReadOnlyListNotificationChannelResponse);
                return ExitCodes.Ok;
            }

            Output.Table(["NAME", "KIND", "TARGET", "SECRETS", "CREATED"], channels.Select(c => (IReadOnlyList<string?>)
                [c.Name, c.Kind, c.Target, c.StoredSecrets.Count == 0 ? "-" : string.Join(",", c.StoredSecrets), Output.Time(c.CreatedAt)]));
            return ExitCodes.Ok;
        });

        var removeName = new Argument<string>("channel") { Description = "Channel name or id" };
        var remove = new Command("remove", "Remove a channel no rule uses (admins)") { removeName };
        remove.SetAction(async (parse, ct) =>
        {
            using var client = Shared.RequireSession(parse).Client();
            var c = await client.SendAsync(new HttpRequestMessage(HttpMethod.Delete, "/api/v1/notification-channels/" + Shared.Escape(parse.GetValue(removeName)!)),
                ApiClient.Json.NotificationChannelResponse, ct);
            Console.Out.WriteLine($"Removed channel {c.Name}.");
            return ExitCodes.Ok;
        });

        var testName = new Argument<string>("channel") { Description = "Channel name or id" };
        var testJson = Shared.JsonOption();
        var test = new Command("test", "Send a test message now; exits 1 if the receiver did not accept it") { testName, testJson };
        test.SetAction(async (parse, ct) =>
        {
            using var client = Shared.RequireSession(parse).Client();
            var r = await client.SendAsync(new HttpRequestMessage(HttpMethod.Post, $"/api/v1/notification-channels/{Shared.Escape(parse.GetValue(testName)!)}/test"),
                ApiClient.Json.NotificationTestResponse, ct);
            if (parse.GetValue(testJson)) Output.Json(r, ApiClient.Json.NotificationTestResponse);
            else if (r.Delivered) Console.Out.WriteLine($"Channel {r.Channel}: {r.Detail}.");
            if (!r.Delivered && !parse.GetValue(testJson))
            {
                throw new CliException($"channel {r.Channel}: the test message was not accepted: {r.Detail}", "check the channel's URL, token or address; remove it and add it again to change them");
            }

            return r.Delivered ? ExitCodes.Ok : ExitCodes.CheckFailed;
        });

        return new Command("channels", "Notification channels") { add, list, remove, test };
    }

    private static Command Rules()
    {
        var name = new Argument<string>("name") { Description = "A name such as critical-to-pager" };
        var channel = new Option<string[]>("--channel") { Description = "A channel name; repeat for several", Required = true };
        var minSeverity = new Option<string?>("--min-severity") { Description = "critical, warning or info (default: all)" };
        var label = new Option<string[]>("--label") { Description = "Only incidents with this label k=v; repeat for several" };
        var source = new Option<string?>("--source") { Description = "Only incidents from this source (agent, check, alertmanager, ...)" };
        var server = new Option<string?>("--server") { Description = "Only incidents of this server (name or id)" };
        var events = new Option<string[]>("--event") { Description = "opened, escalated, resolved, acknowledged, approval_requested; repeat (default: all)" };
        var renotify = new Option<string?>("--renotify-every") { Description = "Re-send open unacknowledged incidents this often (default 30m; off)" };
        var renotifySeverity = new Option<string?>("--renotify-severity") { Description = "Re-send only incidents at least this severe (default critical)" };
        var addJson = Shared.JsonOption();
        var add = new Command("add", "Add a routing rule (admins)") { name, channel, minSeverity, label, source, server, events, renotify, renotifySeverity, addJson };
        add.SetAction(async (parse, ct) =>
        {
            var labels = new Dictionary<string, string>(StringComparer.Ordinal);
            foreach (var pair in parse.GetValue(label) ?? [])
            {
                var parts = pair.Split('=', 2);
                if (parts.Length != 2 || parts[0].Length == 0) throw new CliException($"--label '{pair}' is not key=value", "write labels as --label team=shop");
                labels[parts[0]] = parts[1];
            }

            var request = new CreateNotificationRuleRequest(parse.GetValue(name)!, parse.GetValue(channel)!, parse.GetValue(minSeverity), labels.Count > 0 ? labels : null,
                parse.GetValue(source), parse.GetValue(server), parse.GetValue(events) is { Length: > 0 } e ? e : null, parse.GetValue(renotify), parse.GetValue(renotifySeverity));
            using var client = Shared.RequireSession(parse).Client();
            var created = await client.SendAsync(HttpMethod.Post, "/api/v1/notification-rules", request, MedicJson.Default.CreateNotificationRuleRequest,
                ApiClient.Json.NotificationRuleResponse, ct);
            if (parse.GetValue(addJson)) Output.Json(created, ApiClient.Json.NotificationRuleResponse);
            else Console.Out.WriteLine($"Added rule {created.Name} ({created.Id}): {Describe(created)}");
            return ExitCodes.Ok;
        });

        var json = Shared.JsonOption();
        var list = new Command("list", "List routing rules (admins)") { json };
        list.SetAction(async (parse, ct) =>
        {
            using var client = Shared.RequireSession(parse).Client();
            var rules = await client.GetAsync("/api/v1/notification-rules", ApiClient.Json.IReadOnlyListNotificationRuleResponse, ct);
            if (parse.GetValue(json))
            {
                Output.Json(rules, ApiClient.Json.IReadOnlyListNotificationRuleResponse);
                return ExitCodes.Ok;
            }

            Output.Table(["NAME", "CHANNELS", "MATCHES", "EVENTS", "RENOTIFY"], rules.Select(r => (IReadOnlyList<string?>)
            [
                r.Name, string.Join(",", r.Channels), Matches(r), string.Join(",", r.Events),
                r.RenotifyEverySeconds == 0 ? "off" : $"{r.RenotifyEverySeconds / 60}m ({r.RenotifySeverity}+)",
            ]));
            return ExitCodes.Ok;
        });

        var removeName = new Argument<string>("rule") { Description = "Rule name or id" };
        var remove = new Command("remove", "Remove a routing rule (admins)") { removeName };
        remove.SetAction(async (parse, ct) =>
        {
            using var client = Shared.RequireSession(parse).Client();
            var r = await client.SendAsync(new HttpRequestMessage(HttpMethod.Delete, "/api/v1/notification-rules/" + Shared.Escape(parse.GetValue(removeName)!)),
                ApiClient.Json.NotificationRuleResponse, ct);
            Console.Out.WriteLine($"Removed rule {r.Name}.");
            return ExitCodes.Ok;
        });

        return new Command("rules", "Routing rules: which incidents and events go to which channels") { add, list, remove };
    }

    private static Command Log()
    {
        var incident = new Option<string?>("--incident") { Description = "Only this incident's deliveries" };
        var limit = new Option<int?>("--limit") { Description = "At most this many (1-500, default 100)" };
        var json = Shared.JsonOption();
        var log = new Command("log", "The delivery log, newest first: channel, event, status, attempts, last error") { incident, limit, json };
        log.SetAction(async (parse, ct) =>
        {
            var query = new List<string>();
            if (parse.GetValue(incident) is { } id) query.Add("incident=" + Uri.EscapeDataString(id));
            if (parse.GetValue(limit) is { } n) query.Add("limit=" + n.ToString(CultureInfo.InvariantCulture));
            using var client = Shared.RequireSession(parse).Client();
            var deliveries = await client.GetAsync("/api/v1/notifications" + (query.Count > 0 ? "?" + string.Join('&', query) : ""),
                ApiClient.Json.IReadOnlyListNotificationDeliveryResponse, ct);
            if (parse.GetValue(json))
            {
                Output.Json(deliveries, ApiClient.Json.IReadOnlyListNotificationDeliveryResponse);
                return ExitCodes.Ok;
            }

            Output.Table(["TIME", "INCIDENT", "EVENT", "CHANNEL", "STATUS", "ATTEMPTS", "LAST ERROR"], deliveries.Select(d => (IReadOnlyList<string?>)
            [
                Output.Time(d.CreatedAt), d.IncidentId ?? "-", d.Event, $"{d.Channel} ({d.Kind})", d.Status.ToText(),
                d.Attempts.ToString(CultureInfo.InvariantCulture), d.LastError ?? "",
            ]));
            return ExitCodes.Ok;
        });
        return log;
    }

    private static string Matches(NotificationRuleResponse r)
    {
        var parts = new List<string> { r.MinSeverity + "+" };
        parts.AddRange(r.Labels.Select(l => l.Key + "=" + l.Value));
        if (r.Source is not null) parts.Add("source=" + r.Source);
        if (r.Server is not null) parts.Add("server=" + r.Server);
        return string.Join(" ", parts);
    }

    private static string Describe(NotificationRuleResponse r) =>
        $"{Matches(r)} -> {string.Join(", ", r.Channels)} on {string.Join(", ", r.Events)}"
        + (r.RenotifyEverySeconds == 0 ? "" : $"; re-sent every {r.RenotifyEverySeconds / 60} min until acknowledged ({r.RenotifySeverity} and above)");
}
