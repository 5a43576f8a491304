using Medic.Server.Detection.Forecasting;
using static Medic.Server.Tests.Detection.SyntheticSeries;

namespace Medic.Server.Tests.Detection;

public sealed class TheilSenTests
{
    [Fact]
    public void A_straight_line_is_recovered_exactly()
    {
        var line = TheilSen.Fit(Minutes(120, h => 500 + (30 * h)).ToArray()).ShouldNotBeNull();

        line.SlopePerHour.ShouldBe(30, tolerance: 1e-9);
        line.Level.ShouldBe(500, tolerance: 1e-9);
        line.Agreement.ShouldBe(1);
        line.ResidualMad.ShouldBe(0, tolerance: 1e-9);
        line.At.ShouldBe(Now);
    }

    [Fact]
    public void A_day_of_minutes_is_fitted_from_a_bounded_deterministic_subset_of_pairs()
    {
        var noise = Gaussian(seed: 7, sigma: 5);
        var samples = Minutes(1440, h => 1000 + (10 * h) + noise()).ToArray();

        var line = TheilSen.Fit(samples).ShouldNotBeNull();
        var again = TheilSen.Fit(samples);
        var allPairs = TheilSen.Fit(samples, maxPairs: int.MaxValue).ShouldNotBeNull();

        again.ShouldBe(line);
        line.SlopePerHour.ShouldBe(10, tolerance: 0.2);
        line.SlopePerHour.ShouldBe(allPairs.SlopePerHour, tolerance: 0.1);
    }

    [Fact]
    public void Fewer_than_two_distinct_times_fit_nothing()
    {
        TheilSen.Fit([]).ShouldBeNull();
        TheilSen.Fit([new TrendSample(Now, 1)]).ShouldBeNull();
        TheilSen.Fit([new TrendSample(Now, 1), new TrendSample(Now, 2)]).ShouldBeNull();
    }

    [Fact]
    public void Medians_match_sorting_on_random_and_repetitive_input()
    {
        var random = new Random(8);
        for (int round = 0; round < 200; round++)
        {
            int n = random.Next(1, 60);
            var values = Enumerable.Range(0, n).Select(_ => (double)random.Next(0, round % 2 == 0 ? 5 : 1000)).ToArray();
            var sorted = values.Order().ToArray();
            double expected = n % 2 == 1 ? sorted[n / 2] : (sorted[(n / 2) - 1] + sorted[n / 2]) / 2;

            Medians.Of(values.ToArray()).ShouldBe(expected);
            int k = random.Next(n);
            Medians.Select(values, k).ShouldBe(sorted[k]);
        }
    }
}
