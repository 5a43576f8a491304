using Medic.Contracts;
using Medic.Server.Silences;
using Medic.Server.Web.Shared;
using Microsoft.AspNetCore.Components;

namespace Medic.Server.Web.Pages.Settings;

/// <summary>Silences: everyone reads them; operators add and expire them through the silences API.</summary>
public partial class SilenceSettings : ConsolePage
{
    private IReadOnlyList<SilenceResponse> _silences = [];
    private string? _problem;
    private bool _busy;
    private string _matchers = "", _duration = "2h", _comment = "";

    [Inject] private SilenceStore Store { get; set; } = default!;
    [Inject] private ConsoleApi Api { get; set; } = default!;

    private protected override LiveOptions LiveOptions() => new(TimeSpan.FromSeconds(30));

    private protected override async Task LoadAsync() => _silences = await Store.ListAsync(Caller.TenantId, null, 200, default);

    private async Task AddAsync()
    {
        var (matchers, problem) = SilenceMatchers.Parse(_matchers);
        _problem = problem;
        if (matchers is null) return;
        _busy = true;
        var outcome = await Api.PostAsync("/api/v1/silences", new CreateSilenceRequest(matchers, _comment.Trim(), Duration: string.IsNullOrWhiteSpace(_duration) ? "2h" : _duration.Trim()));
        _busy = false;
        _problem = outcome.Succeeded ? null : outcome.Message;
        if (!outcome.Succeeded) return;
        _matchers = _comment = "";
        await LoadAsync();
    }

    private async Task ExpireAsync(SilenceResponse silence)
    {
        var outcome = await Api.PostAsync($"/api/v1/silences/{Uri.EscapeDataString(silence.Id)}/expire");
        _problem = outcome.Succeeded ? null : outcome.Message;
        await LoadAsync();
    }
}
