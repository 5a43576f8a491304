using System.Text;
using Medic.Agent.Diagnostics;
using Medic.Agent.Execution;

namespace Medic.Agent.Tests.Diagnostics;

/// <summary>Runs a verb the way the agent does and keeps what a user would see.</summary>
internal static class VerbHarness
{
    public sealed record Result(ProcessOutcome Outcome, string Output, IReadOnlyList<(string Stream, string Data)> Chunks);

    public static Task<Result> Run(string verb, params (string Name, string Value)[] args) => Run(verb, DiagnosticOptions.Default, args);

    public static async Task<Result> Run(string verb, DiagnosticOptions options, params (string Name, string Value)[] args)
    {
        var chunks = new List<(string, string)>();
        var output = new StringBuilder();
        var gate = new Lock();
        var outcome = await DiagnosticVerbs.RunAsync(
            verb,
            args.ToDictionary(a => a.Name, a => a.Value),
            options,
            (stream, data) =>
            {
                lock (gate)
                {
                    chunks.Add((stream, data));
                    output.Append(data);
                }
                return ValueTask.CompletedTask;
            },
            CancellationToken.None);
        return new Result(outcome, output.ToString(), chunks);
    }

    public static string? Validate(string verb, params (string Name, string Value)[] args) =>
        DiagnosticVerbs.TryValidate(verb, args.ToDictionary(a => a.Name, a => a.Value), out var error) ? null : error;
}

/// <summary>A fresh directory under /tmp (inside file-tail's default allowlist), removed afterwards.</summary>
internal sealed class ScratchDirectory : IDisposable
{
    public ScratchDirectory()
    {
        Path = System.IO.Path.Join("/tmp", $"medic-diag-{Guid.NewGuid():N}");
        Directory.CreateDirectory(Path);
    }

    public string Path { get; }

    public string File(string name, string content)
    {
        var path = System.IO.Path.Join(Path, name);
        System.IO.File.WriteAllText(path, content);
        return path;
    }

    public void Dispose() => Directory.Delete(Path, recursive: true);
}
