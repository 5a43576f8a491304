using Medic.Server.Secrets;

namespace Medic.Server.Ai.Providers;

/// <summary>Reads a tenant's named secret (the API key of a model entry): the one thing providers need of Secrets/.</summary>
internal interface ISecretReader
{
    Task<string?> RevealAsync(string tenantId, string name, CancellationToken ct);
}

/// <summary>The tenant's named secrets (<see cref="SecretStore"/>), sealed at rest under the master key.</summary>
internal sealed class StoredSecrets(SecretStore store) : ISecretReader
{
    public Task<string?> RevealAsync(string tenantId, string name, CancellationToken ct) => store.RevealAsync(tenantId, name, ct);
}
