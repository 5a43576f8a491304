namespace Medic.Server.Tests.Detection.Webhooks;

/// <summary>The sender payloads under Payloads/, shaped exactly as each sender emits them.</summary>
public static class Payloads
{
    public static byte[] Bytes(string name) => File.ReadAllBytes(Path.Combine(AppContext.BaseDirectory, "Detection", "Webhooks", "Payloads", name));

    public static string Text(string name) => File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "Detection", "Webhooks", "Payloads", name));

    /// <summary>Every payload of one source (file names start with the source).</summary>
    public static IReadOnlyList<byte[]> Of(string source) =>
        [.. Directory.GetFiles(Path.Combine(AppContext.BaseDirectory, "Detection", "Webhooks", "Payloads"), source + "-*.json").Order(StringComparer.Ordinal).Select(File.ReadAllBytes)];
}
