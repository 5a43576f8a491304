using System.CommandLine;
using Medic.Contracts;

namespace Medic.Cli.Commands;

/// <summary><c>tenants</c>, <c>users</c> and <c>tokens</c>.</summary>
internal static class AdminCommands
{
    private static readonly string[] TokenColumns = ["ID", "NAME", "ROLE", "OWNER", "PREFIX", "CREATED", "EXPIRES", "LAST USED", "STATE"];

    public static Command Tenants()
    {
        var json = Shared.JsonOption();
        var list = new Command("list", "List tenants (superadmins)") { json };
        list.SetAction(async (parse, ct) =>
        {
            using var client = Shared.RequireSession(parse).Client();
            var tenants = await client.GetAsync("/api/v1/tenants", ApiClient.Json.IReadOnlyListTenantResponse, ct);
            if (parse.GetValue(json)) Output.Json(tenants, ApiClient.Json.IReadOnlyListTenantResponse);
            else Output.Table(["SLUG", "NAME", "ID", "CREATED"], tenants.Select(t => (IReadOnlyList<string?>)[t.Slug, t.Name, t.Id, Output.Time(t.CreatedAt)]));
            return ExitCodes.Ok;
        });

        var slug = new Argument<string>("slug") { Description = "Short lowercase name: letters, digits and '-'" };
        var name = new Option<string?>("--name") { Description = "Display name (default: the slug)" };
        var admin = new Option<string?>("--admin") { Description = "Also create this tenant's first admin user; its password is printed once" };
        var createJson = Shared.JsonOption();
        var create = new Command("create", "Create a tenant (superadmins)") { slug, name, admin, createJson };
        create.SetAction(async (parse, ct) =>
        {
            using var client = Shared.RequireSession(parse).Client();
            var created = await client.SendAsync(HttpMethod.Post, "/api/v1/tenants",
                new CreateTenantRequest(parse.GetValue(slug)!, parse.GetValue(name), parse.GetValue(admin), null),
                MedicJson.Default.CreateTenantRequest, ApiClient.Json.TenantCreatedResponse, ct);
            if (parse.GetValue(createJson))
            {
                Output.Json(created, ApiClient.Json.TenantCreatedResponse);
                return ExitCodes.Ok;
            }

            Console.Out.WriteLine($"Created tenant '{created.Tenant.Slug}' ({created.Tenant.Id}).");
            if (created.Admin is not null)
            {
                Console.Out.WriteLine($"Admin user '{created.Admin.Username}' password (shown once): {created.AdminPassword}");
                Console.Out.WriteLine($"They log in with: medic login --server URL --user {created.Admin.Username} --tenant {created.Tenant.Slug}");
            }

            return ExitCodes.Ok;
        });
        return new Command("tenants", "Manage tenants (superadmins)") { list, create };
    }

