using Medic.Server.Auth;

namespace Medic.Server.Web.Pages.Settings;

/// <summary>One settings page: where it is, what it holds, and the permission its API needs to read it.</summary>
internal sealed record SettingsSection(string Path, string Title, string Summary, Permission Needs)
{
    public static readonly IReadOnlyList<SettingsSection> All =
    [
        new("/settings/users", "Users", "Who can sign in, and their roles.", Permission.Read),
        new("/settings/tokens", "API tokens", "Tokens for scripts and the CLI; the secret is shown once.", Permission.Read),
        new("/settings/enrollment", "Enrollment", "Tokens new servers enroll with, and the command to run on them.", Permission.Administer),
        new("/settings/webhooks", "Alert webhooks", "Where monitoring tools send alerts, their credentials and deliveries.", Permission.Administer),
        new("/settings/notifications", "Notifications", "Channels Medic notifies, with a test message.", Permission.Administer),
        new("/settings/monitors", "Monitors and checks", "What the agents watch and what the control plane probes.", Permission.Read),
        new("/settings/silences", "Silences", "Signals muted for a while, by label.", Permission.Read),
        new("/settings/windows", "Change windows", "Times when nothing runs without a person.", Permission.Read),
        new("/settings/secrets", "Secrets", "Named secrets runbooks and channels use; values are never shown.", Permission.Administer),
    ];
}
