using System.Globalization;
using System.Text.Json.Nodes;

namespace Medic.ModelServer;

/// <summary>
/// <c>dotnet Medic.ModelServer.dll [--port N] [--script FILE.json] [--echo-rules FILE.json | --responder rules]</c>: serves the
/// script's replies in order (a JSON list of replies, see <see cref="ModelReply.FromJson"/>), then answers by
/// the rules (a JSON list of {"contains": "text", ...reply}: the first whose text the last user message
/// contains; with no match, it echoes that message), or with <c>--responder rules</c> as the
/// <see cref="RulesResponder"/> baseline model. Prints <c>listening http://127.0.0.1:N</c>; stops on Ctrl+C or SIGTERM.
/// </summary>
internal static class Program
{
    public static async Task<int> Main(string[] args)
    {
        var port = 0;
        string? script = null, rules = null, responder = null;
        for (var i = 0; i < args.Length; i++)
        {
            var value = i + 1 < args.Length ? args[i + 1] : null;
            switch (args[i])
            {
                case "--port" when int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out port):
                case "--script" when (script = value) is not null:
                case "--echo-rules" when (rules = value) is not null:
                case "--responder" when (responder = value) is "rules":
                    i++;
                    break;
                default:
                    await Console.Error.WriteLineAsync($"medic-model-server: unknown or incomplete argument '{args[i]}'; usage: --port N --script FILE.json --echo-rules FILE.json --responder rules");
                    return 2;
            }
        }

        List<ModelReply> replies;
        List<(string Contains, ModelReply Reply)> matchers;
        try
        {
            replies = script is null ? [] : [.. Read(script).Select(r => ModelReply.FromJson(r!.AsObject()))];
            matchers = rules is null ? [] : [.. Read(rules).Select(r => ((string?)r!["contains"] ?? "", ModelReply.FromJson(r.AsObject())))];
        }
        catch (Exception ex) when (ex is IOException or FormatException or System.Text.Json.JsonException or InvalidOperationException)
        {
            await Console.Error.WriteLineAsync("medic-model-server: " + ex.Message);
            return 2;
        }

        await using var server = await ScriptedModelServer.StartAsync(port);
        foreach (var reply in replies) server.Enqueue(reply);
        if (rules is not null)
        {
            server.Responder = request => matchers.FirstOrDefault(m => request.LastUserText.Contains(m.Contains, StringComparison.OrdinalIgnoreCase)).Reply
                                          ?? ModelReply.ReplyText("echo: " + request.LastUserText);
        }

        if (responder is "rules") server.Responder = RulesResponder.Answer;

        Console.Out.WriteLine("listening " + server.BaseUrl);
        Console.Out.Flush();
        using var stop = new CancellationTokenSource();
        Console.CancelKeyPress += (_, e) => { e.Cancel = true; stop.Cancel(); };
        using var term = System.Runtime.InteropServices.PosixSignalRegistration.Create(System.Runtime.InteropServices.PosixSignal.SIGTERM, c => { c.Cancel = true; stop.Cancel(); });
        try
        {
            await Task.Delay(Timeout.Infinite, stop.Token);
        }
        catch (OperationCanceledException)
        {
        }

        return 0;
    }

    private static JsonArray Read(string file) =>
        JsonNode.Parse(File.ReadAllText(file)) as JsonArray ?? throw new FormatException($"{file} is not a JSON list of replies");
}
