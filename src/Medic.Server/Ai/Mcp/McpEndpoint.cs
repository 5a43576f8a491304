using System.Threading.RateLimiting;
using Medic.Server.Auth;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.RateLimiting;
using ModelContextProtocol;
using ModelContextProtocol.Protocol;
using ModelContextProtocol.Server;

namespace Medic.Server.Ai.Mcp;

/// <summary>
/// Medic as an MCP server (docs/mcp.md): Streamable HTTP at <c>/mcp</c>, stateless, for API tokens
/// only (a console session or no credential gets 401), rate-limited per token. The tools are
/// <see cref="McpToolHost"/>'s: the curated AI tools the token's role allows, behind the same gate.
/// </summary>
internal static class McpEndpoint
{
    public const string Path = "/mcp";
    public const string Policy = "medic:mcp";
    public const string RateLimit = "mcp";

    /// <summary>Tool calls (MCP messages) per token per minute, on top of the API's own per-token limit.</summary>
    public const int CallsPerMinute = 120;

    public const string Instructions =
        "Medic keeps a fleet of Linux servers healthy. These tools read its servers, incidents, recipes, metrics and forecasts, and run read-only diagnostic verbs through the servers' agents. "
        + "Name the server (argument 'server') or the incident (argument 'incident') a tool is about. propose_remediation only proposes: the risk gate decides, and a person approves every MCP proposal; nothing here can approve or run a shell.";

    public static IServiceCollection AddMcpEndpoint(this IServiceCollection services)
    {
        services.AddSingleton<McpSessions>();
        services.AddHostedService(sp => sp.GetRequiredService<McpSessions>());
        services.AddSingleton<McpToolHost>();
        services.AddHttpContextAccessor();
        services.AddMcpServer(o =>
            {
                o.ServerInfo = new Implementation { Name = "medic", Version = typeof(McpEndpoint).Assembly.GetName().Version?.ToString(3) ?? "0" };
                o.ServerInstructions = Instructions;
            })
            .WithHttpTransport(o => o.Stateless = true)
            .WithListToolsHandler((request, _) => ValueTask.FromResult(Host(request).List(Caller(request))))
            .WithCallToolHandler(async (request, ct) =>
            {
                var http = request.Services!.GetRequiredService<IHttpContextAccessor>().HttpContext;
                return await Host(request).CallAsync(Caller(request), request.Params!.Name, request.Params.Arguments, http?.ClientAddress(), ct);
            });
        services.AddAuthorizationBuilder().AddPolicy(Policy, b => b
            .AddAuthenticationSchemes(TokenAuthenticationHandler.SchemeName)
            .RequireAuthenticatedUser()
            .AddRequirements(new PermissionRequirement(Permission.Read)));
        services.Configure<RateLimiterOptions>(o => o.AddPolicy(RateLimit, http => RateLimitPartition.GetFixedWindowLimiter(
            "mcp:" + (Auth.Caller.From(http.User)?.TokenId ?? http.ClientAddress() ?? "unknown"),
            _ => new FixedWindowRateLimiterOptions { PermitLimit = CallsPerMinute, Window = TimeSpan.FromMinutes(1), QueueLimit = 0 })));
        return services;
    }

    public static IEndpointRouteBuilder MapMcpEndpoint(this IEndpointRouteBuilder app)
    {
        app.MapMcp(Path).RequireAuthorization(Policy).RequireRateLimiting(RateLimit).WithTags("MCP");
        return app;
    }

    private static McpToolHost Host<T>(RequestContext<T> request) => request.Services!.GetRequiredService<McpToolHost>();

    // The endpoint requires an API token, so a request without a caller cannot get here; refuse rather than guess.
    private static Caller Caller<T>(RequestContext<T> request) => Auth.Caller.From(request.User)
        ?? throw new McpProtocolException("This MCP endpoint needs an API token (Authorization: Bearer mdt_...).", McpErrorCode.InvalidRequest);
}
