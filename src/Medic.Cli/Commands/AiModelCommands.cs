using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using Medic.Contracts;

namespace Medic.Cli.Commands;

/// <summary><c>medic ai models add|list|remove|test</c>, <c>medic ai usage</c>, <c>medic ai budget</c> (docs/ai-providers.md).</summary>
internal static class AiModelCommands
{
    private static readonly AiModelsJson Json = new(new JsonSerializerOptions(AiModelsJson.Default.Options) { UnmappedMemberHandling = System.Text.Json.Serialization.JsonUnmappedMemberHandling.Skip });

    /// <summary>Hangs the commands under <c>medic ai</c>.</summary>
    public static Command AddTo(Command ai)
    {
        ai.Subcommands.Add(Models());
        ai.Subcommands.Add(Usage());
        ai.Subcommands.Add(Budget());
        return ai;
    }

    private static Command Models()
    {
        var name = new Argument<string>("name") { Description = "The entry's name (default is used when none is asked for); entries sharing a name take turns" };
        var provider = new Option<string?>("--provider") { Description = "openai (any OpenAI-compatible endpoint: OpenRouter, Groq, DeepSeek, Ollama, vLLM, LM Studio) or anthropic", Required = true }
            .OneOf(AiProviders.All);
        var baseUrl = new Option<string?>("--base-url") { Description = "The API's base URL (default https://api.openai.com/v1 or https://api.anthropic.com)" };
        var model = new Option<string>("--model") { Description = "The provider's model id, e.g. gpt-4o-mini or claude-sonnet-4-5", Required = true };
        var keySecret = new Option<string?>("--key-secret") { Description = "The name of the secret holding the API key (medic secrets set NAME); local servers need none" };
        var fallback = new Option<string?>("--fallback") { Description = "The entry to try when every entry of this name fails" };
        var timeout = new Option<string?>("--timeout") { Description = "How long to wait for an answer (default 60s)" };
        var priceIn = new Option<double?>("--price-in") { Description = "USD per million input tokens, for cost estimates" };
        var priceOut = new Option<double?>("--price-out") { Description = "USD per million output tokens, for cost estimates" };
        var addJson = Shared.JsonOption();
        var add = new Command("add", "Add a model entry (admins)") { name, provider, baseUrl, model, keySecret, fallback, timeout, priceIn, priceOut, addJson };
        add.SetAction(async (parse, ct) =>
        {
            int? seconds = null;
            if (parse.GetValue(timeout) is { } t)
            {
                if (!Duration.TryParse(t, out var span) || span < TimeSpan.FromSeconds(1)) throw new CliException(Duration.NotADuration("--timeout", t), Duration.Hint);
                seconds = (int)Math.Ceiling(span.TotalSeconds);
            }

            var request = new AiModelRequest(parse.GetValue(name)!, parse.GetValue(provider)!, parse.GetValue(model)!, parse.GetValue(baseUrl), parse.GetValue(keySecret),
                parse.GetValue(fallback), seconds, parse.GetValue(priceIn), parse.GetValue(priceOut));
            using var client = Shared.RequireSession(parse).Client();
            var entry = await client.SendAsync(HttpMethod.Post, "/api/v1/ai/models", request, AiModelsJson.Default.AiModelRequest, Json.AiModelResponse, ct);
            if (parse.GetValue(addJson)) Output.Json(entry, Json.AiModelResponse);
            else Console.Out.WriteLine($"Added model '{entry.Name}' ({entry.Provider} {entry.Model} at {entry.BaseUrl}). Try it: medic ai models test {entry.Name}");
            return ExitCodes.Ok;
        });

        var listJson = Shared.JsonOption();
        var list = new Command("list", "The tenant's model entries, then the configuration file's") { listJson };
        list.SetAction(async (parse, ct) =>
        {
            using var client = Shared.RequireSession(parse).Client();
            var entries = await client.GetAsync("/api/v1/ai/models", Json.IReadOnlyListAiModelResponse, ct);
            if (parse.GetValue(listJson))
            {
                Output.Json(entries, Json.IReadOnlyListAiModelResponse);
                return ExitCodes.Ok;
            }

            if (entries.Count == 0)
            {
                Console.Out.WriteLine("No models: AI stays off and the rules engine does the work. Add one: medic ai models add default --provider openai --model gpt-4o-mini --key-secret openai-key");
                return ExitCodes.Ok;
            }

            Output.Table(["NAME", "PROVIDER", "MODEL", "BASE URL", "KEY SECRET", "FALLBACK", "TIMEOUT", "PRICE IN/OUT", "SOURCE"], entries.Select(e => (IReadOnlyList<string?>)
            [
                e.Name, e.Provider, e.Model, e.BaseUrl, e.KeySecret, e.Fallback, e.TimeoutSeconds.ToString(CultureInfo.InvariantCulture) + "s",
                e.PriceIn is null && e.PriceOut is null ? null : $"{e.PriceIn?.ToString(CultureInfo.InvariantCulture) ?? "-"}/{e.PriceOut?.ToString(CultureInfo.InvariantCulture) ?? "-"}",
                e.Source,
            ]));
            return ExitCodes.Ok;
        });

        var removeName = new Argument<string>("name") { Description = "The entry to remove (every entry of that name unless --id)" };
        var id = new Option<string?>("--id") { Description = "Remove only the entry with this id (medic ai models list --json)" };
        var remove = new Command("remove", "Remove a model entry (admins)") { removeName, id };
        remove.SetAction(async (parse, ct) =>
        {
            using var client = Shared.RequireSession(parse).Client();
            var path = "/api/v1/ai/models/" + Shared.Escape(parse.GetValue(removeName)!) + (parse.GetValue(id) is { } only ? "?id=" + Uri.EscapeDataString(only) : "");
            using var response = await client.SendRawAsync(new HttpRequestMessage(HttpMethod.Delete, path), ct);
            Console.Out.WriteLine($"Removed the model '{parse.GetValue(removeName)}'.");
            return ExitCodes.Ok;
        });

        var testName = new Argument<string>("name") { Description = "The entry to send a tiny prompt to (its fallbacks too)" };
        var testJson = Shared.JsonOption();
        var test = new Command("test", "Send one tiny prompt and report which entry answered and how fast (admins)") { testName, testJson };
        test.SetAction(async (parse, ct) =>
        {
            using var client = Shared.RequireSession(parse).Client();
            var result = await client.SendAsync(new HttpRequestMessage(HttpMethod.Post, "/api/v1/ai/models/" + Shared.Escape(parse.GetValue(testName)!) + "/test"), Json.AiModelTestResponse, ct);
            if (parse.GetValue(testJson)) Output.Json(result, Json.AiModelTestResponse);
            else if (result.Ok) Console.Out.WriteLine($"ok in {result.LatencyMs} ms from {result.AnsweredBy}: {result.Reply}");
            else Console.Out.WriteLine($"failed after {result.LatencyMs} ms: {result.Error}");
            return result.Ok ? ExitCodes.Ok : 1;
        });

        return new Command("models", "Model entries: providers, endpoints, keys by secret name, fallbacks") { add, list, remove, test };
    }

