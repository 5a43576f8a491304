using System.Globalization;
using System.Text.RegularExpressions;
using Medic.Contracts;
using Medic.Server.Common;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace Medic.Server.Runbooks;

internal static partial class RunbookParser
{
    private sealed partial class Context
    {
        /// <summary>The mapping's entries by key; unknown and repeated keys are errors.</summary>
        private Dictionary<string, YamlNode> Keys(YamlMappingNode m, string[] known, string where)
        {
            var map = new Dictionary<string, YamlNode>(StringComparer.Ordinal);
            foreach (var (k, v) in m.Children)
            {
                if (k is not YamlScalarNode { Value: { } key })
                {
                    Error(k, $"{where}: keys must be plain words");
                    continue;
                }

                if (!known.Contains(key))
                {
                    Error(k, $"{where}: unknown key '{key}'; the keys are {string.Join(", ", known)}");
                    continue;
                }

                if (!map.TryAdd(key, v)) Error(k, $"{where}: '{key}' is given twice");
            }

            return map;
        }

        private string? Scalar(YamlNode node, string where)
        {
            if (node is YamlScalarNode s)
            {
                if (s.Value is null || (s.Style == ScalarStyle.Plain && s.Value is "" or "~" or "null"))
                {
                    Error(node, $"{where} is empty");
                    return null;
                }

                if (s.Value.Contains('\0', StringComparison.Ordinal))
                {
                    Error(node, $"{where} contains a NUL character");
                    return null;
                }

                return s.Value;
            }

            Error(node, $"{where} must be a single value, not a {(node is YamlSequenceNode ? "list" : "mapping")}");
            return null;
        }

        private string? Text(Dictionary<string, YamlNode> map, YamlNode owner, string key, bool required, int maxLength)
        {
            if (!map.TryGetValue(key, out var node))
            {
                if (required) Error(owner, $"'{key}' is missing");
                return null;
            }

            var text = Scalar(node, key);
            if (text is not null && text.Length > maxLength)
            {
                Error(node, $"{key} is {text.Length} characters long; the limit is {maxLength}");
                return null;
            }

            return text;
        }

        private int? Int(Dictionary<string, YamlNode> map, YamlNode owner, string key, bool required, int min, int max)
        {
            var text = Text(map, owner, key, required, 20);
            if (text is null) return null;
            if (int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var n) && n >= min && n <= max) return n;
            Error(map[key], $"{key} '{text}' is not a whole number from {min} to {max}");
            return null;
        }

        private long? Long(Dictionary<string, YamlNode> map, string key)
        {
            if (!map.TryGetValue(key, out var node) || Scalar(node, key) is not { } text) return null;
            if (long.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var n)) return n;
            Error(node, $"{key} '{text}' is not a whole number");
            return null;
        }

        private bool? Bool(Dictionary<string, YamlNode> map, string key)
        {
            if (!map.TryGetValue(key, out var node) || Scalar(node, key) is not { } text) return null;
            if (text is "true" or "false") return text == "true";
            Error(node, $"{key} '{text}' is not true or false");
            return null;
        }

        private TimeSpan? Duration(YamlNode node, string where)
        {
            if (Scalar(node, where) is not { } text) return null;
            if (Durations.TryParse(text, out var span) && span <= MaxTimeout) return span;
            Error(node, $"{where}: '{text}' is not a duration from 1s to 1h ({Medic.Contracts.Duration.Hint})");
            return null;
        }

        private List<string> TextList(YamlNode node, string where, int max)
        {
            if (node is not YamlSequenceNode seq)
            {
                Error(node, $"{where} is a list");
                return [];
            }

            if (seq.Children.Count > max) Error(seq, $"{where} has more than {max} entries");
            return seq.Children.Select(c => Scalar(c, where)).OfType<string>().ToList();
        }

        private Dictionary<string, string> TextMap(YamlNode node, string where)
        {
            var map = new Dictionary<string, string>(StringComparer.Ordinal);
            if (node is not YamlMappingNode m)
            {
                Error(node, $"{where} is a mapping of names to values");
                return map;
            }

            foreach (var (k, v) in m.Children)
            {
                if (Scalar(k, where) is { } key && Scalar(v, $"{where}.{key}") is { } value && !map.TryAdd(key, value))
                {
                    Error(k, $"{where}: '{key}' is given twice");
                }
            }

            return map;
        }
    }
}
