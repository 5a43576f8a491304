using System.Text;
using Medic.Contracts;
using Medic.Server.Runbooks;
using Medic.Server.Web.Shared;
using Microsoft.AspNetCore.Components;

namespace Medic.Server.Web.Pages.Runbooks;

/// <summary>
/// A runbook run, live: the stored step results per server (as <c>GET /api/v1/runbook-runs/{id}</c>),
/// and, while a step runs, its output as it comes, from the run's live feed in this process.
/// </summary>
public sealed partial class RunbookRunPage : ConsolePage
{
    private readonly CancellationTokenSource _stop = new();
    private readonly Dictionary<(string Server, int Step, string Phase), LiveStep> _live = [];
    private RunbookRunResponse? _run;
    private bool _missing;
    private Task? _follow;

    [Parameter] public string Id { get; set; } = "";

    [Inject] private RunbookRunner Runner { get; set; } = default!;

    private protected override async Task LoadAsync()
    {
        _run = await Runner.GetAsync(Caller.TenantId, Id, default);
        _missing = _run is null;
    }

    protected override void OnAfterRender(bool firstRender)
    {
        base.OnAfterRender(firstRender);
        if (firstRender && RendererInfo.IsInteractive && _run is { Status: RunbookRunStatus.Running }) _follow = FollowAsync(_stop.Token);
    }

    /// <summary>Subscribes, then reads what is stored (so nothing falls between), then applies each event until the run finishes.</summary>
    private async Task FollowAsync(CancellationToken ct)
    {
        try
        {
            var feed = Runner.Subscribe(Id);
            await RefreshAsync();
            if (feed is null) return; // finished (or running in another process): what is stored is all there is
            await foreach (var e in feed.ReadAllAsync(ct))
            {
                if (e.Type == "output" && e.Server is { } server && e.Step is { } step)
                {
                    await InvokeAsync(() =>
                    {
                        var key = (server, step, e.Phase ?? "main");
                        if (!_live.TryGetValue(key, out var live)) _live[key] = live = new LiveStep(e.Name ?? "");
                        live.Append(e.Data ?? "");
                        StateHasChanged();
                    });
                }
                else if (e.Type is "step_started" && e.Server is { } s && e.Step is { } st)
                {
                    await InvokeAsync(() =>
                    {
                        _live.TryAdd((s, st, e.Phase ?? "main"), new LiveStep(e.Name ?? ""));
                        StateHasChanged();
                    });
                }
                else
                {
                    await RefreshAsync();
                }
            }

            await RefreshAsync();
        }
        catch (OperationCanceledException)
        {
        }
        catch (ObjectDisposedException)
        {
            // The circuit went away while the run was going.
        }
    }

    private static string StepClass(RunbookStepStatus status) => status switch
    {
        RunbookStepStatus.Ok => "ok",
        RunbookStepStatus.Skipped => "info",
        _ => "failed",
    };

    public override async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        if (_follow is not null) await _follow;
        _stop.Dispose();
        await base.DisposeAsync();
    }

    /// <summary>The output of a step still running, as it arrives; the stored result replaces it when the step ends.</summary>
    private sealed class LiveStep(string name)
    {
        private readonly StringBuilder _text = new();

        public string Name { get; } = name;

        public string Text => _text.ToString();

        public void Append(string chunk)
        {
            _text.Append(chunk);
            if (_text.Length > 64 * 1024) _text.Remove(0, _text.Length - 64 * 1024); // the stored result keeps the whole output
        }
    }
}
