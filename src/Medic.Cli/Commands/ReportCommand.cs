using System.CommandLine;

namespace Medic.Cli.Commands;

/// <summary><c>medic incidents report ID [--json] [--output FILE]</c>: an incident's report, as Markdown unless --json.</summary>
internal static class ReportCommand
{
    public static Command Report()
    {
        var id = new Argument<string>("id") { Description = "Incident id (inc_…)" };
        var json = new Option<bool>("--json") { Description = "The report as JSON instead of Markdown" };
        var output = new Option<string?>("--output", "-o") { Description = "Write the report to this file instead of standard output" };
        var command = new Command("report", "An incident's report: timeline, evidence, what ran and its output, approvals, audit entries, outcome and durations (Markdown; --json for JSON)")
        {
            id, json, output,
        };
        command.SetAction(async (parse, ct) =>
        {
            var incident = parse.GetValue(id)!;
            var path = "/api/v1/incidents/" + Shared.Escape(incident) + "/report";
            using var client = Shared.RequireSession(parse).Client();
            string text;
            if (parse.GetValue(json))
            {
                var report = await client.GetAsync(path, ApiClient.Json.IncidentReport, ct);
                text = Output.JsonText(report, ApiClient.Json.IncidentReport) + "\n";
            }
            else
            {
                using var request = new HttpRequestMessage(HttpMethod.Get, path + "?format=markdown");
                request.Headers.Accept.ParseAdd("text/markdown");
                using var response = await client.SendRawAsync(request, ct);
                text = await response.Content.ReadAsStringAsync(ct);
            }

            if (parse.GetValue(output) is not { } file)
            {
                Console.Out.Write(text);
                return ExitCodes.Ok;
            }

            try
            {
                await File.WriteAllTextAsync(file, text, ct);
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                throw new CliException($"cannot write {file}: {ex.Message}", "choose a path in a directory you can write to");
            }

            Console.Error.WriteLine($"Wrote the report of {incident} to {file}.");
            return ExitCodes.Ok;
        });
        return command;
    }
}