    private static Command Usage()
    {
        var month = new Option<string?>("--month") { Description = "The month, YYYY-MM (default this month, UTC)" };
        var by = new Option<string?>("--by") { Description = "Group by agent, model or run (default model)" }.OneOf(["agent", "model", "run"]);
        var json = Shared.JsonOption();
        var usage = new Command("usage", "Tokens and estimated cost of AI calls in a month") { month, by, json };
        usage.SetAction(async (parse, ct) =>
        {
            var query = new List<string>();
            if (parse.GetValue(month) is { } m) query.Add("month=" + Uri.EscapeDataString(m));
            if (parse.GetValue(by) is { } b) query.Add("by=" + b);
            using var client = Shared.RequireSession(parse).Client();
            var result = await client.GetAsync("/api/v1/ai/usage" + (query.Count > 0 ? "?" + string.Join("&", query) : ""), Json.AiUsageResponse, ct);
            if (parse.GetValue(json))
            {
                Output.Json(result, Json.AiUsageResponse);
                return ExitCodes.Ok;
            }

            Output.Table([result.By.ToUpperInvariant(), "CALLS", "INPUT TOKENS", "OUTPUT TOKENS", "COST USD"], result.Rows.Select(r => (IReadOnlyList<string?>)
            [
                r.Key ?? "-", r.Calls.ToString(CultureInfo.InvariantCulture), r.InputTokens.ToString(CultureInfo.InvariantCulture),
                r.OutputTokens.ToString(CultureInfo.InvariantCulture), r.CostUsd.ToString("0.0000", CultureInfo.InvariantCulture),
            ]));
            Console.Out.WriteLine($"{result.Month}: {result.InputTokens} input and {result.OutputTokens} output tokens, about {result.CostUsd.ToString("0.00", CultureInfo.InvariantCulture)} USD");
            return ExitCodes.Ok;
        });
        return usage;
    }

    private static Command Budget()
    {
        var usd = new Argument<string>("usd") { Description = "USD per calendar month (UTC), or 'none' for no limit" };
        var set = new Command("set", "Set the tenant's monthly AI budget; when spent, AI runs stop and the rules engine carries on (admins)") { usd };
        set.SetAction(async (parse, ct) =>
        {
            var text = parse.GetValue(usd)!;
            double? limit = null;
            if (text != "none")
            {
                if (!double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var value) || value < 0) throw new CliException($"'{text}' is not an amount of USD", "give a number such as 50 or 12.5, or 'none'");
                limit = value;
            }

            using var client = Shared.RequireSession(parse).Client();
            var state = await client.SendAsync(HttpMethod.Put, "/api/v1/ai/budget", new AiBudgetRequest(limit), AiModelsJson.Default.AiBudgetRequest, Json.AiBudgetResponse, ct);
            Console.Out.WriteLine(state.MonthlyUsd is { } l
                ? $"Budget {l.ToString(CultureInfo.InvariantCulture)} USD a month; {state.SpentUsd.ToString("0.00", CultureInfo.InvariantCulture)} spent in {state.Month}{(state.Exhausted ? " (exhausted: AI runs are stopped)" : "")}."
                : "No AI budget: AI runs are not limited by cost.");
            return ExitCodes.Ok;
        });

        var show = new Command("show", "This month's AI spend against the budget");
        show.SetAction(async (parse, ct) =>
        {
            using var client = Shared.RequireSession(parse).Client();
            var state = await client.GetAsync("/api/v1/ai/budget", Json.AiBudgetResponse, ct);
            Console.Out.WriteLine($"{state.Month}: {state.SpentUsd.ToString("0.00", CultureInfo.InvariantCulture)} USD spent of {(state.MonthlyUsd is { } l ? l.ToString(CultureInfo.InvariantCulture) + " USD" : "no limit")}{(state.Exhausted ? " (exhausted)" : "")}");
            return ExitCodes.Ok;
        });
        return new Command("budget", "The tenant's monthly AI budget") { set, show };
    }
}
