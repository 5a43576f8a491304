using Medic.Contracts;
using Medic.Server.Common;
using Medic.Server.Pipeline;
using Medic.Server.Web.Shared;
using Microsoft.AspNetCore.Components;

namespace Medic.Server.Web.Pages.Settings;

/// <summary>Change windows now and to come; admins add and remove them through the pipeline's windows API.</summary>
public partial class WindowSettings : ConsolePage
{
    private IReadOnlyList<ChangeWindowResponse> _windows = [];
    private string? _problem;
    private bool _busy;
    private DateTime? _from;
    private string _duration = "4h", _reason = "";

    [Inject] private PipelineStore Store { get; set; } = default!;
    [Inject] private ConsoleApi Api { get; set; } = default!;
    [Inject] private TimeProvider Time { get; set; } = default!;

    private protected override LiveOptions LiveOptions() => new(TimeSpan.FromMinutes(1));

    private protected override async Task LoadAsync()
    {
        var now = Time.GetUtcNow();
        _windows = [.. (await Store.WindowsAsync(Caller.TenantId, false, default)).Select(w => w.ToResponse(now)).OrderBy(w => w.StartsAt)];
    }

    private async Task AddAsync()
    {
        if (!Durations.TryParse(_duration.Trim(), out var length) || length <= TimeSpan.Zero)
        {
            _problem = $"'{_duration}' is not a duration. Write it as 4h, 90m or 2d.";
            return;
        }

        // The field has no zone; the label says UTC, which is what the API and the CLI use.
        var start = _from is { } from ? new DateTimeOffset(DateTime.SpecifyKind(from, DateTimeKind.Utc)) : Time.GetUtcNow();
        _busy = true;
        var outcome = await Api.PostAsync("/api/v1/change-windows", new ChangeWindowRequest(start, start + length, _reason.Trim()));
        _busy = false;
        _problem = outcome.Succeeded ? null : outcome.Message;
        if (!outcome.Succeeded) return;
        _reason = "";
        _from = null;
        await LoadAsync();
    }

    private async Task RemoveAsync(ChangeWindowResponse window)
    {
        var outcome = await Api.DeleteAsync("/api/v1/change-windows/" + Uri.EscapeDataString(window.Id));
        _problem = outcome.Succeeded ? null : outcome.Message;
        await LoadAsync();
    }
}
