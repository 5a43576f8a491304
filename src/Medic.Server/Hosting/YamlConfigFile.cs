using Microsoft.Extensions.Configuration;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace Medic.Server.Hosting;

/// <summary>
/// A YAML (or JSON, which YAML reads too) settings file as a .NET configuration source: nested
/// mappings become <c>section:key</c>, sequence items <c>key:0</c>, <c>key:1</c>. Each key keeps the
/// line and column it was read from, so a setting the binder cannot use is reported where it stands.
/// </summary>
internal sealed class YamlConfigFile : ConfigurationProvider, IConfigurationSource
{
    private readonly Dictionary<string, Mark> _marks = new(StringComparer.OrdinalIgnoreCase);

    public YamlConfigFile(string path)
    {
        Path = path;
        YamlStream stream = [];
        using (var reader = File.OpenText(path))
        {
            stream.Load(reader);
        }

        if (stream.Documents.Count > 0 && stream.Documents[0].RootNode is YamlMappingNode root)
        {
            Root = root;
            Flatten(root, null);
        }
        else if (stream.Documents.Count > 0 && stream.Documents[0].RootNode is not YamlScalarNode { Value: null or "" })
        {
            var start = stream.Documents[0].RootNode.Start;
            throw new YamlException(start, start, "the file is not a mapping of settings (key: value lines)");
        }
    }

    public string Path { get; }

    /// <summary>The file's top mapping; null for an empty file.</summary>
    public YamlMappingNode? Root { get; }

    public IConfigurationProvider Build(IConfigurationBuilder builder) => this;

    /// <summary>Where a key (<c>rate_limits:login_per_minute</c>) stands in the file, if it came from it.</summary>
    public Mark? Where(string key) => _marks.TryGetValue(key, out var mark) ? mark : null;

    private void Flatten(YamlNode node, string? prefix)
    {
        switch (node)
        {
            case YamlMappingNode mapping:
                foreach (var (key, value) in mapping.Children)
                {
                    var name = ((YamlScalarNode)key).Value ?? "";
                    Flatten(value, prefix is null ? name : prefix + ConfigurationPath.KeyDelimiter + name);
                }

                break;
            case YamlSequenceNode sequence:
                for (var i = 0; i < sequence.Children.Count; i++)
                {
                    Flatten(sequence.Children[i], prefix + ConfigurationPath.KeyDelimiter + i.ToString(System.Globalization.CultureInfo.InvariantCulture));
                }

                break;
            case YamlScalarNode scalar when prefix is not null:
                Data[prefix] = scalar.Value;
                _marks[prefix] = scalar.Start;
                break;
        }
    }
}
