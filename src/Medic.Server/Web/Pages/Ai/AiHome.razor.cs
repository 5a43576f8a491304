using System.Text.Json;
using Medic.Contracts;
using Medic.Server.Ai.Runs;
using Medic.Server.Web.Shared;
using Microsoft.AspNetCore.Components;

namespace Medic.Server.Web.Pages.Ai;

/// <summary>
/// The AI page: <c>ask</c> through <c>POST /api/v1/ai/ask</c> when the tenant has a model, how to
/// configure one when it has none, and the tenant's AI runs (as <c>GET /api/v1/ai/runs</c>).
/// </summary>
public sealed partial class AiHome : ConsolePage
{
    private static readonly string[] Purposes = ["triage", "diagnose", "validate", "review", "report", "ask", "patrol", "mcp", "eval"];

    private bool _configured;
    private IReadOnlyList<AiRunSummary> _runs = [];
    private string _purpose = "";
    private string _question = "";
    private bool _newSession;
    private bool _asking;
    private string? _problem;
    private AskAnswer? _answer;

    [Inject] private AiRunner Runner { get; set; } = default!;
    [Inject] private AiRunStore Store { get; set; } = default!;
    [Inject] private ConsoleApi Api { get; set; } = default!;

    private protected override async Task LoadAsync()
    {
        _configured = await Runner.ConfiguredAsync(Caller.TenantId, null, default);
        _runs = await Store.ListAsync(Caller.TenantId, null, _purpose.Length == 0 ? null : _purpose, 50, default);
    }

    private async Task AskAsync()
    {
        _problem = null;
        _answer = null;
        _asking = true;
        try
        {
            var reply = await Api.PostAsync("/api/v1/ai/ask", new AskRequest(_question, New: _newSession));
            if (!reply.Succeeded)
            {
                _problem = reply.Message;
                return;
            }

            _answer = AskAnswer.Read(reply.Body);
            _question = "";
            await LoadAsync();
        }
        finally
        {
            _asking = false;
        }
    }

    /// <summary>The answer put together from the stream's lines (<see cref="AskEvent"/>): text, tools, notices and the final outcome.</summary>
    internal sealed class AskAnswer
    {
        public string Text { get; private set; } = "";
        public List<string> Tools { get; } = [];
        public List<string> Notices { get; } = [];
        public string? Outcome { get; private set; }
        public string? Run { get; private set; }
        public IReadOnlyList<string> Proposals { get; private set; } = [];

        public static AskAnswer Read(string ndjson)
        {
            var answer = new AskAnswer();
            foreach (var line in ndjson.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
            {
                AskEvent? e;
                try
                {
                    e = JsonSerializer.Deserialize(line, MedicJson.Default.AskEvent);
                }
                catch (JsonException)
                {
                    continue;
                }

                switch (e?.Type)
                {
                    case "text": answer.Text += e.Text; break;
                    case "tool": answer.Tools.Add(e.Error is null ? e.Tool ?? "?" : $"{e.Tool} ({e.Error})"); break;
                    case "notice": answer.Notices.Add(e.Text ?? ""); break;
                    case "done":
                        answer.Outcome = e.Outcome;
                        answer.Run = e.Run;
                        answer.Proposals = e.Proposals ?? [];
                        if (e.Text is { Length: > 0 } reason && answer.Text.Length == 0) answer.Text = reason;
                        break;
                }
            }

            return answer;
        }
    }
}
