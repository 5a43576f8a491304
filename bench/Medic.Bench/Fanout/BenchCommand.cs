using System.Globalization;
using System.Runtime.InteropServices;

namespace Medic.Bench.Fanout;

/// <summary>What every bench mode does around its work: Ctrl-C and SIGTERM cancel it, a <see cref="BenchFailure"/> prints its cause and remedy.</summary>
internal static class BenchCommand
{
    /// <summary>Runs <paramref name="work"/>; returns the process exit code (0, 1 on a failure, 130 when interrupted).</summary>
    public static async Task<int> RunAsync(string mode, Func<CancellationToken, Task> work, string interrupted = "interrupted")
    {
        using var cancel = new CancellationTokenSource();
        using var sigint = PosixSignalRegistration.Create(PosixSignal.SIGINT, c => { c.Cancel = true; cancel.Cancel(); });
        using var sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, c => { c.Cancel = true; cancel.Cancel(); });
        try
        {
            await work(cancel.Token);
            return 0;
        }
        catch (BenchFailure f)
        {
            Console.Error.WriteLine($"{mode}: {f.Message}");
            Console.Error.WriteLine("  remedy: " + f.Remedy);
            return 1;
        }
        catch (OperationCanceledException) when (cancel.IsCancellationRequested)
        {
            Console.Error.WriteLine($"{mode}: {interrupted}");
            return 130;
        }
    }
}

/// <summary>A bench mode's command line, read option by option: <c>while (a.Next(out var option)) switch (option) { ... }</c>.</summary>
internal sealed class BenchArgs(string[] args, string usage)
{
    private int _at = -1;

    public string Usage => usage;

    public bool Next(out string option)
    {
        _at++;
        option = _at < args.Length ? args[_at] : "";
        return _at < args.Length;
    }

    /// <summary>The current option's value (the next argument).</summary>
    public string Value() => _at + 1 < args.Length ? args[++_at] : throw new BenchFailure($"{args[_at]} needs a value", usage);

    /// <summary>The current option's value as a whole number from <paramref name="min"/> to <paramref name="max"/>.</summary>
    public int Number(int min, int max)
    {
        var name = args[_at];
        return int.TryParse(Value(), NumberStyles.Integer, CultureInfo.InvariantCulture, out var n) && n >= min && n <= max
            ? n
            : throw new BenchFailure($"{name} must be a whole number from {min} to {max}", $"e.g. {name} {min}");
    }

    public BenchFailure Unknown(string option) => new($"unknown option '{option}'", usage);
}
