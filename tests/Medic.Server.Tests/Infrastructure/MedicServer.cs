using System.Net;
using System.Net.Http.Headers;
using System.Net.Sockets;
using Medic.Contracts;
using Medic.Server.Common;
using Medic.Server.Hosting;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Medic.Server.Tests.Infrastructure;

/// <summary>
/// A real control plane for one test: its own data directory and database, Kestrel on
/// 127.0.0.1 with a free port, the first admin bootstrapped with <see cref="AdminPassword"/> and
/// (unless asked not to) logged in through POST /api/v1/auth/token.
/// </summary>
public sealed class MedicServer : IAsyncDisposable
{
    public const string AdminUsername = "admin";
    public const string AdminPassword = "admin-password-for-tests";

    private readonly TempDirectory _dataDir;
    private readonly WebApplication _app;
    private readonly List<HttpClient> _clients = [];

    private MedicServer(TempDirectory dataDir, TestDatabase database, WebApplication app, CapturedLogs logs, Uri baseAddress)
    {
        _dataDir = dataDir;
        Database = database;
        _app = app;
        Logs = logs;
        BaseAddress = baseAddress;
    }

    public TestDatabase Database { get; }

    public CapturedLogs Logs { get; }

    public Uri BaseAddress { get; }

    public string DataDir => _dataDir.Path;

    public IServiceProvider Services => _app.Services;

    /// <summary>Set by a test that breaks the database on purpose, after which background work may log errors.</summary>
    public bool ServerFaultsExpected { get; set; }

    /// <summary>The bootstrap admin's API token (a superadmin of the default tenant).</summary>
    public string AdminToken { get; private set; } = "";

    /// <summary>An HTTP client authenticated as the bootstrap admin.</summary>
    public HttpClient Admin { get; private set; } = null!;

    /// <summary>The server's clock: the system clock, or the fake one the test passed to <see cref="StartAsync"/>.</summary>
    public TimeProvider Time => _app.Services.GetRequiredService<TimeProvider>();

    /// <param name="time">
    /// A fake clock for a test about expiry: the test moves it with <c>Advance</c> instead of
    /// sleeping. Background loops that wait on the clock then wait until it is moved, so tests that
    /// need them running keep the system clock.
    /// </param>
    public static async Task<MedicServer> StartAsync(string dialect, Action<MedicOptions>? configure = null, bool logInAdmin = true, TimeProvider? time = null)
    {
        var dataDir = new TempDirectory();
        TestDatabase? database = null;
        WebApplication? app = null;
        try
        {
            database = await TestDatabase.CreateAsync(dialect, dataDir.Path);
            var options = new MedicOptions { DataDir = dataDir.Path, Database = database.Url, Listen = "http://127.0.0.1:0" };
            configure?.Invoke(options);
            var logs = new CapturedLogs();
            app = MedicApp.Build(options, logging =>
            {
                logging.AddProvider(logs);
                logging.SetMinimumLevel(LogLevel.Debug);
                logging.AddFilter("Microsoft", LogLevel.Information);
            }, time);
            await MedicApp.PrepareAsync(app.Services);
            await app.Services.GetRequiredService<Bootstrap>().EnsureFirstAdminAsync(AdminPassword);
            await app.StartAsync();

            var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.Single();
            var server = new MedicServer(dataDir, database, app, logs, new Uri(address));
            if (logInAdmin)
            {
                server.AdminToken = await server.LogInAsync(AdminUsername, AdminPassword);
                server.Admin = server.Client(server.AdminToken);
            }

            return server;
        }
        catch
        {
            if (app is not null)
            {
                await app.DisposeAsync();
            }

            if (database is not null)
            {
                await database.DisposeAsync();
            }

            dataDir.Dispose();
            throw;
        }
    }

    public T Service<T>()
        where T : notnull => _app.Services.GetRequiredService<T>();

    /// <summary>
    /// A client of this server, anonymous or sending <paramref name="bearer"/>, connecting from
    /// <paramref name="from"/> (another loopback address such as 127.0.0.2) when given; disposed with the server.
    /// </summary>
    public HttpClient Client(string? bearer = null, IPAddress? from = null)
    {
        var handler = new SocketsHttpHandler { UseCookies = false, AllowAutoRedirect = false };
        if (from is not null)
        {
            handler.ConnectCallback = async (context, ct) =>
            {
                var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
                try
                {
                    socket.Bind(new IPEndPoint(from, 0));
                    await socket.ConnectAsync(context.DnsEndPoint, ct);
                    return new NetworkStream(socket, ownsSocket: true);
                }
                catch
                {
                    socket.Dispose();
                    throw;
                }
            };
        }

        var client = new HttpClient(handler)
        {
            BaseAddress = BaseAddress,
            Timeout = TimeSpan.FromSeconds(60),
        };
        if (bearer is not null)
        {
            client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", bearer);
        }

        lock (_clients)
        {
            _clients.Add(client);
        }

        return client;
    }

    /// <summary>Exchanges a password for an API token the way <c>medic login</c> does; fails the test unless it works.</summary>
    public async Task<string> LogInAsync(string username, string password, string? tenant = null)
    {
        using var anonymous = new HttpClient { BaseAddress = BaseAddress, Timeout = TimeSpan.FromSeconds(60) };
        using var response = await anonymous.PostAsync("/api/v1/auth/token", Json.Body(new TokenLoginRequest(username, password, tenant, null, null), MedicJson.Default.TokenLoginRequest));
        var created = await response.ReadAsync(MedicJson.Default.TokenCreatedResponse);
        return created.Secret;
    }

    /// <summary>Creates a user in the caller's tenant through the API and returns it with its password.</summary>
    public async Task<(UserResponse User, string Password)> AddUserAsync(HttpClient admin, string username, Role role)
    {
        var password = username + "-password-123";
        using var response = await admin.PostAsync("/api/v1/users", Json.Body(new CreateUserRequest(username, role, password, null), MedicJson.Default.CreateUserRequest));
        var created = await response.ReadAsync(MedicJson.Default.UserCreatedResponse, System.Net.HttpStatusCode.Created);
        return (created.User, password);
    }

    /// <summary>Creates a user and logs them in: a client acting as that user.</summary>
    public async Task<HttpClient> ClientForNewUserAsync(HttpClient admin, string username, Role role, string? tenant = null)
    {
        var (_, password) = await AddUserAsync(admin, username, role);
        return Client(await LogInAsync(username, password, tenant));
    }

    public async ValueTask DisposeAsync()
    {
        lock (_clients)
        {
            foreach (var client in _clients)
            {
                client.Dispose();
            }
        }

        await _app.StopAsync();
        await _app.DisposeAsync();
        await Database.DisposeAsync();
        _dataDir.Dispose();

        // Whatever a test sent, the server must not have failed on it (a 500 logs an error).
        var faults = Logs.ServerFaults;
        if (faults.Count > 0 && !ServerFaultsExpected)
        {
            throw new ShouldAssertException($"the server logged {faults.Count} error(s):\n{string.Join("\n", faults)}");
        }
    }
}
