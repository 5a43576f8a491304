using Medic.Server.Common;

namespace Medic.Server.Tests.Hosting;

public sealed class DurationsTests
{
    [Theory]
    [InlineData("90s", 90)]
    [InlineData("30m", 1800)]
    [InlineData("12h", 43200)]
    [InlineData("90d", 7776000)]
    [InlineData("2w", 1209600)]
    [InlineData(" 7D ", 604800)]
    [InlineData("1.5h", 5400)]
    [InlineData("1h30m", 5400)]
    [InlineData("500ms", 0.5)]
    [InlineData("10", 10)]
    public void Durations_in_the_one_grammar_parse_to_seconds(string text, double seconds)
    {
        Durations.TryParse(text, out var span).ShouldBeTrue();
        span.TotalSeconds.ShouldBe(seconds);
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("d")]
    [InlineData("0d")]
    [InlineData("0")]
    [InlineData("-5m")]
    [InlineData("5y")]
    [InlineData("30m1h")]
    [InlineData("100001d")]
    public void Anything_else_is_refused(string? text) => Durations.TryParse(text, out _).ShouldBeFalse();

    [Theory]
    [InlineData(90, "90d")]
    [InlineData(0.5, "12h")]
    public void Whole_units_format_back(double days, string text) => Durations.Format(TimeSpan.FromDays(days)).ShouldBe(text);
}
