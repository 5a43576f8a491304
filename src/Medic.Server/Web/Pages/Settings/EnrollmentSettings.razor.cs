using Medic.Contracts;
using Medic.Server.Fleet;
using Medic.Server.Web.Shared;
using Microsoft.AspNetCore.Components;

namespace Medic.Server.Web.Pages.Settings;

/// <summary>Enrollment tokens: list, create (showing the same command <c>medic enroll-token create</c> prints), revoke.</summary>
public partial class EnrollmentSettings : ConsolePage
{
    private IReadOnlyList<EnrollmentTokenResponse> _tokens = [];
    private EnrollmentTokenCreatedResponse? _created;
    private string? _problem;
    private bool _busy;
    private string _tags = "", _expiresIn = "";
    private int _uses = 1;

    [Inject] private NodeStore Nodes { get; set; } = default!;
    [Inject] private ConsoleApi Api { get; set; } = default!;
    [Inject] private TimeProvider Time { get; set; } = default!;
    [Inject] private NavigationManager Navigation { get; set; } = default!;

    private protected override async Task LoadAsync() =>
        _tokens = [.. (await Nodes.ListEnrollmentTokensAsync(Caller.TenantId)).Select(t => t.ToResponse()).OrderByDescending(t => t.CreatedAt)];

    /// <summary>What <c>medic enroll-token create</c> prints, with this console's address as the server.</summary>
    private string EnrollCommand(string secret) => AgentInstall.Command(Navigation.BaseUri, secret);

    private string State(EnrollmentTokenResponse t) =>
        t.RevokedAt is not null ? "revoked" : t.ExpiresAt <= Time.GetUtcNow() ? "expired" : t.Uses >= t.UsesAllowed ? "used up" : "active";

    internal static string FormatTags(IReadOnlyDictionary<string, string> tags) =>
        tags.Count == 0 ? "-" : string.Join(",", tags.OrderBy(t => t.Key, StringComparer.Ordinal).Select(t => $"{t.Key}={t.Value}"));

    /// <summary>Tags as the CLI takes them: <c>key=value</c> pairs separated by commas; null with a message when one is not a pair.</summary>
    internal static (Dictionary<string, string>? Tags, string? Problem) ParseTags(string? text)
    {
        var tags = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var pair in (text ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var parts = pair.Split('=', 2, StringSplitOptions.TrimEntries);
            if (parts.Length != 2 || parts[0].Length == 0) return (null, $"Tag '{pair}' is not key=value. Write tags as env=prod,role=web.");
            tags[parts[0]] = parts[1];
        }

        return (tags, null);
    }

    private async Task CreateAsync()
    {
        var (tags, problem) = ParseTags(_tags);
        _problem = problem;
        if (tags is null) return;
        _busy = true;
        var outcome = await Api.PostAsync("/api/v1/enrollment-tokens",
            new CreateEnrollmentTokenRequest(tags, string.IsNullOrWhiteSpace(_expiresIn) ? null : _expiresIn.Trim(), _uses));
        _busy = false;
        _problem = outcome.Succeeded ? null : outcome.Message;
        if (!outcome.Succeeded) return;
        _created = outcome.Read<EnrollmentTokenCreatedResponse>();
        await LoadAsync();
    }

    private async Task RevokeAsync(EnrollmentTokenResponse token)
    {
        var outcome = await Api.DeleteAsync("/api/v1/enrollment-tokens/" + Uri.EscapeDataString(token.Id));
        _problem = outcome.Succeeded ? null : outcome.Message;
        await LoadAsync();
    }
}
