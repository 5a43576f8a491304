using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;

namespace Medic.Server.Tests.Infrastructure;

/// <summary>A real HTTP server on a free loopback port answering every request with <see cref="Status"/> and <see cref="Body"/>.</summary>
public sealed class TinyHttpServer : IAsyncDisposable
{
    private readonly WebApplication _app;

    private TinyHttpServer(WebApplication app, Uri address)
    {
        _app = app;
        Address = address;
    }

    public Uri Address { get; }

    public volatile int Status = 200;

    public volatile string Body = "ok";

    public int Requests;

    public static async Task<TinyHttpServer> StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        var app = builder.Build();
        TinyHttpServer? self = null;
        app.Run(async context =>
        {
            Interlocked.Increment(ref self!.Requests);
            context.Response.StatusCode = self.Status;
            await context.Response.WriteAsync(self.Body);
        });
        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.Single();
        self = new TinyHttpServer(app, new Uri(address));
        return self;
    }

    public async ValueTask DisposeAsync() => await _app.DisposeAsync();
}
