namespace Medic.Server.Ai.Eval;

internal static class EvalServices
{
    /// <summary>The evaluation harness (docs/ai-eval.md): scenarios through the real run loop, answered from recordings.</summary>
    public static IServiceCollection AddAiEval(this IServiceCollection services) => services.AddSingleton<EvalHarness>();
}
