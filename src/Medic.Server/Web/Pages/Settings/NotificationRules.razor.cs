using Medic.Contracts;
using Medic.Server.Auth;
using Medic.Server.Notifications;
using Medic.Server.Web.Shared;
using Microsoft.AspNetCore.Components;
using Microsoft.AspNetCore.Components.Authorization;

namespace Medic.Server.Web.Pages.Settings;

/// <summary>
/// The tenant's notification routing rules: listed from the store, added and removed through
/// <c>/api/v1/notification-rules</c> from the browser, so the API's validation (severities,
/// events, durations, channels that exist) and audit apply; its answers show under the fields.
/// </summary>
public partial class NotificationRules : ComponentBase
{
    private static readonly string[] Severities = ["info", "warning", "critical"];
    private static readonly string[] ShownFields = ["name", "channels", "events", "source", "server", "labels", "renotify_every"];

    private IReadOnlyList<NotificationRuleResponse> _rules = [];
    private RuleDraft _draft = new();
    private IReadOnlyDictionary<string, string[]> _errors = new Dictionary<string, string[]>();
    private string? _problem;
    private bool _busy;
    private string _tenantId = "";

    [CascadingParameter] private Task<AuthenticationState> AuthenticationState { get; set; } = default!;
    [Inject] private NotificationStore Store { get; set; } = default!;
    [Inject] private ConsoleApi Api { get; set; } = default!;

    /// <summary>The tenant's channels, which a rule may send to.</summary>
    [Parameter, EditorRequired] public IReadOnlyList<NotificationChannelResponse> Channels { get; set; } = [];

    protected override async Task OnInitializedAsync()
    {
        _tenantId = Caller.From((await AuthenticationState).User)?.TenantId ?? throw new InvalidOperationException("The rules were rendered without a signed-in caller.");
        await LoadAsync();
    }

    private async Task LoadAsync()
    {
        var names = Channels.ToDictionary(c => c.Id, c => c.Name, StringComparer.Ordinal);
        var rows = await Store.RulesAsync(_tenantId, default);
        _rules = [.. rows.Select(r => r.ToResponse(names)).OrderBy(r => r.Name, StringComparer.Ordinal)];
    }

    private static void Toggle(List<string> list, string value, ChangeEventArgs e)
    {
        list.Remove(value);
        if (e.Value is true) list.Add(value);
    }

    private static string Matches(NotificationRuleResponse r)
    {
        var parts = new List<string> { r.MinSeverity + " and above" };
        if (r.Source is { } source) parts.Add("source " + source);
        if (r.Server is { } server) parts.Add("server " + server);
        parts.AddRange(r.Labels.Select(l => $"{l.Key}={l.Value}"));
        return string.Join(", ", parts);
    }

    private async Task AddAsync()
    {
        var (request, local) = _draft.ToRequest();
        if (request is null)
        {
            _errors = local;
            _problem = null;
            return;
        }

        _busy = true;
        var outcome = await Api.PostAsync("/api/v1/notification-rules", request);
        _busy = false;
        _errors = outcome.FieldErrors;
        _problem = outcome.Succeeded ? null : outcome.MessageExcept(ShownFields);
        if (!outcome.Succeeded) return;
        _draft = new RuleDraft();
        await LoadAsync();
    }

    private async Task RemoveAsync(NotificationRuleResponse rule)
    {
        var outcome = await Api.DeleteAsync("/api/v1/notification-rules/" + Uri.EscapeDataString(rule.Id));
        _problem = outcome.Succeeded ? null : outcome.Message;
        await LoadAsync();
    }
}
