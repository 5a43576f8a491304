namespace Medic.Server.Detection.Forecasting;

/// <summary>The knobs of a time-to-full forecast. The defaults are those of disk usage.</summary>
internal sealed record ForecastOptions
{
    /// <summary>Warn when the series is predicted to reach its capacity within this time.</summary>
    public TimeSpan Horizon { get; init; } = TimeSpan.FromHours(24);

    /// <summary>How far back samples are fitted.</summary>
    public TimeSpan Window { get; init; } = TimeSpan.FromHours(6);

    /// <summary>Fewest samples in the current regime to forecast from.</summary>
    public int MinSamples { get; init; } = 20;

    /// <summary>Shortest time the current regime must cover to forecast from.</summary>
    public TimeSpan MinSpan { get; init; } = TimeSpan.FromMinutes(30);

    /// <summary>Least <see cref="TrendLine.Agreement"/> for growth to count as a trend rather than noise.</summary>
    public double MinAgreement { get; init; } = 0.7;

    /// <summary>A reset is a drop of at least this fraction of the capacity (and well above the noise).</summary>
    public double ResetDropFraction { get; init; } = 0.005;

    /// <summary>A reset is a drop of more than this many times the series' step noise.</summary>
    public double ResetNoiseFactor { get; init; } = 6;

    /// <summary>A warning clears only once the predicted time to full is beyond this multiple of the horizon, so a forecast hovering at the horizon does not flap.</summary>
    public double ClearFactor { get; init; } = 1.25;

    /// <summary>A series whose last sample is older than this is not forecast (the server stopped reporting).</summary>
    public TimeSpan StaleAfter { get; init; } = TimeSpan.FromMinutes(15);

    public int MaxPairs { get; init; } = TheilSen.DefaultMaxPairs;
}

internal enum ForecastVerdict
{
    /// <summary>Growing steadily; predicted full within the horizon.</summary>
    FullWithinHorizon,

    /// <summary>Growing steadily; predicted full only after the horizon.</summary>
    FullLater,

    /// <summary>Flat or falling.</summary>
    NotGrowing,

    /// <summary>Rising on the whole but too erratic to call it a trend.</summary>
    TooNoisy,

    /// <summary>A reset (a drop, a restart) happened recently; too little since it to forecast.</summary>
    RegimeTooShort,

    /// <summary>Too little history at all (a new server, or a new mount or process).</summary>
    TooFewSamples,

    /// <summary>No recent sample: the server stopped reporting.</summary>
    Stale,
}

/// <summary>What a patrol should do about the warning for one series.</summary>
internal enum ForecastAlarm
{
    /// <summary>Open (or repeat) the warning.</summary>
    Raise,

    /// <summary>The warning, if any, is over.</summary>
    Clear,

    /// <summary>Nothing can be said either way; leave things as they are.</summary>
    Hold,
}

/// <param name="Trend">The fitted line, when there was enough of a regime to fit.</param>
/// <param name="FullAt">When the line reaches <paramref name="Capacity"/>, when it is rising.</param>
internal sealed record Forecast(ForecastVerdict Verdict, double Capacity, TrendLine? Trend, DateTimeOffset? FullAt)
{
    public ForecastAlarm Alarm(DateTimeOffset now, ForecastOptions options) => Verdict switch
    {
        ForecastVerdict.FullWithinHorizon => ForecastAlarm.Raise,
        ForecastVerdict.FullLater when FullAt - now <= options.Horizon * options.ClearFactor => ForecastAlarm.Hold,
        ForecastVerdict.FullLater or ForecastVerdict.NotGrowing or ForecastVerdict.TooNoisy or ForecastVerdict.RegimeTooShort => ForecastAlarm.Clear,
        _ => ForecastAlarm.Hold,
    };
}

/// <summary>Predicts when a growing series reaches its capacity: (capacity - level) / slope over the current regime.</summary>
internal static class TimeToFull
{
    /// <param name="samples">In time order; those older than the window are ignored.</param>
    /// <param name="capacity">The value at which the resource is full.</param>
    /// <param name="resetMinDrop">Smallest drop that can be a reset, in the series' units (usually a fraction of <paramref name="capacity"/>).</param>
    /// <param name="startsAfterReset">The series itself began with a reset (a restarted process), so a short series means a fresh regime rather than a new one.</param>
    public static Forecast Predict(
        IReadOnlyList<TrendSample> samples, double capacity, double resetMinDrop, DateTimeOffset now, ForecastOptions options, bool startsAfterReset = false)
    {
        var since = now - options.Window;
        var recent = samples.Where(s => s.At >= since && s.At <= now && double.IsFinite(s.Value)).ToArray();
        if (recent.Length == 0 || now - recent[^1].At > options.StaleAfter)
        {
            return new Forecast(recent.Length == 0 ? ForecastVerdict.TooFewSamples : ForecastVerdict.Stale, capacity, null, null);
        }

        int start = Regimes.CurrentStart(recent.Select(s => s.Value).ToArray(), resetMinDrop, options.ResetNoiseFactor);
        var regime = recent.AsSpan(start);
        if (regime.Length < options.MinSamples || regime[^1].At - regime[0].At < options.MinSpan)
        {
            var shortVerdict = start > 0 || startsAfterReset ? ForecastVerdict.RegimeTooShort : ForecastVerdict.TooFewSamples;
            return new Forecast(shortVerdict, capacity, null, null);
        }

        var trend = TheilSen.Fit(regime, options.MaxPairs);
        if (trend is null || trend.SlopePerHour <= 0)
        {
            return new Forecast(ForecastVerdict.NotGrowing, capacity, trend, null);
        }

        if (trend.Agreement < options.MinAgreement)
        {
            return new Forecast(ForecastVerdict.TooNoisy, capacity, trend, null);
        }

        double hoursToFull = Math.Max(0, (capacity - trend.Level) / trend.SlopePerHour);
        // A million hours is over a century: "never" for a warning, and safe from DateTimeOffset overflow.
        var fullAt = hoursToFull < 1e6 ? trend.At + TimeSpan.FromHours(hoursToFull) : DateTimeOffset.MaxValue;
        var verdict = fullAt - now <= options.Horizon ? ForecastVerdict.FullWithinHorizon : ForecastVerdict.FullLater;
        return new Forecast(verdict, capacity, trend, fullAt);
    }
}
