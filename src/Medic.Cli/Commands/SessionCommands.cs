using System.CommandLine;
using Medic.Contracts;

namespace Medic.Cli.Commands;

/// <summary><c>login</c>, <c>logout</c>, <c>whoami</c> and <c>context</c>.</summary>
internal static class SessionCommands
{
    public static IEnumerable<Command> All() => [Login(), Logout(), WhoAmI(), Context()];

    private static Command Login()
    {
        var server = new Option<string>("--server") { Description = "Control plane URL, e.g. https://medic.example.com", Required = true };
        var user = new Option<string>("--user") { Description = "Username", DefaultValueFactory = _ => "admin" };
        var tenant = new Option<string?>("--tenant") { Description = "Tenant slug (only needed when the username exists in several tenants)" };
        var passwordStdin = new Option<bool>("--password-stdin") { Description = "Read the password from standard input" };
        var contextName = new Option<string?>("--name") { Description = "Name of the context to save (default: the server's host)" };
        var expires = new Option<string?>("--expires") { Description = "Token lifetime, e.g. 30d (default: the server's default, 90d)" };
        var command = new Command("login", "Log in to a Medic server and save the token as a CLI context")
        {
            server, user, tenant, passwordStdin, contextName, expires,
        };
        command.SetAction(async (parse, ct) =>
        {
            var url = parse.GetValue(server)!.TrimEnd('/');
            var username = parse.GetValue(user)!;
            var password = parse.GetValue(passwordStdin) ? Shared.ReadSecretFromStdin("password") : Shared.PromptSecret($"Password for {username}: ");
            using var client = new ApiClient(url, null);
            var created = await client.SendAsync(HttpMethod.Post, "/api/v1/auth/token",
                new TokenLoginRequest(username, password, parse.GetValue(tenant), $"medic CLI on {Environment.MachineName}", parse.GetValue(expires)),
                MedicJson.Default.TokenLoginRequest, ApiClient.Json.TokenCreatedResponse, ct);

            using var authed = new ApiClient(url, created.Secret);
            var me = await authed.GetAsync("/api/v1/whoami", ApiClient.Json.WhoAmIResponse, ct);

            var path = CliConfig.DefaultPath();
            var config = CliConfig.Load(path);
            var name = parse.GetValue(contextName) ?? parse.GetValue(Shared.ContextOption) ?? new Uri(url).Host;
            config.Contexts[name] = new CliContext { Server = url, Token = created.Secret, User = me.Username, Tenant = me.TenantSlug, TokenId = created.Token.Id };
            config.CurrentContext = name;
            config.Save(path);
            Console.Out.WriteLine($"Logged in to {url} as {me.Username} (tenant {me.TenantSlug}, role {me.Role.ToWire()}); token expires {Output.Time(created.Token.ExpiresAt)} UTC.");
            Console.Out.WriteLine($"Saved as context '{name}' in {path}.");
            return ExitCodes.Ok;
        });
        return command;
    }

    private static Command Logout()
    {
        var command = new Command("logout", "Revoke the context's token on the server and forget the context");
        command.SetAction(async (parse, ct) =>
        {
            var session = Shared.RequireSession(parse);
            try
            {
                using var client = session.Client(TimeSpan.FromSeconds(15));
                var me = await client.GetAsync("/api/v1/whoami", ApiClient.Json.WhoAmIResponse, ct);
                if (me.TokenId is not null)
                {
                    using var response = await client.SendRawAsync(new HttpRequestMessage(HttpMethod.Delete, "/api/v1/tokens/" + Shared.Escape(me.TokenId)), ct);
                }
            }
            catch (CliException ex)
            {
                Console.Error.WriteLine($"warning: the token was not revoked on the server ({ex.Message}); the context is removed anyway");
            }

            session.Config.Contexts.Remove(session.Name);
            if (session.Config.CurrentContext == session.Name) session.Config.CurrentContext = null;
            session.Config.Save(session.ConfigPath);
            Console.Out.WriteLine($"Logged out of context '{session.Name}'.");
            return ExitCodes.Ok;
        });
        return command;
    }

    private static Command WhoAmI()
    {
        var json = Shared.JsonOption();
        var command = new Command("whoami", "Show the user, tenant and role of the current context") { json };
        command.SetAction(async (parse, ct) =>
        {
            var session = Shared.RequireSession(parse);
            using var client = session.Client();
            var me = await client.GetAsync("/api/v1/whoami", ApiClient.Json.WhoAmIResponse, ct);
            if (parse.GetValue(json))
            {
                Output.Json(me, ApiClient.Json.WhoAmIResponse);
                return ExitCodes.Ok;
            }

            Console.Out.WriteLine($"user:     {me.Username}{(me.Superadmin ? " (superadmin)" : "")}");
            Console.Out.WriteLine($"tenant:   {me.TenantSlug}");
            Console.Out.WriteLine($"role:     {me.Role.ToWire()}");
            Console.Out.WriteLine($"server:   {session.Context.Server} (context {session.Name})");
            Console.Out.WriteLine($"auth:     {me.AuthMethod}{(me.TokenExpiresAt is { } exp ? $", expires {Output.Time(exp)} UTC" : "")}");
            return ExitCodes.Ok;
        });
        return command;
    }

    private static Command Context()
    {
        var json = Shared.JsonOption();
        var list = new Command("list", "List the saved contexts") { json };
        list.SetAction(parse =>
        {
            var path = CliConfig.DefaultPath();
            var config = CliConfig.Load(path);
            if (parse.GetValue(json))
            {
                Console.Out.WriteLine(System.Text.Json.JsonSerializer.Serialize(
                    config.Contexts.Select(kv => new ContextView(kv.Key, kv.Key == config.CurrentContext, kv.Value.Server, kv.Value.User, kv.Value.Tenant)).ToList(),
                    ContextViewJson.Default.ListContextView));
                return ExitCodes.Ok;
            }

            Output.Table(["CURRENT", "NAME", "SERVER", "USER", "TENANT"],
                config.Contexts.OrderBy(kv => kv.Key, StringComparer.Ordinal).Select(kv => (IReadOnlyList<string?>)
                    [kv.Key == config.CurrentContext ? "*" : "", kv.Key, kv.Value.Server, kv.Value.User, kv.Value.Tenant]));
            return ExitCodes.Ok;
        });

        var name = new Argument<string>("name") { Description = "Context name" };
        var use = new Command("use", "Make a context the current one") { name };
        use.SetAction(parse =>
        {
            var path = CliConfig.DefaultPath();
            var config = CliConfig.Load(path);
            var wanted = parse.GetValue(name)!;
            if (!config.Contexts.ContainsKey(wanted))
            {
                throw new CliException($"no context named '{wanted}'", "run 'medic context list' to see the contexts", ExitCodes.NotFound);
            }

            config.CurrentContext = wanted;
            config.Save(path);
            Console.Out.WriteLine($"Current context is now '{wanted}'.");
            return ExitCodes.Ok;
        });
        return new Command("context", "Manage saved CLI contexts (server + credential)") { list, use };
    }
}

internal sealed record ContextView(string Name, bool Current, string Server, string? User, string? Tenant);

[System.Text.Json.Serialization.JsonSourceGenerationOptions(PropertyNamingPolicy = System.Text.Json.Serialization.JsonKnownNamingPolicy.SnakeCaseLower, WriteIndented = true)]
[System.Text.Json.Serialization.JsonSerializable(typeof(List<ContextView>))]
internal sealed partial class ContextViewJson : System.Text.Json.Serialization.JsonSerializerContext;
