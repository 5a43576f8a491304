using System.CommandLine;
using System.Net.Http.Json;
using System.Text.Json;
using Medic.Contracts;

namespace Medic.Cli.Commands;

/// <summary><c>medic ask "why is web-1 slow?"</c>: a streamed conversation with an ops agent over the read-only tools.</summary>
internal static class AskCommand
{
    public static Command Create()
    {
        var question = new Argument<string?>("question") { Description = "What you want to know, e.g. \"why is web-1 slow?\"", Arity = ArgumentArity.ZeroOrOne };
        var model = new Option<string?>("--model") { Description = "The AI model entry to ask (medic ai models list); default: the tenant's default" };
        var session = new Option<string?>("--session") { Description = "Go on with this session (medic ask --list); default: your latest" };
        var fresh = new Option<bool>("--new") { Description = "Start a new session" };
        var list = new Option<bool>("--list") { Description = "List your sessions instead of asking" };
        var json = new Option<bool>("--json") { Description = "Print the answer's events (or --list) as JSON lines" };
        var ask = new Command("ask", "Ask an ops agent about your servers; it looks with the read-only tools and any fix it suggests waits for approval")
        {
            question, model, session, fresh, list, json,
        };
        ask.SetAction(async (parse, ct) =>
        {
            using var client = Shared.RequireSession(parse).Client();
            if (parse.GetValue(list))
            {
                var sessions = await client.GetAsync("/api/v1/ai/sessions", ApiClient.Json.IReadOnlyListAskSessionSummary, ct);
                if (parse.GetValue(json)) Output.Json(sessions, ApiClient.Json.IReadOnlyListAskSessionSummary);
                else if (sessions.Count == 0) Console.Out.WriteLine("No sessions yet: medic ask \"your question\" starts one.");
                else Output.Table(["SESSION", "UPDATED", "TURNS", "TITLE"], sessions.Select(s => (IReadOnlyList<string?>)[s.Id, Output.Time(s.UpdatedAt), s.Turns.ToString(System.Globalization.CultureInfo.InvariantCulture), s.Title]));
                return ExitCodes.Ok;
            }

            if (parse.GetValue(question) is not { Length: > 0 } text)
            {
                throw new CliException("no question given", "medic ask \"why is web-1 slow?\" (or medic ask --list)", ExitCodes.Usage);
            }

            var request = new HttpRequestMessage(HttpMethod.Post, "/api/v1/ai/ask")
            {
                Content = JsonContent.Create(new AskRequest(text, parse.GetValue(session), parse.GetValue(fresh), parse.GetValue(model)), MedicJson.Default.AskRequest),
            };
            using var response = await client.SendRawAsync(request, ct, HttpCompletionOption.ResponseHeadersRead);
            using var reader = new StreamReader(await response.Content.ReadAsStreamAsync(ct));
            var asJson = parse.GetValue(json);
            var outcome = "completed";
            while (await reader.ReadLineAsync(ct) is { } line)
            {
                if (line.Length == 0) continue;
                if (asJson)
                {
                    Console.Out.WriteLine(line);
                    Console.Out.Flush();
                }

                var e = JsonSerializer.Deserialize(line, ApiClient.Json.AskEvent);
                if (e is null || asJson)
                {
                    if (e?.Type == "done") outcome = e.Outcome ?? outcome;
                    continue;
                }

                switch (e.Type)
                {
                    case "text":
                        Console.Out.Write(e.Text);
                        Console.Out.Flush();
                        break;
                    case "tool":
                        Console.Error.WriteLine($"  · {e.Tool}{(e.Error is null ? "" : " (" + e.Error + ")")}");
                        break;
                    case "notice":
                        Console.Error.WriteLine("  · " + e.Text);
                        break;
                    case "done":
                        outcome = e.Outcome ?? outcome;
                        Console.Out.WriteLine();
                        if (e.Text is { Length: > 0 } why) Console.Error.WriteLine($"({e.Outcome}: {why})");
                        if (e.Proposals is { Count: > 0 } proposals) Console.Out.WriteLine($"Proposed {string.Join(", ", proposals)}: it waits for approval (medic approvals).");
                        Console.Error.WriteLine($"session {e.Session}, run {e.Run} (medic ai runs show {e.Run})");
                        break;
                }
            }

            return outcome == "completed" ? ExitCodes.Ok : ExitCodes.ServerError;
        });
        return ask;
    }
}
