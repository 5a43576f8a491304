using Medic.Contracts;
using Medic.Server.Detection.Checks;
using Medic.Server.Detection.Monitors;
using Medic.Server.Web.Shared;
using Microsoft.AspNetCore.Components;

namespace Medic.Server.Web.Pages.Settings;

/// <summary>
/// Checks (admins add HTTP, TCP and command checks and remove them; non-admins see targets masked,
/// as the checks API shows them) and agent monitors (operators add them with <see cref="MonitorForm"/> and remove them).
/// </summary>
public partial class MonitorSettings : ConsolePage
{
    private IReadOnlyList<CheckResponse> _checks = [];
    private IReadOnlyList<MonitorResponse> _monitors = [];
    private string? _problem;
    private bool _busy;
    private string _checkName = "", _checkKind = "http", _checkTarget = "", _checkInterval = "", _checkCommand = "", _checkServer = "";
    private IReadOnlyDictionary<string, string[]> _checkErrors = new Dictionary<string, string[]>();

    /// <summary>The check form's fields that show the API's answer under them.</summary>
    private static readonly string[] CheckFields = ["name", "target", "command", "server", "interval"];

    [Inject] private CheckStore Checks { get; set; } = default!;
    [Inject] private MonitorStore Monitors { get; set; } = default!;
    [Inject] private ConsoleApi Api { get; set; } = default!;

    private protected override LiveOptions LiveOptions() => new(TimeSpan.FromSeconds(30));

    private protected override async Task LoadAsync()
    {
        _checks = [.. (await Checks.ListAsync(Caller.TenantId, default)).Select(c => ChecksApi.ForCaller(Caller, c.ToResponse())).OrderBy(c => c.Name, StringComparer.Ordinal)];
        _monitors = [.. (await Monitors.ListAsync(Caller.TenantId, default)).Select(m => m.ToResponse()).OrderBy(m => m.Name, StringComparer.Ordinal)];
    }

    private async Task AddCheckAsync()
    {
        _busy = true;
        var command = _checkKind == "command";
        var outcome = await Api.PostAsync("/api/v1/checks", new CreateCheckRequest(
            _checkName.Trim(), _checkKind,
            Target: command ? null : _checkTarget.Trim(),
            Server: command ? _checkServer.Trim() : null,
            Command: command ? _checkCommand.Trim() : null,
            Interval: string.IsNullOrWhiteSpace(_checkInterval) ? null : _checkInterval.Trim()));
        _busy = false;
        _checkErrors = outcome.FieldErrors;
        _problem = outcome.Succeeded ? null : outcome.MessageExcept(CheckFields);
        if (!outcome.Succeeded) return;
        _checkName = _checkTarget = _checkInterval = _checkCommand = "";
        await LoadAsync();
    }

    private async Task RemoveCheckAsync(CheckResponse check)
    {
        var outcome = await Api.DeleteAsync("/api/v1/checks/" + Uri.EscapeDataString(check.Id));
        _problem = outcome.Succeeded ? null : outcome.Message;
        await LoadAsync();
    }

    private async Task RemoveMonitorAsync(MonitorResponse monitor)
    {
        var outcome = await Api.DeleteAsync("/api/v1/monitors/" + Uri.EscapeDataString(monitor.Id));
        _problem = outcome.Succeeded ? null : outcome.Message;
        await LoadAsync();
    }
}
