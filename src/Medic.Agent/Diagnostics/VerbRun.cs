using System.Diagnostics;
using System.Text;
using Medic.Agent.Execution;
using TaskStatus = Medic.Contracts.Agent.TaskStatus;

namespace Medic.Agent.Diagnostics;

/// <summary>
/// What a verb's implementation works with while it runs: its validated arguments, a way to run a
/// fixed argv (streamed or captured), a way to write its own text, and the outcome it ends with.
/// </summary>
internal sealed class VerbRun
{
    // Tools print for humans; a fixed locale keeps their output (and what Medic parses of it) stable.
    private static readonly Dictionary<string, string> ToolEnvironment = new()
    {
        ["LC_ALL"] = "C",
        ["SYSTEMD_COLORS"] = "0",
        ["SYSTEMD_PAGER"] = "",
        ["PAGER"] = "cat",
    };

    private readonly Func<string, string, ValueTask> _onOutput;
    private readonly Stopwatch _clock = Stopwatch.StartNew();
    private bool _truncated;

    public VerbRun(VerbArguments arguments, DiagnosticOptions options, Func<string, string, ValueTask> onOutput, CancellationToken cancellationToken)
    {
        Arguments = arguments;
        Options = options;
        _onOutput = onOutput;
        CancellationToken = cancellationToken;
    }

    public VerbArguments Arguments { get; }

    public DiagnosticOptions Options { get; }

    public CancellationToken CancellationToken { get; }

    /// <summary>Runs a fixed argv, streaming its output to the caller as it arrives.</summary>
    public async Task<ProcessOutcome> ExecAsync(IReadOnlyList<string> argv, TimeSpan timeout)
    {
        var outcome = await ProcessRunner.RunAsync(
            new ProcessRequest(argv, timeout) { Environment = ToolEnvironment, OutputCapBytes = Options.OutputCapBytes },
            _onOutput,
            CancellationToken);
        _truncated |= outcome.Truncated;
        return outcome with { DurationMs = _clock.ElapsedMilliseconds };
    }

    /// <summary>Runs a fixed argv and keeps its output (up to <paramref name="capBytes"/>) for the verb to shape.</summary>
    public async Task<CapturedRun> CaptureAsync(IReadOnlyList<string> argv, TimeSpan timeout, long capBytes = 8 * 1024 * 1024)
    {
        var stdout = new StringBuilder();
        var stderr = new StringBuilder();
        var outcome = await ProcessRunner.RunAsync(
            new ProcessRequest(argv, timeout) { Environment = ToolEnvironment, OutputCapBytes = capBytes },
            (stream, data) =>
            {
                (stream == "stderr" ? stderr : stdout).Append(data);
                return ValueTask.CompletedTask;
            },
            CancellationToken);
        return new CapturedRun(outcome, stdout.ToString(), stderr.ToString());
    }

    /// <summary>Writes the verb's own text to stdout, in chunks no larger than a process's.</summary>
    public async ValueTask WriteAsync(string text)
    {
        // A UTF-16 char is at most 3 bytes of UTF-8, so this many chars stay within a chunk.
        const int MaxChars = OutputSink.MaxChunkBytes / 3;
        var start = 0;
        while (start < text.Length)
        {
            var length = Math.Min(MaxChars, text.Length - start);
            if (length < text.Length - start && char.IsHighSurrogate(text[start + length - 1]))
            {
                length--; // never split a surrogate pair across chunks
            }
            await _onOutput("stdout", text.Substring(start, length));
            start += length;
        }
    }

    public ValueTask WriteLineAsync(string line = "") => WriteAsync(line + "\n");

    public void MarkTruncated() => _truncated = true;

    public ProcessOutcome Completed(int? exitCode = 0, string? reason = null) => End(TaskStatus.Completed, exitCode, reason);

    /// <summary>Writes a diagnosis: its text, then its findings; the verb has completed.</summary>
    public async Task<ProcessOutcome> ReportAsync(string text, Findings findings, int? exitCode = 0)
    {
        await WriteAsync(text);
        await findings.WriteAsync(this);
        return Completed(exitCode);
    }

    public ProcessOutcome End(TaskStatus status, int? exitCode, string? reason) =>
        new(status, exitCode, _clock.ElapsedMilliseconds, _truncated, reason);

    /// <summary>
    /// The verb cannot work here (its tool is missing, no systemd, no journal): a completed result
    /// whose output and reason say what is missing, so "not available" is not mistaken for "broken".
    /// </summary>
    public async Task<ProcessOutcome> UnavailableAsync(string why)
    {
        await WriteLineAsync(why);
        return Completed(exitCode: null, reason: why);
    }

    /// <summary>The outcome of a captured run, re-timed to the whole verb.</summary>
    public ProcessOutcome From(ProcessOutcome outcome) =>
        outcome with { DurationMs = _clock.ElapsedMilliseconds, Truncated = outcome.Truncated || _truncated };
}

internal sealed record CapturedRun(ProcessOutcome Outcome, string Stdout, string Stderr);
