using System.Globalization;
using Medic.Contracts;
using Medic.Server.Audit;
using Medic.Server.Common;
using Medic.Server.Web.Shared;
using Microsoft.AspNetCore.Components;

namespace Medic.Server.Web.Pages;

/// <summary>
/// The tenant's audit chain: the newest entries with filters, the incremental chain check on each
/// view, a full check through the API, and the export link (the API's JSON lines).
/// </summary>
public partial class AuditTrail : ConsolePage
{
    private const int PageSize = 50;

    private readonly List<AuditEntry> _entries = [];
    private AuditQuery _query = new(Limit: PageSize);
    private long? _nextBefore;
    private AuditVerification? _verification;
    private string _verifiedHow = "";
    private string? _problem;
    private bool _busy;
    private string? _actor, _action, _target, _outcome, _since;

    [Inject] private AuditLog Log { get; set; } = default!;
    [Inject] private ConsoleApi Api { get; set; } = default!;

    private bool Filtered => _query.Actor is not null || _query.Action is not null || _query.Target is not null || _query.Outcome is not null || _query.Since is not null;

    /// <summary>The API's export with the filters applied; the browser sends the session cookie with the GET.</summary>
    private string ExportUrl
    {
        get
        {
            var query = new Dictionary<string, string?>
            {
                ["actor"] = _query.Actor, ["action"] = _query.Action, ["target"] = _query.Target, ["outcome"] = _query.Outcome,
                ["since"] = _query.Since?.UtcDateTime.ToString("O", CultureInfo.InvariantCulture),
            };
            return Microsoft.AspNetCore.WebUtilities.QueryHelpers.AddQueryString("/api/v1/audit/export", query.Where(kv => kv.Value is not null));
        }
    }

    private protected override async Task LoadAsync()
    {
        _verification = await Log.VerifySinceLastAsync(Caller.TenantId);
        _verifiedHow = "Checked the entries added since the last verification";
        await ReadAsync(reset: true);
    }

    private async Task ReadAsync(bool reset)
    {
        var page = await Log.QueryAsync(Caller.TenantId, reset ? _query : _query with { Before = _nextBefore });
        if (reset) _entries.Clear();
        _entries.AddRange(page.Items);
        _nextBefore = page.NextBefore;
    }

    private async Task ApplyAsync()
    {
        _problem = null;
        DateTimeOffset? since = null;
        if (!string.IsNullOrWhiteSpace(_since))
        {
            var text = _since.Trim();
            if (DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var at)) since = at;
            else if (Durations.TryParse(text, out var ago)) since = DateTimeOffset.UtcNow - ago;
            else
            {
                _problem = $"'{text}' is neither a time (2026-11-21T10:00:00Z) nor a duration ago (24h, 7d).";
                return;
            }
        }

        _query = new AuditQuery(since, Actor: Blank(_actor), Action: Blank(_action), Limit: PageSize, Target: Blank(_target), Outcome: Blank(_outcome));
        await ReadAsync(reset: true);
    }

    private Task OlderAsync() => ReadAsync(reset: false);

    /// <summary>The full recomputation from entry 1, through the API (<c>medic audit verify</c>).</summary>
    private async Task VerifyAllAsync()
    {
        _busy = true;
        _problem = null;
        var outcome = await Api.GetAsync("/api/v1/audit/verify");
        _busy = false;
        if (!outcome.Succeeded)
        {
            _problem = outcome.Message;
            return;
        }

        var report = outcome.Read<AuditVerificationReport>();
        _verification = report.Chains.Count == 1 ? report.Chains[0] : new AuditVerification(report.Ok, Caller.TenantId, report.Chains.Sum(c => c.Checked), 0, report.Chains.FirstOrDefault(c => !c.Ok)?.FirstBroken);
        _verifiedHow = "Recomputed the whole chain from entry 1";
    }

    private static string? Blank(string? text) => string.IsNullOrWhiteSpace(text) ? null : text.Trim();
}
