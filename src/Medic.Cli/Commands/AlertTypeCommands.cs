using System.CommandLine;
using Medic.Contracts;

namespace Medic.Cli.Commands;

/// <summary><c>webhooks types list|set|remove|test</c>: which incident type an alert from a webhook gets.</summary>
internal static class AlertTypeCommands
{
    public static Command Types()
    {
        var json = Shared.JsonOption();
        var builtIn = new Option<bool>("--built-in") { Description = "Also list the built-in rules (tried after the tenant's)" };
        var list = new Command("list", "The tenant's classification rules, tried by name before the built-in ones (admins)") { json, builtIn };
        list.SetAction(async (parse, ct) =>
        {
            using var client = Shared.RequireSession(parse).Client();
            var rules = await client.GetAsync("/api/v1/webhooks/types", ApiClient.Json.IReadOnlyListAlertTypeRuleResponse, ct);
            if (!parse.GetValue(builtIn)) rules = [.. rules.Where(r => !r.BuiltIn)];
            if (parse.GetValue(json))
            {
                Output.Json(rules, ApiClient.Json.IReadOnlyListAlertTypeRuleResponse);
                return ExitCodes.Ok;
            }

            if (rules.Count == 0)
            {
                Console.Out.WriteLine("The tenant has no classification rules; the built-in ones apply (--built-in lists them).");
                return ExitCodes.Ok;
            }

            Output.Table(["NAME", "TYPE", "ALERTNAME", "REGEX", "LABELS", "SOURCE", "BY"], rules.Select(r => (IReadOnlyList<string?>)
            [
                r.Name, r.Rule.Type, r.Rule.Alertname is { Length: > 60 } names ? names[..59] + "…" : r.Rule.Alertname, r.Rule.AlertnameRegex,
                r.Rule.Labels is { Count: > 0 } l ? string.Join(",", l.Select(kv => kv.Key + "=" + kv.Value)) : null, r.Rule.Source, r.BuiltIn ? "built-in" : r.UpdatedBy,
            ]));
            return ExitCodes.Ok;
        });

        var name = new Argument<string>("name") { Description = "The rule's name: lower-case letters, digits, dashes, underscores (rules are tried in name order: 10-..., 20-...)" };
        var type = new Option<string>("--type") { Description = "The incident type to give: disk_full, service_down, endpoint_down, ... (what triage rules match)", Required = true };
        var alertname = new Option<string?>("--alertname") { Description = "Match this alert name exactly (the alertname label, or the title when the sender has none)" };
        var regex = new Option<string?>("--regex") { Description = "Match alert names by this .NET regular expression (anywhere in the name; anchor with ^ and $)" };
        var label = new Option<string[]>("--label") { Description = "Match alerts with this label k=v (v '*': the label is present); repeat for several" };
        var source = new Option<string?>("--source") { Description = "Match alerts from this source only: alertmanager, grafana, zabbix, ... or a mapped source" };
        var setJson = Shared.JsonOption();
        var set = new Command("set", "Create or replace a classification rule (admins)") { name, type, alertname, regex, label, source, setJson };
        set.SetAction(async (parse, ct) =>
        {
            var rule = new AlertTypeRule(parse.GetValue(type)!, parse.GetValue(alertname), parse.GetValue(regex), Labels(parse.GetValue(label)), parse.GetValue(source));
            using var client = Shared.RequireSession(parse).Client();
            var saved = await client.SendAsync(HttpMethod.Put, "/api/v1/webhooks/types/" + Shared.Escape(parse.GetValue(name)!), rule,
                MedicJson.Default.AlertTypeRule, ApiClient.Json.AlertTypeRuleResponse, ct);
            if (parse.GetValue(setJson)) Output.Json(saved, ApiClient.Json.AlertTypeRuleResponse);
            else Console.Out.WriteLine($"Saved rule '{saved.Name}': matching alerts open {saved.Rule.Type} incidents. Try it: medic webhooks types test --alertname NAME");
            return ExitCodes.Ok;
        });

        var removeName = new Argument<string>("name") { Description = "The rule to remove" };
        var remove = new Command("remove", "Remove one of the tenant's classification rules (admins)") { removeName };
        remove.SetAction(async (parse, ct) =>
        {
            using var client = Shared.RequireSession(parse).Client();
            using var response = await client.SendRawAsync(new HttpRequestMessage(HttpMethod.Delete, "/api/v1/webhooks/types/" + Shared.Escape(parse.GetValue(removeName)!)), ct);
            Console.Out.WriteLine($"Removed the classification rule '{parse.GetValue(removeName)}'.");
            return ExitCodes.Ok;
        });

        var testName = new Option<string?>("--alertname") { Description = "The alert's name (the alertname label)" };
        var title = new Option<string?>("--title") { Description = "The alert's title, for senders without an alertname (Zabbix, Datadog, ...)" };
        var testLabel = new Option<string[]>("--label") { Description = "A label of the alert k=v; repeat for several" };
        var testSource = new Option<string?>("--source") { Description = "The sender (default alertmanager)" };
        var testJson = Shared.JsonOption();
        var test = new Command("test", "Show the type and derived labels an alert would get, without delivering it (admins)") { testName, title, testLabel, testSource, testJson };
        test.SetAction(async (parse, ct) =>
        {
            using var client = Shared.RequireSession(parse).Client();
            var result = await client.SendAsync(HttpMethod.Post, "/api/v1/webhooks/types/test",
                new AlertTypeTestRequest(parse.GetValue(testName), parse.GetValue(title), Labels(parse.GetValue(testLabel)), parse.GetValue(testSource)),
                MedicJson.Default.AlertTypeTestRequest, ApiClient.Json.AlertTypeTestResponse, ct);
            if (parse.GetValue(testJson))
            {
                Output.Json(result, ApiClient.Json.AlertTypeTestResponse);
                return ExitCodes.Ok;
            }

            Console.Out.WriteLine(result.Rule is null ? $"type: {result.Type} (no rule matches)" : $"type: {result.Type} (rule {result.Rule})");
            foreach (var (key, value) in result.DerivedLabels) Console.Out.WriteLine($"adds label {key}={value}");
            return ExitCodes.Ok;
        });

        return new Command("types", "Which incident type alerts get (disk_full, service_down, ...), so triage rules apply to them") { list, set, remove, test };
    }

    private static Dictionary<string, string>? Labels(string[]? pairs)
    {
        if (pairs is not { Length: > 0 }) return null;
        var labels = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var pair in pairs)
        {
            var parts = pair.Split('=', 2);
            if (parts.Length != 2 || parts[0].Length == 0) throw new CliException($"--label '{pair}' is not key=value", "write labels as --label team=shop (or --label state=* for any value)");
            labels[parts[0]] = parts[1];
        }

        return labels;
    }
}
