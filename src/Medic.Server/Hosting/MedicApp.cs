using System.Text.Json;
using System.Threading.RateLimiting;
using Medic.Contracts;
using Medic.Server.Ai;
using Medic.Server.Ai.Providers;
using Medic.Server.Audit;
using Medic.Server.Backup;
using Medic.Server.Common;
using Medic.Server.Detection.Webhooks;
using Medic.Server.Detection;
using Medic.Server.Fleet;
using Medic.Server.Fleet.Install;
using Medic.Server.Gateway;
using Medic.Server.Detection.Checks;
using Medic.Server.Detection.Monitors;
using Medic.Server.Incidents;
using Medic.Server.Notifications;
using Medic.Server.Auth;
using Medic.Server.Pipeline;
using Medic.Server.Reports;
using Medic.Server.Runbooks;
using Medic.Server.Secrets;
using Medic.Server.Silences;
using Medic.Server.Storage;
using Medic.Server.Telemetry;
using Medic.Server.Tenancy;
using Medic.Server.Web;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.Cookies;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.AspNetCore.Diagnostics;
using Microsoft.AspNetCore.HttpOverrides;
using Microsoft.AspNetCore.Identity;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.RateLimiting;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace Medic.Server.Hosting;

/// <summary>Builds the control plane: services, middleware and every capability's endpoints.</summary>
public static partial class MedicApp
{
    public const string ApiRateLimit = "api";

