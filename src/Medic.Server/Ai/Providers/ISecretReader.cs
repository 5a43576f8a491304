namespace Medic.Server.Ai.Providers;

/// <summary>
/// Reads a tenant's named secret (the API key of a model entry). Implemented over
/// Secrets/SecretStore.RevealAsync once that is part of the build; until then nothing stores secrets
/// and every lookup finds none.
/// </summary>
internal interface ISecretReader
{
    Task<string?> RevealAsync(string tenantId, string name, CancellationToken ct);
}

internal sealed class NoSecrets : ISecretReader
{
    public Task<string?> RevealAsync(string tenantId, string name, CancellationToken ct) => Task.FromResult<string?>(null);
}
