using Medic.Contracts;
using Medic.Server.Ai.Runs;
using Medic.Server.Web.Shared;
using Microsoft.AspNetCore.Components;

namespace Medic.Server.Web.Pages.Ai;

/// <summary>One AI run's bundle, as <c>GET /api/v1/ai/runs/{id}</c> returns it: what it was asked, each model turn and tool call, its outcome and integrity.</summary>
public sealed partial class AiRunPage : ConsolePage
{
    private AiRunBundleResponse? _bundle;
    private bool _missing;

    [Parameter] public string Id { get; set; } = "";

    [Inject] private AiRunStore Store { get; set; } = default!;

    private protected override async Task LoadAsync()
    {
        _bundle = await Store.GetAsync(Caller.TenantId, Id, default);
        _missing = _bundle is null;
    }

    private static string IntegrityText(string integrity) => integrity switch
    {
        "ok" => "the stored bundle matches the hash in the audit chain",
        "mismatch" => "the stored bundle no longer matches the hash in the audit chain: it was changed after the run",
        _ => "no audit entry names this run",
    };
}
