using System.Text;
using Medic.Contracts;
using Medic.Server.Common;

namespace Medic.Server.Ai.Agents;

/// <summary>What makes an AI agent valid; a pure function of the request, so every rule is tested without I/O.</summary>
internal static class AiAgentRules
{
    public const int MaxPromptBytes = 16 * 1024;
    public const int MaxSkills = 20;
    public static readonly TimeSpan MinPatrol = TimeSpan.FromMinutes(5);
    public static readonly TimeSpan MaxPatrol = TimeSpan.FromDays(7);

    /// <summary>
    /// The draft to save, or the field errors; <paramref name="warnings"/> names tools that are
    /// neither built in nor among <paramref name="operatorTools"/>, the tenant's operator-defined tools
    /// (accepted: an operator may define them later).
    /// </summary>
    public static AiAgentDraft? Validate(string name, AiAgentRequest? request, Validator errors, out List<string> warnings, IReadOnlySet<string>? operatorTools = null)
    {
        warnings = [];
        if (!ResourceNames.IsValid(name)) errors.Add("name", "must be 1 to 63 lowercase letters, digits, '.', '_' or '-', starting with a letter or digit");
        if (request is null)
        {
            errors.Add("body", "is required: a JSON object with trust, roles, system_prompt, skills, tools, model, patrol, enabled");
            return null;
        }

        var prompt = request.SystemPrompt ?? "";
        var bytes = Encoding.UTF8.GetByteCount(prompt);
        if (bytes > MaxPromptBytes) errors.Add("system_prompt", $"is {bytes} bytes long; the limit is {MaxPromptBytes} (16 KiB): move reference material into a skill");
        if (prompt.Contains('\0', StringComparison.Ordinal)) errors.Add("system_prompt", Validator.NulMessage);

        var skills = Names(request.Skills);
        if (skills.Count > MaxSkills) errors.Add("skills", $"names {skills.Count} skills; the limit is {MaxSkills}");
        foreach (var skill in skills.Where(s => !ResourceNames.IsValid(s))) errors.Add("skills", $"'{Clip(skill)}' is not a skill name (lowercase letters, digits, '.', '_', '-')");

        var tools = Names(request.Tools);
        if (tools.Count > AiToolNames.MaxTools) errors.Add("tools", $"names {tools.Count} tools; the limit is {AiToolNames.MaxTools}");
        foreach (var tool in tools)
        {
            if (!AiToolNames.Pattern().IsMatch(tool)) errors.Add("tools", $"'{Clip(tool)}' is not a tool name: a lowercase letter, then lowercase letters, digits and '_' (e.g. {AiToolNames.Diag}, {AiToolNames.ProposeRemediation})");
            else if (!AiToolNames.IsBuiltIn(tool) && operatorTools?.Contains(tool) != true) warnings.Add($"tool '{tool}' is not a built-in tool ({string.Join(", ", AiToolNames.BuiltIn)}); the agent can call it only once an operator tool of that name exists");
        }

        var trust = request.Trust ?? AiTrust.Supervised;
        if (trust == AiTrust.Manual && tools.Contains(AiToolNames.ProposeRemediation, StringComparer.Ordinal))
        {
            warnings.Add($"a manual agent never proposes: '{AiToolNames.ProposeRemediation}' is left out of its effective tools");
        }

        if (request.Model is { Length: > 0 } model && !ResourceNames.IsValid(model)) errors.Add("model", $"'{Clip(model)}' is not a model entry name (see 'medic ai models list')");

        TimeSpan? patrol = null;
        if (!string.IsNullOrWhiteSpace(request.Patrol))
        {
            if (!Duration.TryParse(request.Patrol, out var every)) errors.Add("patrol", $"{Duration.NotADuration("patrol", Clip(request.Patrol))}: {Duration.Hint}");
            else if (every < MinPatrol || every > MaxPatrol) errors.Add("patrol", $"is {Durations.Format(every)}; patrols run every {Durations.Format(MinPatrol)} to {Durations.Format(MaxPatrol)} (leave it out for no patrols)");
            else patrol = every;
        }

        var roles = (request.Roles ?? []).Distinct().Order().ToList();
        return errors.Ok ? new AiAgentDraft(trust, roles, prompt, skills, tools, string.IsNullOrEmpty(request.Model) ? null : request.Model, patrol, request.Enabled) : null;
    }

    /// <summary>The names as saved: trimmed, blanks dropped, each once, in the order given.</summary>
    public static List<string> Names(IReadOnlyList<string>? names) =>
        (names ?? []).Select(n => (n ?? "").Trim()).Where(n => n.Length > 0).Distinct(StringComparer.Ordinal).ToList();

    private static string Clip(string text) => text.Length <= 64 ? text : text[..63] + "…";
}