    /// <param name="time">The clock every service reads; the system clock unless a test passes a fake one.</param>
    public static WebApplication Build(MedicOptions options, Action<ILoggingBuilder>? logging = null, TimeProvider? time = null)
    {
        PrivateFiles.CreateDirectory(options.DataDir);
        PrivateFiles.CreateDirectory(Path.Combine(options.DataDir, "keys"));
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions
        {
            ContentRootPath = AppContext.BaseDirectory,
            EnvironmentName = Environments.Production,
        });
        // The console's scripts and styles: from the build's manifest (NuGet cache, obj/) or, when published, from wwwroot/.
        builder.WebHost.UseStaticWebAssets();
        builder.WebHost.UseUrls(options.Listen.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));
        builder.WebHost.ConfigureKestrel(k =>
        {
            k.AddServerHeader = false;
            k.Limits.MaxRequestBodySize = 1024 * 1024;
        });
        builder.Logging.ClearProviders();
        if (logging is null)
        {
            builder.Logging.AddSimpleConsole(o => { o.SingleLine = true; o.TimestampFormat = "HH:mm:ss "; });
            builder.Logging.SetMinimumLevel(LogLevel.Information);
            builder.Logging.AddFilter("Microsoft", LogLevel.Warning);
            // Start-up failures (a port in use) are reported once by the caller, without a stack trace.
            builder.Logging.AddFilter("Microsoft.Extensions.Hosting", LogLevel.None);
            // Session keys sit unencrypted in the 0700 data directory, like the master key; see docs/security.md.
            builder.Logging.AddFilter("Microsoft.AspNetCore.DataProtection", LogLevel.Error);
            // Bad requests are answered with problem details; real failures are logged once by HandleException.
            builder.Logging.AddFilter("Microsoft.AspNetCore.Diagnostics.ExceptionHandlerMiddleware", LogLevel.None);
        }
        else
        {
            logging(builder.Logging);
        }

        var services = builder.Services;
        services.Configure<HostOptions>(o => o.ShutdownTimeout = TimeSpan.FromSeconds(10));
        services.AddSingleton(Options.Create(options));
        services.AddSingleton(time ?? TimeProvider.System);
        services.AddMetricsExport();
        services.AddStorage(options);
        services.AddSecrets(options.MasterKeyPath);
        services.AddAudit(options);
        services.AddTenancy();
        services.AddAuth();
        services.AddSingleton<Bootstrap>();
        services.AddFleet(options);
        services.AddInstall();
        services.AddGateway();
        services.AddIncidents();
        services.AddDetection();
        services.AddSilences();
        services.AddNotifications();
        services.AddRunbooks();
        services.AddPipeline();
        services.AddReports();
        services.AddAi();
        services.AddConsole();
        services.AddBackup();

        services.ConfigureHttpJsonOptions(o => ConfigureJson(o.SerializerOptions));
        services.Configure<RouteHandlerOptions>(o => o.ThrowOnBadRequest = true);
        services.AddProblemDetails(o => o.CustomizeProblemDetails = c =>
        {
            c.ProblemDetails.Instance ??= c.HttpContext.Request.Path;
            c.ProblemDetails.Detail ??= DefaultDetail(c.ProblemDetails.Status ?? 500, c.HttpContext.Request);
            c.ProblemDetails.Extensions.TryAdd("remedy", DefaultRemedy(c.ProblemDetails.Status ?? 500));
        });
        services.AddOpenApi("v1");

        services.AddDataProtection().SetApplicationName("medic").PersistKeysToFileSystem(new DirectoryInfo(Path.Combine(options.DataDir, "keys")));
        services.AddAntiforgery(o => { o.Cookie.Name = "medic.af"; o.Cookie.SameSite = SameSiteMode.Strict; o.Cookie.SecurePolicy = CookieSecurePolicy.SameAsRequest; });
        services.Configure<Microsoft.AspNetCore.Antiforgery.AntiforgeryOptions>(o => o.HeaderName = SessionForgeryGuard.HeaderName);
        services.AddAuthentication("medic")
            .AddPolicyScheme("medic", "API token or console session", o => o.ForwardDefaultSelector =
                http => string.IsNullOrEmpty(http.Request.Headers.Authorization) || http.Request.Path.StartsWithSegments("/agent", StringComparison.Ordinal)
                    || http.Request.Path.StartsWithSegments(WebhooksApi.DeliveryPath, StringComparison.Ordinal)
                    ? CookieAuthenticationDefaults.AuthenticationScheme // agent endpoints and alert webhooks check their own credentials
                    : TokenAuthenticationHandler.SchemeName)
            .AddScheme<AuthenticationSchemeOptions, TokenAuthenticationHandler>(TokenAuthenticationHandler.SchemeName, null)
            .AddCookie(CookieAuthenticationDefaults.AuthenticationScheme, o => SessionCookie.Configure(o));
        services.AddAuthorization(o => o.AddMedicPolicies());
        services.AddSingleton<IAuthorizationHandler, PermissionHandler>();
        services.AddSingleton<IAuthorizationMiddlewareResultHandler, ProblemAuthorizationResultHandler>();
        services.AddRateLimiter(o => ConfigureRateLimits(o, options.RateLimits));

        if (options.TrustedProxies.Count > 0)
        {
            services.Configure<ForwardedHeadersOptions>(o =>
            {
                o.ForwardedHeaders = ForwardedHeaders.XForwardedFor | ForwardedHeaders.XForwardedProto;
                o.KnownIPNetworks.Clear();
                o.KnownProxies.Clear();
                foreach (var proxy in options.TrustedProxies) o.KnownProxies.Add(System.Net.IPAddress.Parse(proxy));
            });
        }

        var app = builder.Build();
        if (options.TrustedProxies.Count > 0)
        {
            app.UseForwardedHeaders();
        }

        app.UseMiddleware<SecurityHeaders>();
        app.UseExceptionHandler(new ExceptionHandlerOptions { ExceptionHandler = HandleException, StatusCodeSelector = ErrorStatus.For });
        app.UseStatusCodePages();
        app.UseWebSockets(new WebSocketOptions { KeepAliveInterval = TimeSpan.FromSeconds(30) });
        app.UseRouting();
        app.UseAuthentication();
        app.UseRateLimiter();
        app.UseMiddleware<AuditMiddleware>();
        app.UseMiddleware<SessionForgeryGuard>();
        app.UseAuthorization();
        app.UseAntiforgery();

        app.MapOpenApi("/openapi/{documentName}.json").AllowAnonymous();
        app.MapHealth();
        app.MapAuth();
        app.MapTenants();
        app.MapUsers();
        app.MapTokens();
        app.MapAudit();
        app.MapEnrollment();
        app.MapInstall();
        app.MapServers();
        app.MapDiag();
        app.MapExec();
        app.MapIncidents();
        app.MapChecks();
        app.MapMonitors();
        app.MapNotifications();
        app.MapRunbooks();
        app.MapPipeline();
        app.MapIncidentReports();
        app.MapAi();
        app.MapAgentGateway();
        app.MapWebhooks();
        app.MapSilences();
        app.MapSecrets();
        app.MapBackup();
        app.MapConsole();
        app.MapConsolePages();
        app.MapMetrics();
        return app;
    }

    /// <summary>Loads the master key and applies migrations; call before the app starts serving.</summary>
    public static async Task PrepareAsync(IServiceProvider services, CancellationToken ct = default)
    {
        // Before anything opens the database or creates a key: a corrupted or vanished database must not start.
        await StartupChecks.VerifyDatabaseAsync(services.GetRequiredService<Database>(), services.GetRequiredService<IOptions<MedicOptions>>().Value, ct);
        _ = services.GetRequiredService<MasterKey>();
        _ = services.GetRequiredService<TaskSigningKey>();
        _ = services.GetRequiredService<AuditCheckpointKey>();
        await services.GetRequiredService<Migrator>().ApplyAsync(ct);
        await services.GetRequiredService<Executions>().MarkInterruptedAsync(ct);
        await services.GetRequiredService<RunbookRunner>().MarkInterruptedAsync(ct);
        await services.GetRequiredService<RunbookLibrary>().InstallAsync(ct);
        if (services.GetRequiredService<Database>().SqlitePath is { } file)
        {
            // SQLite creates these with the process umask; they hold password hashes and the audit log.
            foreach (var path in new[] { file, file + "-wal", file + "-shm" }) PrivateFiles.Narrow(path);
        }
    }

    public static void ConfigureJson(JsonSerializerOptions o)
    {
        o.TypeInfoResolverChain.Insert(0, MedicJson.Default);
        o.TypeInfoResolverChain.Insert(1, AiModelsJson.Default);
        o.PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower;
        o.UnmappedMemberHandling = System.Text.Json.Serialization.JsonUnmappedMemberHandling.Disallow;
        o.RespectNullableAnnotations = true;
        o.RespectRequiredConstructorParameters = true;
        o.MaxDepth = 32;
    }

    /// <summary>For the problems the framework raises without a detail (no route, wrong method, body too large or not JSON).</summary>
    private static string DefaultDetail(int status, HttpRequest request) => status switch
    {
        404 => $"Nothing is served at {request.Method} {request.Path}.",
        405 => $"{request.Path} does not accept {request.Method}.",
        413 => "The request body is larger than 1 MiB.",
        415 => $"The body's media type ({request.ContentType ?? "none"}) is not supported.",
        _ => Microsoft.AspNetCore.WebUtilities.ReasonPhrases.GetReasonPhrase(status),
    };

    private static string DefaultRemedy(int status) => status switch
    {
        400 => "correct the request as the detail says and send it again",
        401 => "log in with 'medic login --server URL' or send a valid API token",
        403 => "ask a tenant admin for a role that allows this",
        404 => "check the id or path; list resources to find valid ids",
        405 => "use one of the methods in the Allow header",
        409 => "resolve the conflict the detail names and try again",
        413 => "send a smaller body; the limit is 1 MiB",
        415 => "send the body as application/json",
        429 => "wait for the number of seconds in Retry-After, then try again",
        503 => StorageFaults.Remedy,
        >= 500 => "try again; if it persists, check the server log for the trace id",
        _ => "see the detail",
    };

    private static void ConfigureRateLimits(RateLimiterOptions o, RateLimitOptions limits)
    {
        o.RejectionStatusCode = StatusCodes.Status429TooManyRequests;
        o.AddPolicy(Fleet.EnrollmentApi.EnrollRateLimit, http => RateLimitPartition.GetFixedWindowLimiter(
            "enroll:" + (http.Connection.RemoteIpAddress?.ToString() ?? "unknown"),
            _ => new FixedWindowRateLimiterOptions { PermitLimit = 60, Window = TimeSpan.FromMinutes(1), QueueLimit = 0 }));
        o.AddPolicy(AuthApi.LoginRateLimit, http => RateLimitPartition.GetFixedWindowLimiter(
            "login:" + (http.Connection.RemoteIpAddress?.ToString() ?? "unknown"),
            _ => new FixedWindowRateLimiterOptions { PermitLimit = limits.LoginPerMinute, Window = TimeSpan.FromMinutes(1), QueueLimit = 0 }));
        o.GlobalLimiter = PartitionedRateLimiter.Create<HttpContext, string>(http =>
        {
            // Per credential: an API token, or a console session's user.
            var caller = Caller.From(http.User);
            return caller is null
                ? RateLimitPartition.GetNoLimiter("anonymous")
                : RateLimitPartition.GetFixedWindowLimiter(caller.TokenId ?? caller.UserId,
                    _ => new FixedWindowRateLimiterOptions { PermitLimit = limits.ApiPerMinute, Window = TimeSpan.FromMinutes(1), QueueLimit = 0 });
        });
        o.OnRejected = async (context, ct) =>
        {
            var seconds = context.Lease.TryGetMetadata(MetadataName.RetryAfter, out var retry) ? Math.Max(1, (int)Math.Ceiling(retry.TotalSeconds)) : 60;
            context.HttpContext.Response.Headers.RetryAfter = seconds.ToString(System.Globalization.CultureInfo.InvariantCulture);
            if (Web.ConsolePages.IsSignInForm(context.HttpContext.Request))
            {
                // A person at the sign-in form gets the form back with the reason, not a JSON document.
                context.HttpContext.Response.Redirect(Web.ConsolePages.TooManyAttemptsPath);
                return;
            }

            await Problems.WriteAsync(context.HttpContext, StatusCodes.Status429TooManyRequests, "Too many requests",
                $"The rate limit for this endpoint was reached; try again in {seconds} s.", $"wait {seconds} seconds before retrying");
        };
    }

    private static async Task HandleException(HttpContext http)
    {
        var ex = http.Features.Get<IExceptionHandlerFeature>()?.Error;
        var status = ex is null ? 500 : ErrorStatus.For(ex);
        http.Response.StatusCode = status;
        string detail;
        if (status == 500)
        {
            detail = $"The server failed to handle the request (trace id {http.TraceIdentifier}).";
            LogUnhandled(http.RequestServices.GetRequiredService<ILoggerFactory>().CreateLogger("Medic.Server"), ex, http.Request.Path, http.TraceIdentifier);
        }
        else if (status == 503)
        {
            detail = StorageFaults.Describe(ex!);
            StorageFaults.WriteRefused(http.RequestServices.GetRequiredService<ILoggerFactory>().CreateLogger("Medic.Server"), http.Request.Path, http.TraceIdentifier, ex!.Message);
        }
        else if (status == 409)
        {
            detail = "The change conflicts with data that already exists (a unique name is taken).";
        }
        else
        {
            // The framework's message names the parameter; the JSON reader's names the field and position.
            detail = ex!.InnerException is JsonException json ? $"{ex.Message} {json.Message}" : ex.Message;
        }

        await http.RequestServices.GetRequiredService<IProblemDetailsService>().WriteAsync(new ProblemDetailsContext
        {
            HttpContext = http,
            ProblemDetails = new ProblemDetails { Status = status, Title = ReasonPhrase(status), Detail = detail },
        });
    }

    private static string ReasonPhrase(int status) => Microsoft.AspNetCore.WebUtilities.ReasonPhrases.GetReasonPhrase(status);
}
