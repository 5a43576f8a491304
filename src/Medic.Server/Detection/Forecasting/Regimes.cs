namespace Medic.Server.Detection.Forecasting;

/// <summary>
/// Where a series' current regime starts: after the last reset, a drop that stays down (log
/// rotation deleting files, a cache cleared, memory handed back). Fitting across a reset would
/// average two regimes and understate the growth.
/// </summary>
internal static class Regimes
{
    /// <summary>Samples on each side of a candidate reset whose medians are compared.</summary>
    public const int Window = 3;

    /// <summary>
    /// The index of the first sample of the current regime (0 when there was no reset). A reset at
    /// index i is a fall from the median of the <see cref="Window"/> samples before i to the median
    /// of the samples from i on of more than <paramref name="minDrop"/> and more than
    /// <paramref name="noiseFactor"/> times the series' own noise (1.4826 × the median absolute
    /// deviation of its steps). Medians make a single outlier, up or down, no reset.
    /// </summary>
    public static int CurrentStart(ReadOnlySpan<double> values, double minDrop, double noiseFactor)
    {
        int n = values.Length;
        if (n < 2)
        {
            return 0;
        }

        var steps = new double[n - 1];
        for (int i = 1; i < n; i++)
        {
            steps[i - 1] = values[i] - values[i - 1];
        }

        var scratch = new double[n - 1];
        steps.CopyTo(scratch, 0);
        double typicalStep = Medians.Of(scratch);
        double noise = 1.4826 * Medians.AbsoluteDeviation(steps, typicalStep, scratch);
        double threshold = Math.Max(minDrop, noiseFactor * noise);

        Span<double> window = stackalloc double[Window];
        for (int i = n - 1; i >= 1; i--)
        {
            var before = values[Math.Max(0, i - Window)..i];
            var after = values[i..Math.Min(n, i + Window)];
            before.CopyTo(window);
            double beforeMedian = Medians.Of(window[..before.Length]);
            after.CopyTo(window);
            double afterMedian = Medians.Of(window[..after.Length]);
            if (beforeMedian - afterMedian > threshold)
            {
                return i;
            }
        }

        return 0;
    }
}
