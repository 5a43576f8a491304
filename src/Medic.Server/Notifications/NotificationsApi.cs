using System.Globalization;
using System.Net.Mail;
using System.Text.Json;
using System.Text.RegularExpressions;
using Medic.Contracts;
using Medic.Server.Audit;
using Medic.Server.Auth;
using Medic.Server.Common;
using Medic.Server.Incidents;
using Medic.Server.Secrets;
using Medic.Server.Storage;
using Microsoft.AspNetCore.Http.HttpResults;

namespace Medic.Server.Notifications;

/// <summary>Notification channels and rules of the caller's tenant (admins), a test send, and the delivery log.</summary>
internal static partial class NotificationsApi
{
    public static IServiceCollection AddNotifications(this IServiceCollection services)
    {
        services.AddHttpClient(NotificationSender.HttpClientName, c => c.DefaultRequestHeaders.UserAgent.ParseAdd("medic/" + typeof(NotificationsApi).Assembly.GetName().Version?.ToString(3)))
            .ConfigurePrimaryHttpMessageHandler(() => new SocketsHttpHandler { AllowAutoRedirect = false, UseCookies = false, PooledConnectionLifetime = TimeSpan.FromMinutes(5) })
            // The factory's default loggers write each request URL at Information; chat webhook URLs and Telegram paths hold tokens.
            .RemoveAllLoggers();
        services.AddSingleton<NotificationStore>();
        services.AddSingleton<NotificationSender>();
        services.AddSingleton<ConsoleLinks>();
        services.AddSingleton<NotificationPlanner>();
        services.AddSingleton<IJobHandler, DeliveryJobHandler>();
        services.AddSingleton<IJobHandler, ReminderJobHandler>();
        services.AddSingleton<IncidentNotifier>();
        services.AddSingleton<IIncidentChanges>(sp => sp.GetRequiredService<IncidentNotifier>());
        services.AddHostedService(sp => sp.GetRequiredService<IncidentNotifier>());
        return services;
    }

    public static IEndpointRouteBuilder MapNotifications(this IEndpointRouteBuilder app)
    {
        var channels = app.MapGroup("/api/v1/notification-channels").WithTags("Notifications");
        channels.MapGet("/", ListChannels).Requires(Permission.Administer).WithSummary("Notification channels; secrets are never shown, only which ones are stored.");
        channels.MapPost("/", CreateChannel).Requires(Permission.Administer)
            .WithSummary("Add a channel: slack, teams, discord, telegram, email, webhook (HMAC-signed) or pagerduty. Secrets are sealed with the master key.");
        channels.MapDelete("/{id}", RemoveChannel).Requires(Permission.Administer).WithSummary("Remove a channel that no rule uses.");
        channels.MapPost("/{id}/test", TestChannel).Requires(Permission.Administer).WithSummary("Send a test message now and say whether the receiver accepted it.");
        var rules = app.MapGroup("/api/v1/notification-rules").WithTags("Notifications");
        rules.MapGet("/", ListRules).Requires(Permission.Administer).WithSummary("Routing rules: which incidents and events go to which channels.");
        rules.MapPost("/", CreateRule).Requires(Permission.Administer).WithSummary("Add a rule: severity, labels, source and server to match, events, channels, re-notify interval.");
        rules.MapDelete("/{id}", RemoveRule).Requires(Permission.Administer).WithSummary("Remove a rule.");
        app.MapGet("/api/v1/notifications", Deliveries).Requires(Permission.Read).WithTags("Notifications")
            .WithSummary("The delivery log, newest first: channel, event, status, attempts and last error. Filter: incident; limit (1-500, default 100).");
        return app;
    }

    private static async Task<Ok<IReadOnlyList<NotificationChannelResponse>>> ListChannels(NotificationStore store, HttpContext http, CancellationToken ct) =>
        TypedResults.Ok<IReadOnlyList<NotificationChannelResponse>>((await store.ChannelsAsync(http.Caller().TenantId, ct)).Select(c => c.ToResponse()).ToList());