    public static Command Users()
    {
        var json = Shared.JsonOption();
        var list = new Command("list", "List the tenant's users") { json };
        list.SetAction(async (parse, ct) =>
        {
            using var client = Shared.RequireSession(parse).Client();
            var users = await client.GetAsync("/api/v1/users", ApiClient.Json.IReadOnlyListUserResponse, ct);
            if (parse.GetValue(json)) Output.Json(users, ApiClient.Json.IReadOnlyListUserResponse);
            else Output.Table(["USERNAME", "ROLE", "STATE", "LAST LOGIN", "ID"], users.Select(u => (IReadOnlyList<string?>)
                [u.Username, u.Role.ToWire() + (u.Superadmin ? " (superadmin)" : ""), u.Disabled ? "disabled" : "active", Output.Time(u.LastLoginAt), u.Id]));
            return ExitCodes.Ok;
        });

        var username = new Argument<string>("username");
        var role = RoleOption("Role in the tenant", Role.Viewer);
        var displayName = new Option<string?>("--display-name") { Description = "Full name shown in the console" };
        var passwordStdin = new Option<bool>("--password-stdin") { Description = "Read the password from standard input (otherwise one is generated and printed once)" };
        var addJson = Shared.JsonOption();
        var add = new Command("add", "Add a user to the tenant (admins)") { username, role, displayName, passwordStdin, addJson };
        add.SetAction(async (parse, ct) =>
        {
            var password = parse.GetValue(passwordStdin) ? Shared.ReadSecretFromStdin("password") : null;
            using var client = Shared.RequireSession(parse).Client();
            var created = await client.SendAsync(HttpMethod.Post, "/api/v1/users",
                new CreateUserRequest(parse.GetValue(username)!, parse.GetValue(role), password, parse.GetValue(displayName)),
                MedicJson.Default.CreateUserRequest, ApiClient.Json.UserCreatedResponse, ct);
            if (parse.GetValue(addJson))
            {
                Output.Json(created, ApiClient.Json.UserCreatedResponse);
                return ExitCodes.Ok;
            }

            Console.Out.WriteLine($"Added user '{created.User.Username}' with role {created.User.Role.ToWire()} ({created.User.Id}).");
            if (created.GeneratedPassword is not null)
            {
                Console.Out.WriteLine($"Password (shown once): {created.GeneratedPassword}");
            }

            return ExitCodes.Ok;
        });

        var roleUser = new Argument<string>("username");
        var newRole = new Argument<string>("role") { Description = RoleNames.All };
        var setRole = new Command("set-role", "Change a user's role (admins)") { roleUser, newRole };
        setRole.SetAction(async (parse, ct) =>
        {
            if (!RoleNames.TryParse(parse.GetValue(newRole), out var r) || r == Role.Metrics)
            {
                throw new CliException($"'{parse.GetValue(newRole)}' is not a role", $"use one of: {RoleNames.All}");
            }

            using var client = Shared.RequireSession(parse).Client();
            var user = await client.SendAsync(HttpMethod.Put, $"/api/v1/users/{Shared.Escape(parse.GetValue(roleUser)!)}/role",
                new SetRoleRequest(r), MedicJson.Default.SetRoleRequest, ApiClient.Json.UserResponse, ct);
            Console.Out.WriteLine($"User '{user.Username}' now has role {user.Role.ToWire()}.");
            return ExitCodes.Ok;
        });

        var resetUser = new Argument<string>("username");
        var resetStdin = new Option<bool>("--password-stdin") { Description = "Read the new password from standard input (otherwise one is generated and printed once)" };
        var reset = new Command("reset-password", "Set a new password for a user (admins)") { resetUser, resetStdin };
        reset.SetAction(async (parse, ct) =>
        {
            var password = parse.GetValue(resetStdin) ? Shared.ReadSecretFromStdin("password") : null;
            using var client = Shared.RequireSession(parse).Client();
            var result = await client.SendAsync(HttpMethod.Post, $"/api/v1/users/{Shared.Escape(parse.GetValue(resetUser)!)}/password",
                new ResetPasswordRequest(password), MedicJson.Default.ResetPasswordRequest, ApiClient.Json.UserCreatedResponse, ct);
            Console.Out.WriteLine($"Set a new password for '{result.User.Username}'.");
            if (result.GeneratedPassword is not null) Console.Out.WriteLine($"Password (shown once): {result.GeneratedPassword}");
            return ExitCodes.Ok;
        });

        return new Command("users", "Manage the tenant's users") { list, add, setRole, reset, StateCommand("disable"), StateCommand("enable") };
    }

    private static Command StateCommand(string verb)
    {
        var username = new Argument<string>("username");
        var command = new Command(verb, verb == "disable" ? "Disable a user: their sessions and tokens stop working (admins)" : "Enable a disabled user (admins)") { username };
        command.SetAction(async (parse, ct) =>
        {
            using var client = Shared.RequireSession(parse).Client();
            var user = await client.SendAsync(new HttpRequestMessage(HttpMethod.Post, $"/api/v1/users/{Shared.Escape(parse.GetValue(username)!)}/{verb}"),
                ApiClient.Json.UserResponse, ct);
            Console.Out.WriteLine($"User '{user.Username}' is {(user.Disabled ? "disabled" : "enabled")}.");
            return ExitCodes.Ok;
        });
        return command;
    }

