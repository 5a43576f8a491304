using Medic.Server.Common;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.Options;

namespace Medic.Server.Notifications;

/// <summary>Links into the console: <c>{public_url}/incidents/{id}</c> and <c>{public_url}/approvals/{id}</c>.</summary>
internal sealed class ConsoleLinks(IOptions<MedicOptions> options, IServer? server = null)
{
    /// <summary><c>public_url</c>, else the address the server listens on (the real port when it was 0).</summary>
    public string Base
    {
        get
        {
            if (!string.IsNullOrWhiteSpace(options.Value.PublicUrl)) return options.Value.PublicUrl.TrimEnd('/');
            var bound = server?.Features.Get<IServerAddressesFeature>()?.Addresses.FirstOrDefault();
            return (bound ?? options.Value.Listen.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).FirstOrDefault() ?? MedicOptions.DefaultListen).TrimEnd('/');
        }
    }

    public string Incident(string id) => $"{Base}/incidents/{Uri.EscapeDataString(id)}";

    public string Approval(string id) => $"{Base}/approvals/{Uri.EscapeDataString(id)}";
}