    private static async Task<Results<Created<NotificationChannelResponse>, ProblemHttpResult, ValidationProblem>> CreateChannel(
        CreateNotificationChannelRequest request, Database db, AuditLog audit, SecretBox box, TimeProvider time, HttpContext http, CancellationToken ct)
    {
        var caller = http.Caller();
        var v = new Validator().Require("name", request.Name, 63).Require("kind", request.Kind, 20)
            .Optional("url", request.Url, 2000).Optional("secret", request.Secret, 4000).Optional("api_url", request.ApiUrl, 2000).Optional("chat_id", request.ChatId, 100)
            .Optional("smtp_host", request.SmtpHost, 255).Optional("smtp_username", request.SmtpUsername, 255).Optional("from", request.From, 320);
        if (!string.IsNullOrEmpty(request.Name)) v.Check(ResourceNames.IsValid(request.Name), "name", "use lowercase letters, digits, '.', '_' and '-', such as ops-slack");
        v.Check(request.Kind is null || ChannelKinds.All.Contains(request.Kind), "kind", "use " + string.Join(", ", ChannelKinds.All));
        var settings = new ChannelSettings();
        var secrets = new ChannelSecrets();
        var stored = new List<string>();
        void Only(bool allowed, string field, object? value)
        {
            if (!allowed && value is not null) v.Add(field, $"a {request.Kind} channel does not use {field}");
        }

        var kind = request.Kind;
        var webhookKind = kind is ChannelKinds.Slack or ChannelKinds.Teams or ChannelKinds.Discord or ChannelKinds.Webhook;
        Only(webhookKind, "url", request.Url);
        Only(kind is ChannelKinds.Telegram or ChannelKinds.PagerDuty, "api_url", request.ApiUrl);
        Only(kind is ChannelKinds.Telegram, "chat_id", request.ChatId);
        Only(kind is ChannelKinds.Telegram or ChannelKinds.PagerDuty or ChannelKinds.Email or ChannelKinds.Webhook, "secret", request.Secret);
        foreach (var (field, value) in new (string, object?)[]
                 { ("smtp_host", request.SmtpHost), ("smtp_port", request.SmtpPort), ("smtp_username", request.SmtpUsername), ("start_tls", request.StartTls), ("from", request.From), ("to", request.To) })
        {
            Only(kind is ChannelKinds.Email, field, value);
        }

        if (webhookKind)
        {
            var namedUrl = NamedSecret(request.Url);
            v.Check(IsHttpUrl(request.Url) || namedUrl is not null, "url", kind == ChannelKinds.Webhook ? "give the http(s) URL to POST to, or secret:NAME" : $"give the {kind} incoming webhook URL (https://...), or secret:NAME");
            secrets.Url = request.Url;
            stored.Add("url");
            settings.Target = IsHttpUrl(request.Url) ? new Uri(request.Url!).Authority : namedUrl is not null ? "secret:" + namedUrl : kind;
            if (kind == ChannelKinds.Webhook && !string.IsNullOrEmpty(request.Secret))
            {
                v.Check(request.Secret.Length >= 16 || NamedSecret(request.Secret) is not null, "secret", "a signing secret of at least 16 characters, or secret:NAME");
                secrets.Secret = request.Secret;
                stored.Add("signing_secret");
            }
        }

        if (kind is ChannelKinds.Telegram or ChannelKinds.PagerDuty)
        {
            v.Check(!string.IsNullOrWhiteSpace(request.Secret), "secret", kind == ChannelKinds.Telegram ? "give the bot token from @BotFather" : "give the Events API v2 routing (integration) key");
            v.Check(request.ApiUrl is null || IsHttpUrl(request.ApiUrl), "api_url", "an http(s) base URL, such as https://api.telegram.org");
            secrets.Secret = request.Secret;
            stored.Add(kind == ChannelKinds.Telegram ? "bot_token" : "routing_key");
            settings.ApiUrl = request.ApiUrl?.TrimEnd('/');
            var api = new Uri(settings.ApiUrl ?? (kind == ChannelKinds.Telegram ? NotificationSender.DefaultTelegramApi : NotificationSender.DefaultPagerDutyApi)).Authority;
            if (kind == ChannelKinds.Telegram)
            {
                v.Check(!string.IsNullOrWhiteSpace(request.ChatId), "chat_id", "give the chat id (a number, or @channelname)");
                settings.ChatId = request.ChatId;
                settings.Target = $"chat {request.ChatId} via {api}";
            }
            else
            {
                settings.Target = api;
            }
        }

        if (kind == ChannelKinds.Email)
        {
            v.Check(!string.IsNullOrWhiteSpace(request.SmtpHost), "smtp_host", "give the SMTP server's host name");
            v.Check(request.SmtpPort is null or >= 1 and <= 65535, "smtp_port", "a port from 1 to 65535 (25, 465 or 587)");
            v.Check(MailAddress.TryCreate(request.From, out _), "from", "give the sender address, such as medic@example.com");
            v.Check(request.To is { Count: >= 1 and <= 50 } && request.To.All(t => MailAddress.TryCreate(t, out _)), "to", "give 1 to 50 recipient addresses");
            v.Check(request.Secret is null || request.SmtpUsername is not null, "secret", "a password needs smtp_username");
            settings.SmtpHost = request.SmtpHost;
            settings.SmtpPort = request.SmtpPort ?? 25;
            settings.SmtpUsername = request.SmtpUsername;
            settings.StartTls = request.StartTls ?? false;
            settings.From = request.From;
            settings.To = request.To?.ToList();
            settings.Target = $"{string.Join(", ", request.To ?? [])} via {request.SmtpHost}:{settings.SmtpPort}";
            if (request.Secret is not null)
            {
                secrets.Secret = request.Secret;
                stored.Add("password");
            }
        }

        if (!v.Ok) return v.Problem();
        settings.StoredSecrets = stored;
        var now = time.GetUtcNow();
        var row = new NotificationChannelRow
        {
            Id = Ids.New("nch"), TenantId = caller.TenantId, Name = request.Name, Kind = kind!, CreatedBy = caller.Actor, CreatedAt = now,
            Settings = JsonSerializer.Serialize(settings, NotificationJson.Default.ChannelSettings),
        };
        row.SealedSecrets = stored.Count == 0 ? null
            : box.Seal(JsonSerializer.Serialize(secrets, NotificationJson.Default.ChannelSecrets), NotificationChannelRow.SecretsAssociatedData(row.TenantId, row.Id));
        var conflict = await db.WriteAsync(async (c, tx) =>
        {
            if (await NotificationStore.FindChannelAsync(c, tx, caller.TenantId, request.Name) is not null) return true;
            await NotificationStore.InsertChannelAsync(c, tx, row);
            await audit.AppendAsync(c, tx, new AuditRecord(caller.TenantId, caller.Actor, "notification_channel.create", "notification_channel:" + row.Id, AuditOutcomes.Success,
                http.ClientAddress(), new Dictionary<string, string> { ["name"] = row.Name, ["kind"] = row.Kind, ["target"] = settings.Target ?? "", ["secrets"] = string.Join(",", stored) }));
            return false;
        }, ct);
        if (conflict) return Problems.Conflict($"A notification channel named '{request.Name}' already exists.", "choose another name, or remove the old channel with 'medic notify channels remove'");
        http.MarkAudited();
        return TypedResults.Created($"/api/v1/notification-channels/{row.Id}", row.ToResponse());
    }

