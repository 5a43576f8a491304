namespace Medic.Server.Runbooks;

/// <summary>A step reads <c>${{ secrets.NAME }}</c> and the tenant has no such secret: that step fails, naming it (never a value).</summary>
internal sealed class RunbookSecretMissingException(string name)
    : Exception($"the secret '{name}' does not exist in this tenant (or cannot be opened with this master key); set it with 'medic secrets set {name}' and run again")
{
    public string Name { get; } = name;
}
