using System.Text.Json;
using System.Text.Json.Serialization;
using Medic.Contracts;
using Medic.Contracts.Agent;

namespace Medic.Agent;

/// <summary>What enrollment leaves on the node: where to connect, who it is, and the key that signs its tasks. Mode 0600.</summary>
public sealed class AgentConfig
{
    public const string DefaultPath = "/etc/medic/agent.json";

    public string Server { get; set; } = "";
    public string NodeId { get; set; } = "";
    public string Name { get; set; } = "";
    public string Tenant { get; set; } = "";
    public string Credential { get; set; } = "";
    public string SigningPublicKey { get; set; } = "";

    public static string PathFrom(string? flag) =>
        flag ?? (Environment.GetEnvironmentVariable("MEDIC_AGENT_CONFIG") is { Length: > 0 } env ? env : DefaultPath);

    public static AgentConfig Load(string path)
    {
        if (!File.Exists(path))
        {
            throw new AgentException($"{path} does not exist", "enroll first: medic-agent enroll --server URL --token T");
        }

        try
        {
            var config = JsonSerializer.Deserialize(File.ReadAllText(path), AgentConfigJson.Default.AgentConfig);
            if (config is not { Server.Length: > 0, Credential.Length: > 0, SigningPublicKey.Length: > 0 })
            {
                throw new AgentException($"{path} is incomplete", "enroll again: medic-agent enroll --server URL --token T");
            }

            try
            {
                // The pinned key every task's signature is checked against: a damaged one is a clear error here, not a crash later.
                TaskSigning.ImportPublicKey(config.SigningPublicKey).Dispose();
            }
            catch (Exception e) when (e is FormatException or System.Security.Cryptography.CryptographicException)
            {
                throw new AgentException($"{path}: signing_public_key is not a base64 ECDSA public key ({e.Message})",
                    "enroll again (medic-agent enroll --server URL --token T), or copy the key from a working agent.json");
            }

            return config;
        }
        catch (JsonException ex)
        {
            throw new AgentException($"{path} is not valid JSON ({ex.Message})", "enroll again: medic-agent enroll --server URL --token T");
        }
    }

    public void Save(string path)
    {
        var dir = Path.GetDirectoryName(Path.GetFullPath(path))!;
        if (!Directory.Exists(dir)) PrivateFiles.EnsureDirectory(dir);
        PrivateFiles.WriteAtomic(path, stream => JsonSerializer.Serialize(stream, this, AgentConfigJson.Default.AgentConfig));
    }
}

/// <summary>A failure the operator can act on: one line of cause, one of remedy.</summary>
public sealed class AgentException(string cause, string remedy) : Exception(cause)
{
    public string Remedy { get; } = remedy;
}

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower, WriteIndented = true)]
[JsonSerializable(typeof(AgentConfig))]
internal sealed partial class AgentConfigJson : JsonSerializerContext;
