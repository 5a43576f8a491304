namespace Medic.Server.Detection.Webhooks;

internal sealed partial class WebhookCredentialStore
{
    [LoggerMessage(430, LogLevel.Warning, "Webhook credential {CredentialId} of tenant {TenantId} cannot be opened with this master key; rotate the tenant's webhook credentials")]
    private static partial void LogUnreadable(ILogger logger, string credentialId, string tenantId);
}
