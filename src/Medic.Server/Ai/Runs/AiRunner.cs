using Medic.Server.Ai.OperatorTools;
using Medic.Server.Ai.Providers;
using Medic.Server.Ai.Skills;
using Medic.Server.Ai.Tools;
using Medic.Server.Common;
using Medic.Server.Secrets;

namespace Medic.Server.Ai.Runs;

/// <summary>
/// Runs one AI run end to end: resolves the model (none configured: nothing runs, and the caller
/// falls back to the rules engine), the tenant's secret redaction, the skills within their token
/// budget and the allowed tools (built-in, and the operator tools the allowlist names); runs the bounded loop with the tenant's monthly budget checked
/// before every model call; records token use and cost; and keeps the bundle, hashed into the audit chain.
/// </summary>
internal sealed class AiRunner(ChatModels models, AiBudget budget, SkillLibrary skills, SecretRedactor secrets, AiToolbox toolbox, OperatorToolFactory operatorTools, AiRunLoop loop, AiRunStore store)
{
    /// <summary>How many tokens of skills a run's system prompt may carry.</summary>
    public const int SkillTokenBudget = 6000;

    /// <summary>Whether the tenant has a model to run with (the named entry, or the default).</summary>
    public async Task<bool> ConfiguredAsync(string tenantId, string? model, CancellationToken ct) => await models.ResolveAsync(tenantId, model, ct) is not null;

    /// <summary>The run, or null when no model is configured for the tenant.</summary>
    public async Task<AiRunResult?> RunAsync(AiRunSpec spec, Func<AiRunEvent, ValueTask>? onEvent, CancellationToken ct)
    {
        var route = await models.ResolveAsync(spec.TenantId, spec.Model, ct);
        if (route is null) return null;
        var redaction = await secrets.ForTenantAsync(spec.TenantId, ct);
        var wanted = spec.Skills.Count > 0 ? spec.Skills : await skills.SuggestAsync(spec.TenantId, SkillHint(spec), 3, ct);
        var knowledge = wanted.Count == 0 ? null : await skills.LoadAsync(spec.TenantId, wanted, SkillTokenBudget, ct);
        var named = await operatorTools.ForAsync(spec.TenantId, spec.Tools, ct);
        var tools = toolbox.For(spec.Tools, spec.Trust).Concat(named).Where(t => !spec.ReadOnly || !t.Acts).Concat(spec.ExtraTools).ToList();
        var context = new AiToolContext
        {
            TenantId = spec.TenantId, RunId = Ids.New("air"), Actor = spec.Actor, Trust = spec.Trust, Incident = spec.Incident, Round = spec.Round,
            Server = spec.Server, Redact = redaction.Apply,
        };
        var request = new AiRunRequest(context, spec.Purpose, spec.Agent, AiPrompts.System(spec.AgentPrompt, knowledge), spec.Input, tools, spec.Limits)
        {
            History = spec.History,
            BeforeModelCall = async c => await budget.CheckAsync(spec.TenantId, c) is { Exhausted: true } state
                ? $"the tenant's monthly AI budget is spent ({state.SpentUsd:0.##} of {state.LimitUsd:0.##} USD); the rules engine goes on"
                : null,
        };
        // The route records every answered call's tokens and cost against the agent and this run.
        route.Agent = spec.Agent;
        route.RunId = context.RunId;
        var bundle = await loop.RunAsync(route, request, onEvent, ct);
        var usage = await budget.UsageAsync(spec.TenantId, bundle.StartedAt, "run", ct);
        if (usage.Rows.FirstOrDefault(r => r.Key == context.RunId) is { CostUsd: > 0 } cost) bundle.Cost = (decimal)cost.CostUsd;

        var summary = await store.SaveAsync(spec.TenantId, spec.Actor, bundle, ct);
        return new AiRunResult(bundle, summary, redaction.Apply);
    }

    private static string SkillHint(AiRunSpec spec) => spec.Incident is { } i ? $"{i.Type} {i.Title} {string.Join(" ", i.Labels.Values)}" : spec.Input;
}
