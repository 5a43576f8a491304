namespace Medic.Server.Detection.Forecasting;

/// <summary>
/// A straight line through a series, robust to outliers: the slope is the median of the slopes
/// between pairs of samples (Theil–Sen) and the level the median of what each sample says the
/// line's value is at the last sample's time.
/// </summary>
/// <param name="SlopePerHour">Units per hour.</param>
/// <param name="Level">The line's value at <paramref name="At"/>.</param>
/// <param name="At">The last sample's time.</param>
/// <param name="From">The first sample's time.</param>
/// <param name="Agreement">
/// Of the pairwise slopes that are not zero, the fraction with the same sign as
/// <paramref name="SlopePerHour"/>: about 0.5 for noise with no trend, near 1 for a steady trend.
/// </param>
/// <param name="ResidualMad">Median absolute distance of the samples from the line, in units.</param>
internal sealed record TrendLine(double SlopePerHour, double Level, DateTimeOffset At, DateTimeOffset From, double Agreement, double ResidualMad, int Samples);

internal static class TheilSen
{
    /// <summary>Enough pairs for the median slope to settle (see the pairs tests) at a fraction of the cost of all of a day's 1 million.</summary>
    public const int DefaultMaxPairs = 4_000;

    /// <summary>
    /// Fits <paramref name="samples"/> (in time order). All n(n-1)/2 pairs are used while that is at
    /// most <paramref name="maxPairs"/>; beyond it, pairs a fixed set of lags apart, spread evenly
    /// from the shortest to the longest, so the cost stays bounded and the answer deterministic.
    /// Null with fewer than two samples at distinct times.
    /// </summary>
    public static TrendLine? Fit(ReadOnlySpan<TrendSample> samples, int maxPairs = DefaultMaxPairs)
    {
        int n = samples.Length;
        if (n < 2 || samples[0].At >= samples[n - 1].At)
        {
            return null;
        }

        var last = samples[n - 1].At;
        var hours = new double[n];
        var values = new double[n];
        for (int i = 0; i < n; i++)
        {
            hours[i] = (samples[i].At - last).TotalHours;
            values[i] = samples[i].Value;
        }

        long allPairs = (long)n * (n - 1) / 2;
        var slopes = new List<double>((int)Math.Min(allPairs, (long)maxPairs + n));
        int positive = 0, negative = 0;
        if (allPairs <= maxPairs)
        {
            for (int lag = 1; lag < n; lag++)
            {
                AddLag(lag);
            }
        }
        else
        {
            // A lag contributes n - lag pairs, n/2 on average over evenly spread lags.
            int lags = Math.Clamp((int)(2L * maxPairs / n), 1, n - 1);
            int previous = 0;
            for (int k = 1; k <= lags; k++)
            {
                int lag = (int)Math.Ceiling((double)k * (n - 1) / lags);
                if (lag > previous)
                {
                    AddLag(lag);
                    previous = lag;
                }
            }
        }

        if (slopes.Count == 0)
        {
            return null;
        }

        var slopeSpan = System.Runtime.InteropServices.CollectionsMarshal.AsSpan(slopes);
        double slope = Medians.Of(slopeSpan);
        int agreeing = slope > 0 ? positive : slope < 0 ? negative : Math.Max(positive, negative);
        double agreement = positive + negative == 0 ? 0 : (double)agreeing / (positive + negative);

        // With the slope fixed, each sample implies a level at the last sample's time (hours = 0).
        var implied = new double[n];
        for (int i = 0; i < n; i++)
        {
            implied[i] = values[i] - (slope * hours[i]);
        }

        double level = Medians.Of(implied.AsSpan());
        for (int i = 0; i < n; i++)
        {
            implied[i] = values[i] - (level + (slope * hours[i]));
        }

        double residualMad = Medians.AbsoluteDeviation(implied, 0, new double[n]);
        return new TrendLine(slope, level, last, samples[0].At, agreement, residualMad, n);

        void AddLag(int lag)
        {
            for (int i = 0; i + lag < n; i++)
            {
                double dx = hours[i + lag] - hours[i];
                if (dx <= 0)
                {
                    continue;
                }

                double s = (values[i + lag] - values[i]) / dx;
                slopes.Add(s);
                if (s > 0) positive++;
                else if (s < 0) negative++;
            }
        }
    }
}
