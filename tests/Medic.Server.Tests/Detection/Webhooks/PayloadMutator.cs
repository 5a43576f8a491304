using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Medic.Server.Tests.Detection.Webhooks;

/// <summary>
/// Turns a real payload into a broken one the way transport, relays and hostile senders do:
/// truncation, flipped bytes, values of the wrong type, deep nesting, huge numbers, wrong
/// encodings, poisoned strings, duplicated or missing members. Deterministic for a seed.
/// </summary>
public sealed class PayloadMutator(int seed)
{
    private static readonly string[] Replacements =
    [
        "null", "true", "false", "0", "-1", "1e400", "-1e400", "18446744073709551616", "123456789012345678901234567890.5", "1.5e-400",
        "\"\"", "\" \"", "\"firing\"", "\"resolved\"", "\"4\"", "\"1\"", "[]", "{}", "[null]", "{\"a\":1}", "\"0001-01-01T00:00:00Z\"",
        "\"9999-99-99T99:99:99Z\"", "\"\\u0000\"", "\"%%%\"", "\"[Triggered on {host:\"", "\"incident.triggered\"", "\"\\u202e\\ud83d\\ude00\"",
    ];

    private readonly Random _random = new(seed);

    public byte[] Mutate(byte[] payload)
    {
        var result = _random.Next(14) switch
        {
            0 => payload[.._random.Next(payload.Length)],
            1 => FlipBits(payload),
            2 => Structural(payload),
            3 => Node(payload, SwapType) ?? FlipBits(payload),
            4 => Node(payload, RemoveMember) ?? Structural(payload),
            5 => Deep(payload),
            6 => Node(payload, HugeNumber) ?? FlipBits(payload),
            7 => WrongEncoding(payload),
            8 => PoisonString(payload),
            9 => RandomBytes(),
            10 => Node(payload, Duplicate) ?? Structural(payload),
            11 => Node(payload, LongString) ?? FlipBits(payload),
            12 => Mutate(Mutate(payload)),
            _ => Node(payload, SwapType) is { } swapped ? Node(swapped, SwapType) ?? swapped : FlipBits(payload),
        };
        return result;
    }

    private byte[] FlipBits(byte[] payload)
    {
        var copy = (byte[])payload.Clone();
        if (copy.Length == 0) return copy;
        for (var i = _random.Next(1, 9); i > 0; i--) copy[_random.Next(copy.Length)] ^= (byte)(1 << _random.Next(8));
        return copy;
    }

    private byte[] Structural(byte[] payload)
    {
        var copy = (byte[])payload.Clone();
        if (copy.Length == 0) return copy;
        const string chars = "{}[]\",:\\ 0-e.";
        for (var i = _random.Next(1, 4); i > 0; i--) copy[_random.Next(copy.Length)] = (byte)chars[_random.Next(chars.Length)];
        return copy;
    }

    private byte[] RandomBytes()
    {
        var bytes = new byte[_random.Next(0, 2048)];
        _random.NextBytes(bytes);
        if (bytes.Length > 0 && _random.Next(2) == 0) bytes[0] = (byte)'{';
        return bytes;
    }

    private byte[] WrongEncoding(byte[] payload)
    {
        var text = Encoding.UTF8.GetString(payload);
        switch (_random.Next(5))
        {
            case 0: return Encoding.Unicode.GetBytes(text);
            case 1: return [0xEF, 0xBB, 0xBF, .. payload];
            case 2: return Encoding.Latin1.GetBytes(text.Replace("a", "é", StringComparison.Ordinal));
            case 3:
                {
                    var at = _random.Next(payload.Length + 1);
                    byte[] invalid = _random.Next(3) switch { 0 => [0xC3, 0x28], 1 => [0xFF, 0xFE], _ => [0xED, 0xA0, 0x80] };
                    return [.. payload[..at], .. invalid, .. payload[at..]];
                }

            default: return Encoding.UTF32.GetBytes(text);
        }
    }

