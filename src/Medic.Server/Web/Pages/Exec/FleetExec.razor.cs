using Medic.Contracts;
using Medic.Server.Fleet;
using Medic.Server.Web.Shared;
using Microsoft.AspNetCore.Components;

namespace Medic.Server.Web.Pages.Exec;

/// <summary>
/// Fleet exec: the selector with a preview of the servers it matches, the strategies the API takes,
/// the command; the run goes through <c>POST /api/v1/exec</c>, and each server's result appears as it
/// arrives, from the execution's live feed in this process.
/// </summary>
public sealed partial class FleetExec : ConsolePage
{
    private readonly TargetSelection _targets = new();
    private readonly CancellationTokenSource _stop = new();
    private TargetPicker? _picker;
    private string _command = "";
    private string _strategy = "parallel";
    private int? _max;
    private int? _delay;
    private int? _batch;
    private int? _timeout;
    private bool _busy;
    private string? _problem;
    private ExecutionResponse? _execution;
    private Task? _follow;

    [Inject] private ConsoleApi Api { get; set; } = default!;
    [Inject] private Executions Executions { get; set; } = default!;

    private async Task RunAsync()
    {
        _problem = null;
        var (selector, problem) = _targets.ToSelector();
        if (selector is null)
        {
            _problem = problem ?? "Choose the servers first: names, tags, an environment, groups, or every server.";
            return;
        }

        if (_picker is not null) await _picker.PreviewAsync();
        var strategy = new ExecStrategy(_strategy, _strategy == "parallel" ? _max : null, _strategy == "serial" ? _delay : null, _strategy == "batches" ? _batch : null);
        _busy = true;
        try
        {
            var reply = await Api.PostAsync("/api/v1/exec", new ExecRequest(_command, selector, strategy, _timeout));
            if (!reply.Succeeded)
            {
                _problem = reply.Message;
                return;
            }

            _execution = reply.Read<ExecutionResponse>();
            if (_follow is not null) await _follow;
            _follow = FollowAsync(_execution.Id, _stop.Token);
        }
        finally
        {
            _busy = false;
        }
    }

    /// <summary>Subscribes, then reads what is stored (so no result falls between), then re-reads on each result until the execution ends.</summary>
    private async Task FollowAsync(string id, CancellationToken ct)
    {
        try
        {
            var feed = Executions.Subscribe(id);
            await ShowAsync(id);
            if (feed is not null)
            {
                await foreach (var _ in feed.ReadAllAsync(ct)) await ShowAsync(id);
            }

            await ShowAsync(id);
        }
        catch (OperationCanceledException)
        {
        }
        catch (ObjectDisposedException)
        {
            // The circuit went away while the execution was going.
        }
    }

    private async Task ShowAsync(string id)
    {
        if (await Executions.GetAsync(Caller.TenantId, id, default) is { } e)
        {
            await InvokeAsync(() =>
            {
                _execution = e;
                StateHasChanged();
            });
        }
    }

    public override async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        if (_follow is not null) await _follow;
        _stop.Dispose();
        await base.DisposeAsync();
    }
}
