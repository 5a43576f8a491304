using Medic.Contracts;
using Medic.Server.Web.Shared;
using Microsoft.AspNetCore.Components;

namespace Medic.Server.Web.Pages.Runbooks;

/// <summary>Sends <c>POST /api/v1/runbooks/{name}/runs</c> from the generated form; a dry run's plan is shown here, a real run opens its page.</summary>
public partial class RunbookRunForm
{
    private readonly TargetSelection _targets = new();
    private bool _dryRun = true;
    private bool _confirmed;
    private bool _busy;
    private string? _problem;
    private RunbookRunResponse? _plan;

    [Inject] private ConsoleApi Api { get; set; } = default!;
    [Inject] private NavigationManager Navigation { get; set; } = default!;

    [Parameter, EditorRequired] public RunbookResponse Runbook { get; set; } = default!;

    [Parameter, EditorRequired] public string TenantId { get; set; } = "";

    [Parameter] public bool HasApprovalSteps { get; set; }

    /// <summary>The runbook's own targets in words, when it has a selector (then the picker may stay empty).</summary>
    [Parameter] public string? OwnTargets { get; set; }

    /// <summary>The typed values by parameter name, starting at the defaults.</summary>
    internal Dictionary<string, string> Values { get; } = new(StringComparer.Ordinal);

    protected override void OnParametersSet()
    {
        foreach (var p in Runbook.Parameters) Values.TryAdd(p.Name, p.Default ?? (p.Type == "bool" ? "false" : ""));
    }

    /// <summary>The request the form sends: only the values given (an empty field takes the default), the selector when one is given.</summary>
    internal (RunbookRunRequest? Request, string? Problem) Build()
    {
        var (selector, problem) = _targets.ToSelector();
        if (problem is not null) return (null, problem);
        var given = Values.Where(kv => kv.Value.Length > 0).ToDictionary(kv => kv.Key, kv => kv.Value, StringComparer.Ordinal);
        return (new RunbookRunRequest(given, selector, _dryRun, _confirmed, Runbook.Runbook.Version), null);
    }

    private async Task SubmitAsync()
    {
        _problem = null;
        _plan = null;
        var (request, problem) = Build();
        if (request is null)
        {
            _problem = problem;
            return;
        }

        _busy = true;
        try
        {
            var reply = await Api.PostAsync($"/api/v1/runbooks/{Uri.EscapeDataString(Runbook.Runbook.Name)}/runs", request);
            if (!reply.Succeeded)
            {
                _problem = reply.Message;
                return;
            }

            var run = reply.Read<RunbookRunResponse>();
            if (run.DryRun) _plan = run;
            else Navigation.NavigateTo("/runbooks/runs/" + Uri.EscapeDataString(run.Id));
        }
        finally
        {
            _busy = false;
        }
    }

    private void SetBool(string name, ChangeEventArgs e) => Values[name] = e.Value is true ? "true" : "false";

    private static string Hint(RunbookParameterResponse p)
    {
        var parts = new List<string>();
        if (p.Description is { Length: > 0 } d) parts.Add(d);
        parts.Add(p.Type);
        if (p.Default is { } def) parts.Add($"default {(def.Length == 0 ? "empty" : def)}");
        if (p.Type == "int" && (p.Min is not null || p.Max is not null)) parts.Add($"{p.Min?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "…"} to {p.Max?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "…"}");
        if (p.Pattern is { } pattern) parts.Add("matches " + pattern);
        return string.Join(" · ", parts);
    }

    /// <summary>Shows an argv element as a shell would need it, so what is shown can be pasted.</summary>
    private static string Quote(string s) => s.Length > 0 && s.All(c => char.IsAsciiLetterOrDigit(c) || "-_./=:,@%+".Contains(c, StringComparison.Ordinal))
        ? s
        : "'" + s.Replace("'", "'\\''", StringComparison.Ordinal) + "'";
}
