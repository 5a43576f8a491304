using System.CommandLine;
using System.Globalization;
using Medic.Contracts;

namespace Medic.Cli.Commands;

/// <summary><c>silences add</c>, <c>list</c> and <c>expire</c>: hold matching signals back from the pipeline and from notifications for a while.</summary>
internal static class SilenceCommands
{
    private static readonly string[] Ops = ["=~", "!~", "!=", "="];

    public static Command Silences()
    {
        var matchers = new Argument<string[]>("MATCHER") { Description = "Label matchers as Alertmanager writes them: alertname=DiskFull, instance=~\"web-.*\", env!=staging, job!~\"test.*\"", Arity = ArgumentArity.OneOrMore };
        var comment = new Option<string?>("--comment") { Description = "Why (required): shown on every incident the silence holds back" };
        var duration = new Option<string?>("--duration") { Description = "How long from its start, e.g. 2h (default), 90m, 3d" };
        var start = new Option<DateTimeOffset?>("--start") { Description = "When it starts (default now), e.g. 2026-12-07T22:00:00Z" };
        var end = new Option<DateTimeOffset?>("--end") { Description = "When it ends, instead of --duration" };
        var addJson = Shared.JsonOption();
        var add = new Command("add", "Silence the signals whose labels match every matcher (operators)") { matchers, comment, duration, start, end, addJson };
        add.SetAction(async (parse, ct) =>
        {
            var parsed = parse.GetValue(matchers)!.Select(Parse).ToList();
            var why = parse.GetValue(comment) ?? throw new CliException("no --comment", "say why, e.g. --comment \"resizing the web disks\"");
            var ends = parse.GetValue(end);
            var request = new CreateSilenceRequest(parsed, why, parse.GetValue(start), ends, ends is null ? parse.GetValue(duration) ?? "2h" : parse.GetValue(duration));
            using var client = Shared.RequireSession(parse).Client();
            var silence = await client.SendAsync(HttpMethod.Post, "/api/v1/silences", request, MedicJson.Default.CreateSilenceRequest, ApiClient.Json.SilenceResponse, ct);
            if (parse.GetValue(addJson))
            {
                Output.Json(silence, ApiClient.Json.SilenceResponse);
            }
            else
            {
                Console.Out.WriteLine($"Silence {silence.Id} {(silence.State == SilenceState.Pending ? "starts at " + Output.Time(silence.StartsAt) + " UTC and" : "is active and")} ends at {Output.Time(silence.EndsAt)} UTC.");
            }

            return ExitCodes.Ok;
        });

        var state = new Option<string?>("--state") { Description = "active, pending, expired or all (default: active and pending)" };
        var listJson = Shared.JsonOption();
        var list = new Command("list", "The tenant's silences, newest first") { state, listJson };
        list.SetAction(async (parse, ct) =>
        {
            var wanted = parse.GetValue(state);
            using var client = Shared.RequireSession(parse).Client();
            var silences = await client.GetAsync("/api/v1/silences" + (wanted is null ? "" : "?state=" + Uri.EscapeDataString(wanted)), ApiClient.Json.IReadOnlyListSilenceResponse, ct);
            if (wanted is null) silences = silences.Where(s => s.State != SilenceState.Expired).ToList();
            if (parse.GetValue(listJson))
            {
                Output.Json(silences, ApiClient.Json.IReadOnlyListSilenceResponse);
                return ExitCodes.Ok;
            }

            Output.Table(["ID", "STATE", "MATCHERS", "STARTS", "ENDS", "CREATED BY", "COMMENT"], silences.Select(s => (IReadOnlyList<string?>)
                [s.Id, s.State.ToText(), string.Join(", ", s.Matchers.Select(m => $"{m.Name}{m.Op}\"{m.Value}\"")), Output.Time(s.StartsAt), Output.Time(s.EndsAt), s.CreatedBy, s.Comment]));
            return ExitCodes.Ok;
        });

        var id = new Argument<string>("ID") { Description = "The silence's id (medic silences list)" };
        var expire = new Command("expire", "End a silence now (operators)") { id };
        expire.SetAction(async (parse, ct) =>
        {
            using var client = Shared.RequireSession(parse).Client();
            using var request = new HttpRequestMessage(HttpMethod.Post, $"/api/v1/silences/{Shared.Escape(parse.GetValue(id)!)}/expire") { Content = new StringContent("{}", System.Text.Encoding.UTF8, "application/json") };
            var silence = await client.SendAsync(request, ApiClient.Json.SilenceResponse, ct);
            Console.Out.WriteLine($"Silence {silence.Id} expired at {Output.Time(silence.EndsAt)} UTC.");
            return ExitCodes.Ok;
        });

        return new Command("silences", "Silences: label matchers that keep signals from starting the pipeline and notifying people for a while") { add, list, expire };
    }

    /// <summary><c>name=value</c>, <c>name!=value</c>, <c>name=~regex</c> or <c>name!~regex</c>; the value may be in double quotes.</summary>
    internal static SilenceMatcher Parse(string text)
    {
        foreach (var op in Ops)
        {
            var at = text.IndexOf(op, StringComparison.Ordinal);
            // The first operator in the text wins; "=" is tried last so "a!=b" is not read as "a!" = "b".
            if (at <= 0 || Ops.Any(o => o != op && text.IndexOf(o, StringComparison.Ordinal) is >= 0 and var other && other < at)) continue;
            var name = text[..at].Trim();
            var value = text[(at + op.Length)..].Trim();
            if (value.Length >= 2 && value[0] == '"' && value[^1] == '"') value = value[1..^1].Replace("\\\"", "\"", StringComparison.Ordinal);
            return new SilenceMatcher(name, op, value);
        }

        throw new CliException($"'{text}' is not a label matcher", "write NAME=VALUE, NAME!=VALUE, NAME=~REGEX or NAME!~REGEX, e.g. alertname=DiskFull");
    }
}
