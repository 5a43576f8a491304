using Medic.Server.Detection.Forecasting;
using static Medic.Server.Tests.Detection.SyntheticSeries;

namespace Medic.Server.Tests.Detection;

/// <summary>Time-to-full on synthetic disk series: a 100 GiB disk sampled once a minute.</summary>
public sealed class TimeToFullTests
{
    private const double Disk = 100 * GiB;
    private static readonly ForecastOptions Options = new();

    private static Forecast Predict(IReadOnlyList<TrendSample> samples, double capacity = Disk) =>
        TimeToFull.Predict(samples, capacity, Options.ResetDropFraction * capacity, Now, Options);

    [Fact]
    public void Steady_growth_under_noise_is_forecast_to_the_hour()
    {
        // 60 GiB growing 2 GiB/h for 6 h, ±200 MiB of noise: 40 GiB left, full in 20 h.
        var noise = Gaussian(seed: 1, sigma: 0.2 * GiB);
        var forecast = Predict(Minutes(360, h => (60 * GiB) + (2 * GiB * h) + noise()));

        forecast.Verdict.ShouldBe(ForecastVerdict.FullWithinHorizon);
        forecast.Alarm(Now, Options).ShouldBe(ForecastAlarm.Raise);
        var trend = forecast.Trend.ShouldNotBeNull();
        (trend.SlopePerHour / GiB).ShouldBe(2, tolerance: 0.1);
        (trend.Level / GiB).ShouldBe(60, tolerance: 0.3);
        trend.Agreement.ShouldBeGreaterThan(0.9);
        trend.Samples.ShouldBe(360);
        forecast.FullAt!.Value.ShouldBe(Now.AddHours(20), tolerance: TimeSpan.FromHours(1));
    }

    [Fact]
    public void Growth_that_fills_the_disk_after_the_horizon_is_no_warning()
    {
        // 1 GiB/h with 40 GiB left: full in 40 h.
        var noise = Gaussian(seed: 2, sigma: 0.2 * GiB);
        var forecast = Predict(Minutes(360, h => (60 * GiB) + (GiB * h) + noise()));

        forecast.Verdict.ShouldBe(ForecastVerdict.FullLater);
        forecast.FullAt!.Value.ShouldBe(Now.AddHours(40), tolerance: TimeSpan.FromHours(3));
        forecast.Alarm(Now, Options).ShouldBe(ForecastAlarm.Clear);
    }

    [Fact]
    public void A_forecast_just_past_the_horizon_neither_raises_nor_clears()
    {
        // Full in 27 h: past 24 h, but inside 1.25 × 24 h, so an open warning stays open.
        var forecast = Predict(Minutes(360, h => (73 * GiB) + (GiB * h)));

        forecast.Verdict.ShouldBe(ForecastVerdict.FullLater);
        forecast.Alarm(Now, Options).ShouldBe(ForecastAlarm.Hold);
    }

    [Fact]
    public void Spikes_of_temporary_files_do_not_bend_the_trend_as_they_bend_least_squares()
    {
        // The same 2 GiB/h, but in the last 90 minutes every fourth sample carries 15 GiB of temporary files.
        var noise = Gaussian(seed: 3, sigma: 0.2 * GiB);
        var samples = Minutes(360, h => (60 * GiB) + (2 * GiB * h) + noise());
        for (int i = 270; i < samples.Count; i += 4)
        {
            samples[i] = samples[i] with { Value = samples[i].Value + (15 * GiB) };
        }

        var forecast = Predict(samples);

        (forecast.Trend!.SlopePerHour / GiB).ShouldBe(2, tolerance: 0.15);
        forecast.FullAt!.Value.ShouldBe(Now.AddHours(20), tolerance: TimeSpan.FromHours(1.5));
        forecast.Trend.From.ShouldBe(samples[0].At, "a spike and its fall are not a reset");
        (LeastSquaresSlope(samples) / GiB).ShouldBeGreaterThan(2.5, "least squares is pulled up by the spikes");
    }

    [Fact]
    public void After_log_rotation_only_the_regime_since_the_last_drop_is_fitted()
    {
        // 3 GiB/h, with rotation deleting 12 GiB of logs 4 h and 2 h ago.
        var noise = Gaussian(seed: 4, sigma: 0.1 * GiB);
        var samples = Minutes(360, h => (70 * GiB) + (3 * GiB * h) + (h < -4 ? 24 * GiB : h < -2 ? 12 * GiB : 0) + noise());

        var forecast = Predict(samples);

        var trend = forecast.Trend.ShouldNotBeNull();
        trend.From.ShouldBe(Now.AddHours(-2), tolerance: TimeSpan.FromMinutes(2));
        trend.Samples.ShouldBeInRange(119, 122);
        (trend.SlopePerHour / GiB).ShouldBe(3, tolerance: 0.15);
        forecast.FullAt!.Value.ShouldBe(Now.AddHours(10), tolerance: TimeSpan.FromHours(1));
        (LeastSquaresSlope(samples) / GiB).ShouldBeLessThan(0, "across the drops the series seems to shrink");
    }

