using System.Text.Json;
using System.Text.Json.Serialization;
using Medic.Contracts;

namespace Medic.Cli;

internal sealed class CliContext
{
    public string Server { get; set; } = "";
    public string Token { get; set; } = "";
    public string? User { get; set; }
    public string? Tenant { get; set; }
    public string? TokenId { get; set; }
}

/// <summary>
/// The CLI's contexts (server, token, user, tenant) in <c>~/.config/medic/config.json</c>, mode
/// 0600. <c>MEDIC_CLI_CONFIG</c> overrides the path; <c>XDG_CONFIG_HOME</c> is honoured.
/// </summary>
internal sealed class CliConfig
{
    public string? CurrentContext { get; set; }

    public Dictionary<string, CliContext> Contexts { get; set; } = new(StringComparer.Ordinal);

    public static string DefaultPath()
    {
        if (Environment.GetEnvironmentVariable("MEDIC_CLI_CONFIG") is { Length: > 0 } explicitPath) return Path.GetFullPath(explicitPath);
        var xdg = Environment.GetEnvironmentVariable("XDG_CONFIG_HOME");
        var root = string.IsNullOrEmpty(xdg) ? Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".config") : xdg;
        return Path.Combine(root, "medic", "config.json");
    }

    public static CliConfig Load(string path)
    {
        if (!File.Exists(path)) return new CliConfig();
        try
        {
            var config = JsonSerializer.Deserialize(File.ReadAllText(path), CliConfigJson.Default.CliConfig) ?? new CliConfig();
            config.Contexts ??= new(StringComparer.Ordinal);
            return config;
        }
        catch (JsonException ex)
        {
            throw new CliException($"the CLI config {path} is not valid JSON ({ex.Message})", $"fix or delete {path}, then run 'medic login' again");
        }
    }

    /// <summary>Writes atomically: a new 0600 file renamed over the old one, so the token is never readable by others, even briefly.</summary>
    public void Save(string path)
    {
        PrivateFiles.CreateDirectory(Path.GetDirectoryName(path)!);
        PrivateFiles.WriteAtomic(path, stream => JsonSerializer.Serialize(stream, this, CliConfigJson.Default.CliConfig));
    }
}

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower, WriteIndented = true, DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(CliConfig))]
internal sealed partial class CliConfigJson : JsonSerializerContext;
