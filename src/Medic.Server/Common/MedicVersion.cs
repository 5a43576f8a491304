namespace Medic.Server.Common;

/// <summary>The control plane's version, as <c>/healthz</c>, the console and outgoing User-Agent headers show it.</summary>
internal static class MedicVersion
{
    public static string Current { get; } = typeof(MedicVersion).Assembly.GetName().Version?.ToString(3) ?? "0.0.0";
}