    /// <summary>The name in a <c>secret:NAME</c> value (the tenant's named secret, read when sending), or null.</summary>
    private static string? NamedSecret(string? value) =>
        value is not null && value.StartsWith(NotificationSender.SecretPrefix, StringComparison.Ordinal) && Secrets.SecretNames.IsValid(value[NotificationSender.SecretPrefix.Length..])
            ? value[NotificationSender.SecretPrefix.Length..] : null;

    private static bool IsHttpUrl(string? url) => Uri.TryCreate(url, UriKind.Absolute, out var uri) && uri.Scheme is "http" or "https" && uri.Host.Length > 0;

    private static async Task<Results<Ok<NotificationChannelResponse>, ProblemHttpResult>> RemoveChannel(
        string id, Database db, AuditLog audit, TimeProvider time, HttpContext http, CancellationToken ct)
    {
        var caller = http.Caller();
        var (removed, usedBy) = await db.WriteAsync<(NotificationChannelRow?, string?)>(async (c, tx) =>
        {
            var channel = await NotificationStore.FindChannelAsync(c, tx, caller.TenantId, id);
            if (channel is null) return (null, null);
            var users = (await NotificationStore.RulesAsync(c, tx, caller.TenantId)).Where(r => r.ChannelIds.Contains(channel.Id)).Select(r => r.Name).ToList();
            if (users.Count > 0) return (channel, string.Join(", ", users));
            await NotificationStore.RemoveChannelAsync(c, tx, caller.TenantId, channel.Id, time.GetUtcNow());
            await audit.AppendAsync(c, tx, new AuditRecord(caller.TenantId, caller.Actor, "notification_channel.remove", "notification_channel:" + channel.Id, AuditOutcomes.Success,
                http.ClientAddress(), new Dictionary<string, string> { ["name"] = channel.Name, ["kind"] = channel.Kind }));
            return (channel, null);
        }, ct);
        if (removed is null) return Problems.NotFound("notification channel", id, "medic notify channels list");
        if (usedBy is not null)
        {
            return Problems.Conflict($"The channel '{removed.Name}' is used by the rule(s) {usedBy}.", "remove those rules first with 'medic notify rules remove NAME', then the channel");
        }

        http.MarkAudited();
        return TypedResults.Ok(removed.ToResponse());
    }

