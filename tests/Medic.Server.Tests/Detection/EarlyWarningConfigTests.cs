using Medic.Server.Common;
using Medic.Server.Hosting;

namespace Medic.Server.Tests.Detection;

public sealed class EarlyWarningConfigTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("medic-config-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public void The_patrol_runs_every_5_minutes_with_a_24_hour_horizon_unless_told_otherwise()
    {
        var defaults = ConfigLoader.Load(null, _dir, new Dictionary<string, string?>());
        var file = Path.Combine(_dir, "medic.yaml");
        File.WriteAllText(file, "early_warning:\n  interval: 10m\n  horizon: 48h\n");
        var fromFile = ConfigLoader.Load(file, _dir, new Dictionary<string, string?>());
        var fromEnvironment = ConfigLoader.Load(file, _dir, new Dictionary<string, string?> { ["MEDIC_EARLY_WARNING__HORIZON"] = "3d" });

        (defaults.EarlyWarning.Interval, defaults.EarlyWarning.Horizon).ShouldBe(("5m", "24h"));
        (fromFile.EarlyWarning.Interval, fromFile.EarlyWarning.Horizon).ShouldBe(("10m", "48h"));
        fromEnvironment.EarlyWarning.Horizon.ShouldBe("3d");
    }

    [Theory]
    [InlineData("MEDIC_EARLY_WARNING__INTERVAL", "30s", "early_warning.interval")]
    [InlineData("MEDIC_EARLY_WARNING__INTERVAL", "often", "early_warning.interval")]
    [InlineData("MEDIC_EARLY_WARNING__HORIZON", "10m", "early_warning.horizon")]
    [InlineData("MEDIC_EARLY_WARNING__HORIZON", "90d", "early_warning.horizon")]
    public void Out_of_range_settings_are_refused_with_a_remedy(string variable, string value, string named)
    {
        var ex = Should.Throw<ConfigException>(() => ConfigLoader.Load(null, _dir, new Dictionary<string, string?> { [variable] = value }));

        ex.Message.ShouldContain(named);
        ex.Remedy.ShouldNotBeNullOrWhiteSpace();
    }
}
