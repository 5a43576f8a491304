using System.Net.Http.Headers;
using System.Net.Mail;
using System.Text.Json;

namespace Medic.Contracts;

/// <summary>A delivery failed. The message never holds a webhook URL, a token or a password: it is logged and shown to people.</summary>
public sealed class NotifyException(string message) : Exception(message);

/// <summary>Where and how to send one mail: the SMTP server, its login, and the envelope.</summary>
public sealed record MailDelivery(string Host, int Port, bool StartTls, string? Username, string? Password, string From, IReadOnlyList<string> To, string Subject, string Body)
{
    public IReadOnlyDictionary<string, string>? Headers { get; init; }
}

/// <summary>
/// The one implementation of each chat and mail channel, shared by the server's notifications and
/// <c>medic watch</c>: the receivers' wire formats (Slack, Discord, Telegram), the JSON POST with its
/// time limit and secret-free errors, and SMTP delivery.
/// </summary>
public static class ChannelDelivery
{
    public const string DefaultTelegramApi = "https://api.telegram.org";
    public static readonly TimeSpan Timeout = TimeSpan.FromSeconds(15);

    /// <summary>Slack incoming webhook: <c>{"text": ...}</c>, with &amp;, &lt; and &gt; escaped as Slack requires.</summary>
    public static byte[] Slack(string text) => Json(w =>
        w.WriteString("text", text.Replace("&", "&amp;", StringComparison.Ordinal).Replace("<", "&lt;", StringComparison.Ordinal).Replace(">", "&gt;", StringComparison.Ordinal)));

    /// <summary>Discord webhook: <c>content</c> with mentions disabled, so an incident title cannot ping @everyone.</summary>
    public static byte[] Discord(string text) => Json(w =>
    {
        w.WriteString("content", text);
        w.WriteStartObject("allowed_mentions");
        w.WriteStartArray("parse");
        w.WriteEndArray();
        w.WriteEndObject();
    });

    /// <summary>Telegram Bot API sendMessage: <c>chat_id</c> and plain <c>text</c>.</summary>
    public static byte[] Telegram(string chatId, string text) => Json(w =>
    {
        w.WriteString("chat_id", chatId);
        w.WriteString("text", text);
    });

    /// <summary>Where a Telegram message goes: <c>{api}/bot{token}/sendMessage</c> (the token is in the URL, so the URL is never logged).</summary>
    public static string TelegramUrl(string? apiUrl, string botToken) => $"{(apiUrl ?? DefaultTelegramApi).TrimEnd('/')}/bot{botToken}/sendMessage";

    /// <summary>The most characters each receiver takes in one message.</summary>
    public const int SlackMaxText = 3000;
    public const int DiscordMaxText = 2000;
    public const int TelegramMaxText = 4096;

    /// <summary>POSTs <paramref name="json"/>; a status other than 2xx, no connection, or no answer within <see cref="Timeout"/> is a <see cref="NotifyException"/>.</summary>
    public static async Task PostJsonAsync(HttpClient http, string url, byte[] json, IReadOnlyDictionary<string, string>? headers, CancellationToken ct)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, url) { Content = new ByteArrayContent(json) };
        request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json") { CharSet = "utf-8" };
        foreach (var (name, value) in headers ?? new Dictionary<string, string>()) request.Headers.TryAddWithoutValidation(name, value);
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
        timeout.CancelAfter(Timeout);
        try
        {
            using var response = await http.SendAsync(request, timeout.Token);
            if (!response.IsSuccessStatusCode)
            {
                var body = (await response.Content.ReadAsStringAsync(timeout.Token)).ReplaceLineEndings(" ").Trim();
                throw new NotifyException($"HTTP {(int)response.StatusCode} {response.ReasonPhrase}{(body.Length > 0 ? ": " + Texts.Truncate(body, 200) : "")}");
            }
        }
        catch (HttpRequestException e)
        {
            // The exception's own message may name the URL (which holds a token for chat webhooks): only its category is kept.
            throw new NotifyException($"{request.RequestUri?.Host}:{request.RequestUri?.Port}: the request failed ({e.HttpRequestError})");
        }
        catch (OperationCanceledException) when (!ct.IsCancellationRequested)
        {
            throw new NotifyException($"{request.RequestUri?.Host}:{request.RequestUri?.Port}: no answer within {Timeout.TotalSeconds:0} s");
        }
    }

    /// <summary>Sends one mail over SMTP (STARTTLS when asked); failures are a <see cref="NotifyException"/> naming the server, never the password.</summary>
    public static async Task SendMailAsync(MailDelivery mail, CancellationToken ct)
    {
        using var message = new MailMessage { From = new MailAddress(mail.From), Subject = mail.Subject.ReplaceLineEndings(" "), Body = mail.Body };
        foreach (var to in mail.To) message.To.Add(to);
        foreach (var (name, value) in mail.Headers ?? new Dictionary<string, string>()) message.Headers.Add(name, value);
        using var client = new SmtpClient(mail.Host, mail.Port) { EnableSsl = mail.StartTls, Timeout = (int)Timeout.TotalMilliseconds };
        if (mail.Username is not null) client.Credentials = new System.Net.NetworkCredential(mail.Username, mail.Password);
        try
        {
            await client.SendMailAsync(message, ct);
        }
        catch (SmtpException e)
        {
            throw new NotifyException($"SMTP {mail.Host}:{mail.Port}: {e.StatusCode}: {e.Message}");
        }
        catch (Exception e) when (e is IOException or System.Net.Sockets.SocketException or InvalidOperationException)
        {
            throw new NotifyException($"SMTP {mail.Host}:{mail.Port}: {e.Message}");
        }
    }

    /// <summary>One JSON object written by <paramref name="body"/>, as UTF-8: how every channel payload is built.</summary>
    public static byte[] Json(Action<Utf8JsonWriter> body)
    {
        using var stream = new MemoryStream();
        using (var w = new Utf8JsonWriter(stream))
        {
            w.WriteStartObject();
            body(w);
            w.WriteEndObject();
        }

        return stream.ToArray();
    }
}
