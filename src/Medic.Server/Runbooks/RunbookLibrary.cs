using Medic.Server.Storage;

namespace Medic.Server.Runbooks;

/// <summary>
/// The built-in recipes: YAML files in <c>Runbooks/Library</c>, embedded in the server and
/// installed as built-ins (tenant-less versions) at every start. A tenant may override one by
/// applying a runbook with the same name.
/// </summary>
internal sealed class RunbookLibrary(RunbookStore store, TimeProvider time)
{
    private const string Prefix = "runbooks/";

    /// <summary>Every library file as (file name, YAML), in name order.</summary>
    public static IReadOnlyList<(string File, string Yaml)> Files()
    {
        var assembly = typeof(RunbookLibrary).Assembly;
        return assembly.GetManifestResourceNames()
            .Where(n => n.StartsWith(Prefix, StringComparison.Ordinal) && n.EndsWith(".yaml", StringComparison.Ordinal))
            .Order(StringComparer.Ordinal)
            .Select(n =>
            {
                using var reader = new StreamReader(assembly.GetManifestResourceStream(n)!);
                return (n[Prefix.Length..], reader.ReadToEnd());
            })
            .ToList();
    }

    /// <summary>Parses every library file; a broken one is a bug in this release, so it stops the start-up with its errors.</summary>
    public static IReadOnlyList<(Runbook Runbook, string Yaml)> Load() => Files().Select(f =>
    {
        var result = RunbookParser.Parse(f.Yaml);
        return result.Ok
            ? (result.Runbook!, f.Yaml)
            : throw new InvalidOperationException($"built-in runbook {f.File} is invalid: {string.Join("; ", result.Errors)}");
    }).ToList();

    public async Task InstallAsync(CancellationToken ct)
    {
        foreach (var (runbook, yaml) in Load())
        {
            try
            {
                await store.InstallBuiltinAsync(runbook, yaml, time.GetUtcNow(), ct);
            }
            catch (Exception ex) when (ErrorStatus.IsDuplicate(ex))
            {
                // Another replica starting at the same moment installed it first.
            }
        }
    }
}