    /// <summary>An escape that is not valid UTF-16, a NUL or a control character right inside a string.</summary>
    private byte[] PoisonString(byte[] payload)
    {
        var quotes = Enumerable.Range(0, payload.Length).Where(i => payload[i] == (byte)'"').ToList();
        if (quotes.Count == 0) return FlipBits(payload);
        var at = quotes[_random.Next(quotes.Count)] + 1;
        string[] poisons = ["\\ud800", "\\udc00", "\\ud800\\u0041", "\\u0000", "\\u001b[31m", "\\uffff", "\u0001", "\\x41", "\\u12"];
        var poison = Encoding.UTF8.GetBytes(poisons[_random.Next(poisons.Length)]);
        return [.. payload[..at], .. poison, .. payload[at..]];
    }

    private byte[] Deep(byte[] payload)
    {
        var depth = _random.Next(20, 400);
        var open = _random.Next(2) == 0 ? "[" : "{\"a\":";
        var close = open == "[" ? "]" : "}";
        var nested = string.Concat(Enumerable.Repeat(open, depth)) + "1" + string.Concat(Enumerable.Repeat(close, depth));
        return Node(payload, (root, nodes) =>
        {
            Replace(nodes[_random.Next(nodes.Count)], JsonValue.Create("__DEEP__"));
            return true;
        }) is { } marked
            ? Encoding.UTF8.GetBytes(Encoding.UTF8.GetString(marked).Replace("\"__DEEP__\"", nested, StringComparison.Ordinal))
            : Encoding.UTF8.GetBytes(nested);
    }

    private bool SwapType(JsonNode root, List<JsonNode> nodes)
    {
        Replace(nodes[_random.Next(nodes.Count)], JsonNode.Parse(Replacements[_random.Next(Replacements.Length)]));
        return true;
    }

    private bool HugeNumber(JsonNode root, List<JsonNode> nodes)
    {
        string[] huge = ["1e400", "-1e400", "99999999999999999999999999999999", "-9223372036854775809", "1.7976931348623157e309", "0.0000000000000000000000000000001"];
        Replace(nodes[_random.Next(nodes.Count)], JsonNode.Parse(huge[_random.Next(huge.Length)]));
        return true;
    }

    private bool LongString(JsonNode root, List<JsonNode> nodes)
    {
        Replace(nodes[_random.Next(nodes.Count)], JsonValue.Create(new string((char)_random.Next('a', 'z' + 1), _random.Next(1000, 50_000))));
        return true;
    }

    private bool RemoveMember(JsonNode root, List<JsonNode> nodes)
    {
        var members = nodes.Where(n => n.Parent is JsonObject).ToList();
        if (members.Count == 0) return false;
        var member = members[_random.Next(members.Count)];
        ((JsonObject)member.Parent!).Remove(member.GetPropertyName());
        return true;
    }

    private bool Duplicate(JsonNode root, List<JsonNode> nodes)
    {
        var arrays = nodes.OfType<JsonArray>().Where(a => a.Count > 0).ToList();
        if (arrays.Count == 0) return false;
        var array = arrays[_random.Next(arrays.Count)];
        var item = array[_random.Next(array.Count)];
        for (var i = _random.Next(1, 60); i > 0; i--) array.Add(item?.DeepClone());
        return true;
    }

    private static void Replace(JsonNode node, JsonNode? replacement)
    {
        switch (node.Parent)
        {
            case JsonObject obj:
                obj[node.GetPropertyName()] = replacement;
                break;
            case JsonArray array:
                array[node.GetElementIndex()] = replacement;
                break;
        }
    }

    /// <summary>Applies <paramref name="change"/> to the parsed payload's tree; null when the payload is not JSON or the change does not apply.</summary>
    private static byte[]? Node(byte[] payload, Func<JsonNode, List<JsonNode>, bool> change)
    {
        try
        {
            var root = JsonNode.Parse(payload);
            if (root is null) return null;
            var nodes = new List<JsonNode>();
            void Walk(JsonNode n)
            {
                if (n.Parent is not null) nodes.Add(n);
                if (n is JsonObject o) foreach (var (_, v) in o.ToList()) { if (v is not null) Walk(v); }
                if (n is JsonArray a) foreach (var v in a.ToList()) { if (v is not null) Walk(v); }
            }

            Walk(root);
            if (nodes.Count == 0 || !change(root, nodes)) return null;
            return Encoding.UTF8.GetBytes(root.ToJsonString());
        }
        catch (Exception ex) when (ex is JsonException or InvalidOperationException)
        {
            // An earlier mutation left bytes JsonNode cannot rewrite; the caller picks another mutation.
            return null;
        }
    }
}
