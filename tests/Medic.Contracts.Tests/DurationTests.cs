using Medic.Contracts;

namespace Medic.Contracts.Tests;

public sealed class DurationTests
{
    [Theory]
    [InlineData("500ms", 0.5)]
    [InlineData("10s", 10)]
    [InlineData("5m", 300)]
    [InlineData("1h", 3600)]
    [InlineData("1d", 86400)]
    [InlineData("2w", 1209600)]
    [InlineData("1h30m", 5400)]
    [InlineData("2m30s", 150)]
    [InlineData("1d12h", 129600)]
    [InlineData("1.5h", 5400)]
    [InlineData("30", 30)]
    [InlineData("1.5", 1.5)]
    [InlineData("0", 0)]
    [InlineData(" 15S ", 15)]
    public void Durations_read_as_people_write_them(string text, double seconds)
    {
        Duration.TryParse(text, out var span).ShouldBeTrue();
        span.TotalSeconds.ShouldBe(seconds, 1e-9);
    }

    [Theory]
    [InlineData("")]
    [InlineData("soon")]
    [InlineData("1y")]
    [InlineData("-5m")]
    [InlineData("5 m")]
    [InlineData("30m1h")]
    [InlineData("1h1h")]
    [InlineData("m")]
    [InlineData(".5s")]
    [InlineData("5.s")]
    [InlineData("100001d")]
    public void Anything_else_is_not_a_duration(string text) => Duration.TryParse(text, out _).ShouldBeFalse();

    [Theory]
    [InlineData(0.5, "500ms")]
    [InlineData(90, "90s")]
    [InlineData(5400, "90m")]
    [InlineData(7200, "2h")]
    [InlineData(93600, "26h")]
    [InlineData(14 * 86400, "14d")]
    [InlineData(1.5, "1.5s")]
    [InlineData(3725.5, "1h2m5.5s")]
    public void Formatting_writes_what_parsing_reads(double seconds, string text)
    {
        Duration.Format(TimeSpan.FromSeconds(seconds)).ShouldBe(text);
        Duration.TryParse(text, out var back).ShouldBeTrue();
        back.TotalSeconds.ShouldBe(seconds, 1e-6);
    }
}
