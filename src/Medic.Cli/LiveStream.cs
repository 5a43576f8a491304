using System.Net.WebSockets;
using System.Runtime.CompilerServices;

namespace Medic.Cli;

/// <summary>Reads one of the server's live WebSocket feeds (<c>/ws/…</c>) as whole text messages, until the server closes it.</summary>
internal static class LiveStream
{
    public static async IAsyncEnumerable<byte[]> ReadAsync(ApiClient client, string token, string path, [EnumeratorCancellation] CancellationToken ct)
    {
        using var socket = new ClientWebSocket();
        socket.Options.SetRequestHeader("Authorization", "Bearer " + token);
        var url = new UriBuilder(new Uri(client.Server, path)) { Scheme = client.Server.Scheme == "https" ? "wss" : "ws" }.Uri;
        await socket.ConnectAsync(url, ct);
        var buffer = new byte[64 * 1024];
        using var message = new MemoryStream();
        while (true)
        {
            message.SetLength(0);
            WebSocketReceiveResult result;
            do
            {
                result = await socket.ReceiveAsync(buffer, ct);
                message.Write(buffer, 0, result.Count);
            }
            while (!result.EndOfMessage);

            if (result.MessageType == WebSocketMessageType.Close) yield break;
            yield return message.ToArray();
        }
    }
}
