namespace Medic.Server.Ai.Runs;

/// <summary>How an AI run ended. Stored as its snake_case text (<see cref="AiRunOutcomes.ToText"/>).</summary>
internal enum AiRunOutcome
{
    /// <summary>The model answered without asking for another tool.</summary>
    Completed,

    /// <summary>The iteration budget ran out.</summary>
    IterationLimit,

    /// <summary>The wall-time budget ran out.</summary>
    TimedOut,

    /// <summary>Tool calls kept failing after the model was told to change approach.</summary>
    Stopped,

    /// <summary>No model answered (every entry of the chain failed).</summary>
    ProviderFailed,

    /// <summary>The tenant's monthly AI budget is spent.</summary>
    BudgetExhausted,

    /// <summary>No model is configured: nothing ran.</summary>
    NotConfigured,

    /// <summary>A patrol without a model: its report is the statistical review only.</summary>
    StatisticalOnly,
}

internal static class AiRunOutcomes
{
    public static string ToText(this AiRunOutcome outcome) => outcome switch
    {
        AiRunOutcome.Completed => "completed",
        AiRunOutcome.IterationLimit => "iteration_limit",
        AiRunOutcome.TimedOut => "timed_out",
        AiRunOutcome.Stopped => "stopped",
        AiRunOutcome.ProviderFailed => "provider_failed",
        AiRunOutcome.BudgetExhausted => "budget_exhausted",
        AiRunOutcome.StatisticalOnly => "statistical_only",
        _ => "not_configured",
    };
}
