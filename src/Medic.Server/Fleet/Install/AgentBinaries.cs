using System.Collections.Concurrent;
using System.Security.Cryptography;
using Medic.Server.Common;
using Microsoft.Extensions.Options;

namespace Medic.Server.Fleet.Install;

/// <summary>An agent binary on disk with its digest and the task-signing key's signature of it.</summary>
internal sealed record AgentBinary(string Arch, string Version, string Path, long Size, string Sha256, string Signature)
{
    public string FileName => AgentBinaries.FileName(Arch);
}

/// <summary>
/// The agent binaries the control plane serves (<see cref="MedicOptions.AgentBinaryDirectories"/>):
/// <c>medic-agent-linux-&lt;arch&gt;</c>, its version from a <c>.version</c> file beside it or else the
/// control plane's own. Each is hashed and signed once per size and modification time, not per request.
/// </summary>
internal sealed class AgentBinaries(IOptions<MedicOptions> options, TaskSigningKey signing)
{
    public static IReadOnlyList<string> Arches { get; } = ["x64", "arm64"];

    private readonly ConcurrentDictionary<string, AgentBinary> _signed = new(StringComparer.Ordinal);

    public IReadOnlyList<string> Directories => options.Value.AgentBinaryDirectories;

    public static string FileName(string arch) => "medic-agent-linux-" + arch;

    public IReadOnlyList<AgentBinary> List() => [.. Arches.Select(Find).OfType<AgentBinary>()];

    /// <summary>The binary for <paramref name="arch"/> from the first directory that holds one; null when none does.</summary>
    public AgentBinary? Find(string arch)
    {
        if (!Arches.Contains(arch)) return null;
        foreach (var dir in Directories)
        {
            var file = new FileInfo(System.IO.Path.Combine(dir, FileName(arch)));
            if (!file.Exists) continue;
            var key = $"{file.FullName}|{file.Length}|{file.LastWriteTimeUtc.Ticks}";
            return _signed.TryGetValue(key, out var known) ? known : _signed.GetOrAdd(key, _ => Sign(arch, file));
        }

        return null;
    }

    private AgentBinary Sign(string arch, FileInfo file)
    {
        byte[] digest;
        using (var stream = file.OpenRead()) digest = SHA256.HashData(stream);
        var versionFile = file.FullName + ".version";
        var version = File.Exists(versionFile) ? File.ReadAllText(versionFile).Trim() : MedicVersion.Current;
        return new AgentBinary(arch, version, file.FullName, file.Length, Convert.ToHexStringLower(digest), Convert.ToBase64String(signing.SignFileDigest(digest)));
    }
}
