using Medic.Contracts.Agent;
using Medic.Server.Web.Shared;
using Microsoft.AspNetCore.Components;

namespace Medic.Server.Web.Pages.Settings;

/// <summary>
/// The form that adds an agent monitor: the kind's own fields appear as the kind is picked, the
/// request goes to <c>POST /api/v1/monitors</c> from the browser (the API checks the role, the
/// definition and the server, and audits it), and each of its validation answers is shown under
/// the field it names.
/// </summary>
public partial class MonitorForm : ComponentBase
{
    private MonitorDraft _draft = new();
    private IReadOnlyDictionary<string, string[]> _errors = new Dictionary<string, string[]>();
    private string? _problem;
    private bool _busy;

    /// <summary>The fields the form shows answers under; an answer for another field goes into the problem line.</summary>
    private static readonly string[] ShownFields =
    [
        "name", "tags", "server", "definition", "definition.url", "definition.expect_status", "definition.port", "definition.min_days", "definition.max_percent",
        "definition.max_inodes_percent", "definition.max_load", "definition.path", "definition.count", "definition.window_seconds", "definition.max_age_seconds",
        "definition.command", "definition.interval_seconds", "definition.for_seconds",
    ];

    [Inject] private ConsoleApi Api { get; set; } = default!;

    /// <summary>Called after the API stored a monitor, so the page lists it.</summary>
    [Parameter] public EventCallback Added { get; set; }

    private string Scope
    {
        get => _draft.ByTags ? "tags" : "server";
        set => _draft.ByTags = value == "tags";
    }

    private static string KindText(MonitorKind kind) => kind switch
    {
        MonitorKind.FileAge => "file_age",
        _ => kind.ToString().ToLowerInvariant(),
    };

    /// <summary>The answers were about the other kind's fields.</summary>
    private void KindChanged() => _errors = new Dictionary<string, string[]>();

    private async Task AddAsync()
    {
        var (request, local) = _draft.ToRequest();
        if (request is null)
        {
            _errors = local;
            _problem = "Some fields cannot be read; each says why.";
            return;
        }

        _busy = true;
        var outcome = await Api.PostAsync("/api/v1/monitors", request);
        _busy = false;
        if (!outcome.Succeeded)
        {
            _errors = outcome.FieldErrors;
            _problem = outcome.MessageExcept(ShownFields);
            return;
        }

        _errors = new Dictionary<string, string[]>();
        _problem = null;
        // A new draft of the same kind and scope: the next monitor is often a sibling of this one.
        _draft = new MonitorDraft { Kind = _draft.Kind, ByTags = _draft.ByTags, Server = _draft.Server, Tags = _draft.Tags };
        await Added.InvokeAsync();
    }
}
