using System.CommandLine;
using System.Text;
using System.Text.Json;

namespace Medic.Cli.Commands;

/// <summary><c>medic mcp url</c>: where an MCP client connects to Medic, and the configuration to paste (docs/mcp.md).</summary>
internal static class McpCommands
{
    public const string TokenPlaceholder = "<TOKEN>";

    public static Command Mcp()
    {
        var json = new Option<bool>("--json") { Description = "Print only the MCP client configuration (JSON)" };
        var name = new Option<string>("--name") { Description = "The server's name in the client's configuration", DefaultValueFactory = _ => "medic" };
        var url = new Command("url", "Print the MCP endpoint of the current context's server and a client configuration for it") { json, name };
        url.SetAction(parse =>
        {
            var session = Shared.RequireSession(parse);
            var endpoint = Endpoint(session.Context.Server);
            var config = ClientConfig(parse.GetValue(name)!, endpoint);
            if (parse.GetValue(json))
            {
                Console.Out.WriteLine(config);
                return ExitCodes.Ok;
            }

            Console.Out.WriteLine($"MCP endpoint: {endpoint}  (Streamable HTTP; an API token as 'Authorization: Bearer ...')");
            Console.Out.WriteLine();
            Console.Out.WriteLine("1. Create a token for the client (an operator token can propose remediations but never approve them; a viewer token only reads):");
            Console.Out.WriteLine("     medic tokens create --name 'mcp client' --role operator --expires 30d");
            Console.Out.WriteLine($"2. Add this to the client's MCP configuration, with the token's secret in place of {TokenPlaceholder}:");
            Console.Out.WriteLine(config);
            Console.Out.WriteLine("Every tool call is audited (medic audit list --action mcp.tool_call); sessions are kept as AI runs (medic ai runs list). See docs/mcp.md.");
            return ExitCodes.Ok;
        });

        return new Command("mcp", "Medic as an MCP server for your own AI client (docs/mcp.md)") { url };
    }

    public static string Endpoint(string server) => server.TrimEnd('/') + "/mcp";

    /// <summary>The <c>mcpServers</c> entry most clients read (Claude Code, VS Code, Cursor, ...): Streamable HTTP with a bearer header.</summary>
    public static string ClientConfig(string name, string endpoint)
    {
        using var buffer = new MemoryStream();
        using (var w = new Utf8JsonWriter(buffer, new JsonWriterOptions { Indented = true }))
        {
            w.WriteStartObject();
            w.WriteStartObject("mcpServers");
            w.WriteStartObject(name);
            w.WriteString("type", "http");
            w.WriteString("url", endpoint);
            w.WriteStartObject("headers");
            w.WriteString("Authorization", "Bearer " + TokenPlaceholder);
            w.WriteEndObject();
            w.WriteEndObject();
            w.WriteEndObject();
            w.WriteEndObject();
        }

        return Encoding.UTF8.GetString(buffer.ToArray());
    }
}
