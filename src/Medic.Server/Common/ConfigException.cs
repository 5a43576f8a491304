namespace Medic.Server.Common;

/// <summary>A configuration or key file Medic cannot start with, and what the operator can do about it.</summary>
public sealed class ConfigException(string message, string remedy) : Exception(message)
{
    public string Remedy { get; } = remedy;
}