    private static async Task<Results<Ok<NotificationTestResponse>, ProblemHttpResult>> TestChannel(
        string id, NotificationStore store, NotificationSender sender, SecretBox box, AuditLog audit, TimeProvider time, HttpContext http, CancellationToken ct)
    {
        var caller = http.Caller();
        if (await store.FindChannelAsync(caller.TenantId, id, ct) is not { } channel) return Problems.NotFound("notification channel", id, "medic notify channels list");
        string? error = null;
        try
        {
            var message = new NotificationMessage(NotificationEvents.Test, null, null, null, time.GetUtcNow(), Ids.New("ntf"));
            await sender.SendAsync(channel, DeliveryJobHandler.Open(box, channel), message, ct);
        }
        catch (NotifyException e)
        {
            error = e.Message;
        }

        await audit.AppendAsync(new AuditRecord(caller.TenantId, caller.Actor, "notification_channel.test", "notification_channel:" + channel.Id,
            error is null ? AuditOutcomes.Success : AuditOutcomes.Failed, http.ClientAddress(),
            new Dictionary<string, string> { ["name"] = channel.Name, ["kind"] = channel.Kind, ["result"] = error ?? "delivered" }), ct);
        http.MarkAudited();
        return TypedResults.Ok(new NotificationTestResponse(channel.Name, error is null, error ?? "the receiver accepted the test message"));
    }

    private static async Task<Ok<IReadOnlyList<NotificationRuleResponse>>> ListRules(NotificationStore store, HttpContext http, CancellationToken ct)
    {
        var tenant = http.Caller().TenantId;
        var names = (await store.ChannelsAsync(tenant, ct)).ToDictionary(c => c.Id, c => c.Name, StringComparer.Ordinal);
        return TypedResults.Ok<IReadOnlyList<NotificationRuleResponse>>((await store.RulesAsync(tenant, ct)).Select(r => r.ToResponse(names)).ToList());
    }

    private static async Task<Results<Created<NotificationRuleResponse>, ProblemHttpResult, ValidationProblem>> CreateRule(
        CreateNotificationRuleRequest request, Database db, AuditLog audit, IncidentNotifier notifier, TimeProvider time, HttpContext http, CancellationToken ct)
    {
        var caller = http.Caller();
        var v = new Validator().Require("name", request.Name, 63).Optional("source", request.Source, 100).Optional("server", request.Server, 200);
        if (!string.IsNullOrEmpty(request.Name)) v.Check(ResourceNames.IsValid(request.Name), "name", "use lowercase letters, digits, '.', '_' and '-', such as critical-to-pager");
        v.Check(request.Channels is { Count: >= 1 and <= 20 }, "channels", "name 1 to 20 channels (see medic notify channels list)");
        v.Check(request.MinSeverity is null || Severities.All.Contains(request.MinSeverity), "min_severity", "use critical, warning or info");
        v.Check(request.RenotifySeverity is null || Severities.All.Contains(request.RenotifySeverity), "renotify_severity", "use critical, warning or info");
        foreach (var ev in request.Events ?? [])
        {
            v.Check(NotificationEvents.Routable.Contains(ev), "events", $"'{ev}' is not one of: {string.Join(", ", NotificationEvents.Routable)}");
        }

        v.Check(request.Labels is null || request.Labels.Count <= 20, "labels", "at most 20 labels");
        foreach (var (key, value) in request.Labels ?? new Dictionary<string, string>())
        {
            v.Require("labels." + key, key, 100).Optional("labels." + key, value, 1000);
        }

        var renotify = TimeSpan.FromMinutes(30);
        if (request.RenotifyEvery is "off" or "0") renotify = TimeSpan.Zero;
        else if (request.RenotifyEvery is not null && !(Durations.TryParse(request.RenotifyEvery, out renotify) && renotify >= TimeSpan.FromMinutes(1) && renotify <= TimeSpan.FromDays(7)))
        {
            v.Add("renotify_every", $"a duration from 1m to 7d, or off; {Duration.Hint}");
        }

        if (!v.Ok) return v.Problem();
        var now = time.GetUtcNow();
        var result = await db.WriteAsync<(NotificationRuleRow? Row, string? Missing, bool Conflict)>(async (c, tx) =>
        {
            var ids = new List<string>();
            foreach (var name in request.Channels.Distinct(StringComparer.Ordinal))
            {
                if (await NotificationStore.FindChannelAsync(c, tx, caller.TenantId, name) is not { } channel) return (null, name, false);
                ids.Add(channel.Id);
            }

            if (await NotificationStore.FindRuleAsync(c, tx, caller.TenantId, request.Name) is not null) return (null, null, true);
            var row = new NotificationRuleRow
            {
                Id = Ids.New("nrl"), TenantId = caller.TenantId, Name = request.Name, MinSeverity = request.MinSeverity ?? Severities.Info,
                Labels = JsonSerializer.Serialize(request.Labels?.ToDictionary(l => l.Key, l => l.Value, StringComparer.Ordinal) ?? [], NotificationJson.Default.DictionaryStringString),
                Source = request.Source, Server = request.Server,
                Events = JsonSerializer.Serialize((request.Events ?? NotificationEvents.Routable).Distinct(StringComparer.Ordinal).ToList(), NotificationJson.Default.ListString),
                Channels = JsonSerializer.Serialize(ids, NotificationJson.Default.ListString), RenotifySeconds = (int)renotify.TotalSeconds,
                RenotifySeverity = request.RenotifySeverity ?? Severities.Critical, CreatedBy = caller.Actor, CreatedAt = now,
            };
            await NotificationStore.InsertRuleAsync(c, tx, row);
            await audit.AppendAsync(c, tx, new AuditRecord(caller.TenantId, caller.Actor, "notification_rule.create", "notification_rule:" + row.Id, AuditOutcomes.Success,
                http.ClientAddress(), new Dictionary<string, string>
                {
                    ["name"] = row.Name, ["channels"] = string.Join(",", request.Channels), ["min_severity"] = row.MinSeverity, ["events"] = string.Join(",", row.EventList),
                    ["renotify_seconds"] = row.RenotifySeconds.ToString(CultureInfo.InvariantCulture),
                }));
            return (row, null, false);
        }, ct);
        if (result.Missing is not null) return Problems.NotFound("notification channel", result.Missing, "medic notify channels list");
        if (result.Conflict) return Problems.Conflict($"A notification rule named '{request.Name}' already exists.", "choose another name, or remove the old rule with 'medic notify rules remove'");
        http.MarkAudited();
        notifier.Watch(caller.TenantId);
        var channelNames = request.Channels.Distinct(StringComparer.Ordinal).Zip(result.Row!.ChannelIds).ToDictionary(p => p.Second, p => p.First, StringComparer.Ordinal);
        return TypedResults.Created($"/api/v1/notification-rules/{result.Row.Id}", result.Row.ToResponse(channelNames));
    }

