namespace Medic.Server.Ai.Runs;

/// <summary>One step of a run as the bundle keeps it: a model turn, a tool call, or a notice the loop gave the model.</summary>
internal sealed class AiRunStep
{
    public int Index { get; set; }

    /// <summary><c>model</c>, <c>tool</c> or <c>notice</c>.</summary>
    public string Kind { get; set; } = "";

    public DateTimeOffset At { get; set; }

    public long Ms { get; set; }

    /// <summary>Model turn: the text it wrote; notice: what the loop told it.</summary>
    public string? Text { get; set; }

    /// <summary>Model turn: which entry answered.</summary>
    public string? Model { get; set; }

    public long? InputTokens { get; set; }

    public long? OutputTokens { get; set; }

    /// <summary>Tool call: the tool's name, as the model asked for it.</summary>
    public string? Tool { get; set; }

    public string? CallId { get; set; }

    /// <summary>Tool call: the arguments as the model sent them (JSON).</summary>
    public string? Arguments { get; set; }

    /// <summary>Tool call: what the model got back.</summary>
    public string? Result { get; set; }

    /// <summary>Tool call: the structured error code, when it failed.</summary>
    public string? Error { get; set; }

    /// <summary>Tool call: answered from an identical earlier call, not run again.</summary>
    public bool Reused { get; set; }
}

/// <summary>
/// Everything about one AI run, kept as one record: what it was asked (system prompt and input),
/// each model turn and tool call with its result, the output, the model, tokens, latency, cost and
/// outcome. Secret values are redacted before anything lands here. Its SHA-256 goes into the audit chain.
/// </summary>
internal sealed class AiRunBundle
{
    public string RunId { get; set; } = "";

    public string Purpose { get; set; } = "";

    public string? Agent { get; set; }

    public string? IncidentId { get; set; }

    public string? Model { get; set; }

    public string SystemPrompt { get; set; } = "";

    public string Input { get; set; } = "";

    public List<string> Tools { get; set; } = [];

    public List<AiRunStep> Steps { get; set; } = [];

    public string? Output { get; set; }

    public string Outcome { get; set; } = "";

    public string? OutcomeReason { get; set; }

    public long InputTokens { get; set; }

    public long OutputTokens { get; set; }

    public decimal? Cost { get; set; }

    public DateTimeOffset StartedAt { get; set; }

    public DateTimeOffset FinishedAt { get; set; }

    public long LatencyMs { get; set; }

    public int ToolCalls => Steps.Count(s => s.Kind == "tool");

    public List<string> Proposals { get; set; } = [];

    public bool Escalated { get; set; }
}