    public static Command Tokens()
    {
        var name = new Option<string>("--name") { Description = "What the token is for, e.g. 'ci deploy'", Required = true };
        var role = RoleOption("Role of the token (default: yours; at most yours; 'metrics' scrapes /metrics only, superadmins)", null, forToken: true);
        var expires = new Option<string?>("--expires") { Description = "Lifetime, e.g. 12h, 30d (default 90d)" };
        var createJson = Shared.JsonOption();
        var create = new Command("create", "Create an API token; the secret is printed once") { name, role, expires, createJson };
        create.SetAction(async (parse, ct) =>
        {
            using var client = Shared.RequireSession(parse).Client();
            var created = await client.SendAsync(HttpMethod.Post, "/api/v1/tokens",
                new CreateTokenRequest(parse.GetValue(name)!, parse.GetValue(role), parse.GetValue(expires)),
                MedicJson.Default.CreateTokenRequest, ApiClient.Json.TokenCreatedResponse, ct);
            if (parse.GetValue(createJson))
            {
                Output.Json(created, ApiClient.Json.TokenCreatedResponse);
                return ExitCodes.Ok;
            }

            var t = created.Token;
            Console.Out.WriteLine($"Created token {t.Id} '{t.Name}' (role {t.Role.ToWire()}, expires {Output.Time(t.ExpiresAt)} UTC).");
            Console.Out.WriteLine("Secret (shown once; send it as 'Authorization: Bearer <secret>'):");
            Console.Out.WriteLine(created.Secret);
            return ExitCodes.Ok;
        });

        var json = Shared.JsonOption();
        var list = new Command("list", "List API tokens (admins see the whole tenant's)") { json };
        list.SetAction(async (parse, ct) =>
        {
            using var client = Shared.RequireSession(parse).Client();
            var tokens = await client.GetAsync("/api/v1/tokens", ApiClient.Json.IReadOnlyListTokenResponse, ct);
            if (parse.GetValue(json))
            {
                Output.Json(tokens, ApiClient.Json.IReadOnlyListTokenResponse);
                return ExitCodes.Ok;
            }

            var now = DateTimeOffset.UtcNow;
            Output.Table(TokenColumns, tokens.Select(t => (IReadOnlyList<string?>)
            [
                t.Id, t.Name, t.Role.ToWire(), t.Username, t.Prefix + "…", Output.Time(t.CreatedAt), Output.Time(t.ExpiresAt), Output.Time(t.LastUsedAt),
                t.RevokedAt is not null ? "revoked" : t.ExpiresAt <= now ? "expired" : "active",
            ]));
            return ExitCodes.Ok;
        });

        var id = new Argument<string>("id") { Description = "Token id (tok_…), from 'medic tokens list'" };
        var revoke = new Command("revoke", "Revoke an API token") { id };
        revoke.SetAction(async (parse, ct) =>
        {
            using var client = Shared.RequireSession(parse).Client();
            var token = await client.SendAsync(new HttpRequestMessage(HttpMethod.Delete, "/api/v1/tokens/" + Shared.Escape(parse.GetValue(id)!)), ApiClient.Json.TokenResponse, ct);
            Console.Out.WriteLine($"Revoked token {token.Id} '{token.Name}'.");
            return ExitCodes.Ok;
        });
        return new Command("tokens", "Manage API tokens for the CLI and CI") { create, list, revoke };
    }

    private static Option<Role?> RoleOption(string description, Role? fallback, bool forToken = false) => new("--role")
    {
        Description = $"{description}: {(forToken ? RoleNames.ForTokens : RoleNames.All)}",
        DefaultValueFactory = _ => fallback,
        CustomParser = result =>
        {
            var text = result.Tokens.Count > 0 ? result.Tokens[0].Value : null;
            if (RoleNames.TryParse(text, out var r) && (forToken || r != Role.Metrics)) return r;
            result.AddError($"'{text}' is not a role{(forToken ? "" : " a user can hold")}; use one of: {(forToken ? RoleNames.ForTokens : RoleNames.All)}");
            return null;
        },
    };
}