    [Fact]
    public void A_rotation_that_just_happened_clears_the_warning_until_the_new_regime_is_long_enough()
    {
        var samples = Minutes(360, h => (80 * GiB) + (3 * GiB * h) - (h > -0.2 ? 30 * GiB : 0));

        var forecast = Predict(samples);

        forecast.Verdict.ShouldBe(ForecastVerdict.RegimeTooShort);
        forecast.Alarm(Now, Options).ShouldBe(ForecastAlarm.Clear);
    }

    [Fact]
    public void A_single_low_reading_is_not_a_reset()
    {
        var samples = Minutes(360, h => (60 * GiB) + (2 * GiB * h));
        samples[200] = samples[200] with { Value = 10 * GiB };

        var forecast = Predict(samples);

        forecast.Trend!.From.ShouldBe(samples[0].At);
        forecast.Verdict.ShouldBe(ForecastVerdict.FullWithinHorizon);
    }

    [Theory]
    [InlineData(0.0)]
    [InlineData(-1.0)]
    public void A_flat_or_shrinking_disk_gets_no_forecast(double gibPerHour)
    {
        var noise = Gaussian(seed: 5, sigma: 0.05 * GiB);
        var forecast = Predict(Minutes(360, h => (95 * GiB) + (gibPerHour * GiB * h) + noise()));

        forecast.Verdict.ShouldBe(ForecastVerdict.NotGrowing);
        forecast.FullAt.ShouldBeNull();
        forecast.Alarm(Now, Options).ShouldBe(ForecastAlarm.Clear);
    }

    [Fact]
    public void A_disk_whose_usage_never_changes_gets_no_forecast()
    {
        var forecast = Predict(Minutes(360, _ => 99 * GiB));

        forecast.Verdict.ShouldBe(ForecastVerdict.NotGrowing);
        forecast.Alarm(Now, Options).ShouldBe(ForecastAlarm.Clear);
    }

    [Theory]
    [InlineData(11)]
    [InlineData(12)]
    [InlineData(13)]
    [InlineData(14)]
    [InlineData(15)]
    [InlineData(16)]
    [InlineData(17)]
    [InlineData(18)]
    public void Noise_with_no_trend_on_a_nearly_full_disk_raises_nothing(int seed)
    {
        // 97 % full, wandering ±1 GiB: any slope a fit finds is noise.
        var noise = Gaussian(seed, sigma: GiB);
        var forecast = Predict(Minutes(360, _ => (97 * GiB) + noise()));

        forecast.Verdict.ShouldBeOneOf(ForecastVerdict.NotGrowing, ForecastVerdict.TooNoisy);
        forecast.Alarm(Now, Options).ShouldBe(ForecastAlarm.Clear);
    }

    [Fact]
    public void Growth_too_small_against_its_noise_is_called_noise()
    {
        // 0.2 GiB/h under 3 GiB of noise, over 40 minutes: the pairs barely agree on a direction.
        var noise = Gaussian(seed: 6, sigma: 3 * GiB);
        var forecast = Predict(Minutes(40, h => (95 * GiB) + (0.2 * GiB * h) + noise()));

        forecast.Alarm(Now, Options).ShouldNotBe(ForecastAlarm.Raise);
    }

    [Theory]
    [InlineData(19, 360)]
    [InlineData(25, 1)]
    public void Too_few_samples_or_too_short_a_span_is_no_answer(int count, int minutesApart)
    {
        var samples = Enumerable.Range(0, count)
            .Select(i => new TrendSample(Now.AddMinutes(-minutesApart * (count - 1 - i)), (90 * GiB) + (i * GiB)))
            .ToList();

        var forecast = Predict(samples);

        forecast.Verdict.ShouldBe(ForecastVerdict.TooFewSamples);
        forecast.Alarm(Now, Options).ShouldBe(ForecastAlarm.Hold);
    }

    [Fact]
    public void A_server_that_stopped_reporting_is_not_forecast()
    {
        var samples = Minutes(360, h => (60 * GiB) + (2 * GiB * h)).Take(300).ToList();

        var forecast = Predict(samples);

        forecast.Verdict.ShouldBe(ForecastVerdict.Stale);
        forecast.Alarm(Now, Options).ShouldBe(ForecastAlarm.Hold);
    }

    [Fact]
    public void Samples_older_than_the_window_are_ignored()
    {
        // Fast growth 10 h ago, none since: the 6 h window sees a flat disk.
        var samples = Minutes(720, h => (90 * GiB) + (h < -8 ? 5 * GiB * (h + 8) : 0));

        Predict(samples).Verdict.ShouldBe(ForecastVerdict.NotGrowing);
    }

    [Fact]
    public void A_disk_already_past_capacity_and_growing_is_full_now()
    {
        var forecast = Predict(Minutes(60, h => (101 * GiB) + (GiB * h)));

        forecast.Verdict.ShouldBe(ForecastVerdict.FullWithinHorizon);
        forecast.FullAt.ShouldBe(Now);
    }
}