    private static async Task<Results<Ok<NotificationRuleResponse>, ProblemHttpResult>> RemoveRule(
        string id, NotificationStore store, Database db, AuditLog audit, TimeProvider time, HttpContext http, CancellationToken ct)
    {
        var caller = http.Caller();
        var removed = await db.WriteAsync(async (c, tx) =>
        {
            var rule = await NotificationStore.FindRuleAsync(c, tx, caller.TenantId, id);
            if (rule is null) return null;
            await NotificationStore.RemoveRuleAsync(c, tx, caller.TenantId, rule.Id, time.GetUtcNow());
            await audit.AppendAsync(c, tx, new AuditRecord(caller.TenantId, caller.Actor, "notification_rule.remove", "notification_rule:" + rule.Id, AuditOutcomes.Success,
                http.ClientAddress(), new Dictionary<string, string> { ["name"] = rule.Name }));
            return rule;
        }, ct);
        if (removed is null) return Problems.NotFound("notification rule", id, "medic notify rules list");
        http.MarkAudited();
        var names = (await store.ChannelsAsync(caller.TenantId, ct)).ToDictionary(c => c.Id, c => c.Name, StringComparer.Ordinal);
        return TypedResults.Ok(removed.ToResponse(names));
    }

    private static async Task<Results<Ok<IReadOnlyList<NotificationDeliveryResponse>>, ValidationProblem>> Deliveries(NotificationStore store, HttpContext http, CancellationToken ct)
    {
        var q = http.Request.Query;
        var v = new Validator();
        var incident = q["incident"].ToString() is { Length: > 0 } i ? i : null;
        v.Optional("incident", incident, 200);
        var limit = 100;
        if (q["limit"].ToString() is { Length: > 0 } l && !(int.TryParse(l, NumberStyles.None, CultureInfo.InvariantCulture, out limit) && limit is >= 1 and <= 500))
        {
            v.Add("limit", "must be a whole number from 1 to 500");
        }

        if (!v.Ok) return v.Problem();
        return TypedResults.Ok(await store.DeliveriesAsync(http.Caller().TenantId, incident, limit, ct));
    }
}
