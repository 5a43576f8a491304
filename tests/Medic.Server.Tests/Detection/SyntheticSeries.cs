using Medic.Server.Detection.Forecasting;

namespace Medic.Server.Tests.Detection;

/// <summary>Made-up series for the forecasts: one sample a minute ending at <see cref="Now"/>, with seeded noise.</summary>
internal static class SyntheticSeries
{
    public static readonly DateTimeOffset Now = new(2026, 11, 21, 12, 0, 0, TimeSpan.Zero);

    public const double GiB = 1L << 30;

    /// <summary><paramref name="minutes"/> samples, the last at <see cref="Now"/>; <paramref name="value"/> gets the hours before now (negative) of each.</summary>
    public static List<TrendSample> Minutes(int minutes, Func<double, double> value) =>
        Enumerable.Range(0, minutes)
            .Select(i => Now.AddMinutes(i - minutes + 1))
            .Select(at => new TrendSample(at, value((at - Now).TotalHours)))
            .ToList();

    /// <summary>A seeded source of normally distributed noise (Box–Muller).</summary>
    public static Func<double> Gaussian(int seed, double sigma)
    {
        var random = new Random(seed);
        return () => sigma * Math.Sqrt(-2 * Math.Log(1 - random.NextDouble())) * Math.Cos(2 * Math.PI * random.NextDouble());
    }

    /// <summary>Ordinary least squares slope, per hour: what a non-robust fit would say.</summary>
    public static double LeastSquaresSlope(IReadOnlyList<TrendSample> samples)
    {
        double meanX = samples.Average(s => (s.At - Now).TotalHours), meanY = samples.Average(s => s.Value);
        double sxy = samples.Sum(s => ((s.At - Now).TotalHours - meanX) * (s.Value - meanY));
        double sxx = samples.Sum(s => Math.Pow((s.At - Now).TotalHours - meanX, 2));
        return sxy / sxx;
    }
}
