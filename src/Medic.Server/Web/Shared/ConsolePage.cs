using Medic.Server.Auth;
using Microsoft.AspNetCore.Components;
using Microsoft.AspNetCore.Components.Authorization;

namespace Medic.Server.Web.Shared;

/// <summary>
/// What every signed-in console page shares: the caller (tenant, role) read from the session, the
/// permission check that decides which actions to show, and live refresh that the page starts when
/// it becomes interactive and that stops when the page is disposed. Reads go to the capabilities'
/// stores scoped by the caller's tenant; state-changing actions go through <see cref="ConsoleApi"/>,
/// so the API decides.
/// </summary>
public abstract class ConsolePage : ComponentBase, IAsyncDisposable
{
    private LiveRefresh? _live;

    [CascadingParameter] private Task<AuthenticationState> AuthenticationState { get; set; } = default!;

    /// <summary>The signed-in caller; set before <see cref="LoadAsync"/> first runs.</summary>
    private protected Caller Caller { get; private set; } = default!;

    /// <summary>Whether the caller's role allows <paramref name="permission"/>: to show or hide an action. The API checks again.</summary>
    private protected bool Can(Permission permission) => Permissions.Allows(Caller.Role, Caller.Superadmin, permission);

    protected override async Task OnInitializedAsync() =>
        Caller = Caller.From((await AuthenticationState).User)
            ?? throw new InvalidOperationException("A console page was rendered without a signed-in caller.");

    /// <summary>Loads on every parameter change too: following a link from one incident to another reuses the page.</summary>
    protected override Task OnParametersSetAsync() => LoadAsync();

    protected override void OnAfterRender(bool firstRender)
    {
        if (firstRender && RendererInfo.IsInteractive && LiveOptions() is { } options)
        {
            _live = new LiveRefresh(options, RefreshAsync);
        }
    }

    /// <summary>Loads what the page shows, scoped by <see cref="Caller"/>'s tenant. Runs before the first render, when the route's parameters change, and on every refresh.</summary>
    private protected virtual Task LoadAsync() => Task.CompletedTask;

    /// <summary>When the page refreshes itself: every so often, and/or when an incident of the tenant changes. Null: never.</summary>
    private protected virtual LiveOptions? LiveOptions() => null;

    /// <summary>Reloads and re-renders on the page's own renderer thread.</summary>
    private protected Task RefreshAsync() => InvokeAsync(async () =>
    {
        await LoadAsync();
        StateHasChanged();
    });

    public virtual async ValueTask DisposeAsync()
    {
        if (_live is not null) await _live.DisposeAsync();
        GC.SuppressFinalize(this);
    }
}
