using Medic.Server.Common;
using Medic.Server.Hosting;

namespace Medic.Server.Tests.Hosting;

/// <summary>Defaults, then the file, then MEDIC_ variables, then flags; every mistake is a ConfigException naming the remedy.</summary>
public sealed class ConfigLoaderTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("medic-config-").FullName;

    private static readonly Dictionary<string, string?> NoEnvironment = [];

    private string Write(string name, string text)
    {
        var path = Path.Combine(_dir, name);
        File.WriteAllText(path, text);
        return path;
    }

    [Fact]
    public void Without_a_file_the_defaults_are_loopback_and_sqlite_in_the_data_directory()
    {
        var o = ConfigLoader.Load(null, _dir, NoEnvironment);

        o.Listen.ShouldBe("http://127.0.0.1:7431");
        o.DatabaseUrl.ShouldBe("sqlite:" + Path.Combine(_dir, "medic.db"));
        o.MasterKeyPath.ShouldBe(Path.Combine(_dir, "master.key"));
        o.RateLimits.LoginPerMinute.ShouldBe(10);
        o.TrustedProxies.ShouldBeEmpty();
    }

    [Fact]
    public void A_yaml_file_sets_nested_settings()
    {
        var file = Write("medic.yaml", $"""
            data_dir: {_dir}/data
            listen: http://0.0.0.0:8080
            trusted_proxies: [127.0.0.1]
            rate_limits:
              login_per_minute: 3
            tokens:
              default_lifetime: 7d
            """);

        var o = ConfigLoader.Load(file, "/var/lib/medic", NoEnvironment);

        o.DataDir.ShouldBe(Path.Combine(_dir, "data"));
        o.Listen.ShouldBe("http://0.0.0.0:8080");
        o.TrustedProxies.ShouldBe(["127.0.0.1"]);
        o.RateLimits.LoginPerMinute.ShouldBe(3);
        o.RateLimits.ApiPerMinute.ShouldBe(600);
        o.Tokens.DefaultLifetime.ShouldBe("7d");
    }

    [Theory]
    [InlineData("90d")]
    [InlineData("1d12h")]
    [InlineData("1.5h")]
    [InlineData("36000")]
    public void Token_lifetimes_take_the_shared_duration_grammar(string text)
    {
        var o = ConfigLoader.Load(null, _dir, new Dictionary<string, string?> { ["MEDIC_TOKENS__DEFAULT_LIFETIME"] = text });

        o.Tokens.DefaultLifetime.ShouldBe(text);
    }

    [Theory]
    [InlineData("1y")]
    [InlineData("30m1h")]
    [InlineData("0")]
    public void A_wrong_duration_is_refused_with_the_shared_remedy(string text)
    {
        var error = Should.Throw<ConfigException>(() => ConfigLoader.Load(null, _dir, new Dictionary<string, string?> { ["MEDIC_TOKENS__MAX_LIFETIME"] = text }));

        error.Message.ShouldBe($"tokens.max_lifetime '{text}' is not a duration");
        error.Remedy.ShouldBe(Medic.Contracts.Duration.Hint);
    }

    [Fact]
    public void A_json_file_works_too()
    {
        var file = Write("medic.json", $$"""{ "data_dir": "{{_dir}}", "database": "sqlite:{{_dir}}/other.db", "rate_limits": { "api_per_minute": 50 } }""");

        var o = ConfigLoader.Load(file, "/var/lib/medic", NoEnvironment);

        o.DatabaseUrl.ShouldBe($"sqlite:{_dir}/other.db");
        o.RateLimits.ApiPerMinute.ShouldBe(50);
    }

    [Fact]
    public void Environment_overrides_the_file_and_flags_override_both()
    {
        var file = Write("medic.yaml", "listen: http://127.0.0.1:1111\nrate_limits:\n  login_per_minute: 3\n");
        var env = new Dictionary<string, string?>
        {
            ["MEDIC_LISTEN"] = "http://127.0.0.1:2222",
            ["MEDIC_RATE_LIMITS__LOGIN_PER_MINUTE"] = "5",
            ["MEDIC_DATA_DIR"] = _dir,
            ["MEDIC_TRUSTED_PROXIES"] = "10.0.0.1, ::1",
        };

        var fromEnv = ConfigLoader.Load(file, "/nowhere", env);
        var fromFlags = ConfigLoader.Load(file, "/nowhere", env, o => o.Listen = "http://127.0.0.1:3333");

        fromEnv.Listen.ShouldBe("http://127.0.0.1:2222");
        fromEnv.RateLimits.LoginPerMinute.ShouldBe(5);
        fromEnv.DataDir.ShouldBe(_dir);
        fromEnv.TrustedProxies.ShouldBe(["10.0.0.1", "::1"]);
        fromFlags.Listen.ShouldBe("http://127.0.0.1:3333");
    }

    [Fact]
    public void An_unknown_key_is_reported_with_its_line_and_column()
    {
        var file = Write("medic.yaml", "listen: http://127.0.0.1:7431\nlisten_port: 80\n");

        var ex = Should.Throw<ConfigException>(() => ConfigLoader.Load(file, _dir, NoEnvironment));

        ex.Message.ShouldContain("line 2");
        ex.Message.ShouldContain("column 1");
        ex.Remedy.ShouldContain("docs/configuration.md");
    }

    [Theory]
    [InlineData("listen", "https://127.0.0.1:7431", "not an http:// URL")]
    [InlineData("listen", "localhost:7431", "not an http:// URL")]
    [InlineData("database", "Host=;Port=x", "database setting")]
    [InlineData("database", "sqlite:", "database setting")]
    [InlineData("trusted_proxies", "[proxy.internal]", "not an IP address")]
    public void Invalid_values_are_refused_with_a_remedy(string key, string value, string message)
    {
        var file = Write("medic.yaml", $"{key}: {(value.StartsWith('[') ? value : "'" + value + "'")}\n");

        var ex = Should.Throw<ConfigException>(() => ConfigLoader.Load(file, _dir, NoEnvironment));

        ex.Message.ShouldContain(message);
        ex.Remedy.ShouldNotBeNullOrWhiteSpace();
    }

    [Fact]
    public void A_default_token_lifetime_above_the_maximum_is_refused()
    {
        var env = new Dictionary<string, string?> { ["MEDIC_TOKENS__DEFAULT_LIFETIME"] = "400d" };

        var ex = Should.Throw<ConfigException>(() => ConfigLoader.Load(null, _dir, env));

        ex.Message.ShouldContain("longer than tokens.max_lifetime");
    }

    [Fact]
    public void A_non_numeric_rate_limit_in_the_environment_names_the_variable()
    {
        var env = new Dictionary<string, string?> { ["MEDIC_RATE_LIMITS__LOGIN_PER_MINUTE"] = "ten" };

        var ex = Should.Throw<ConfigException>(() => ConfigLoader.Load(null, _dir, env));

        ex.Message.ShouldContain("MEDIC_RATE_LIMITS__LOGIN_PER_MINUTE");
    }

    [Theory]
    [InlineData("MEDIC_PIPELINE__NODE_GRACE_SECONDS", "7")]
    [InlineData("MEDIC_PIPELINE__SIGNAL_WAIT_SECONDS", "30")]
    [InlineData("MEDIC_AUDIT__CHECKPOINT_INTERVAL", "2h")]
    [InlineData("MEDIC_AUDIT__CHECKPOINT_WEBHOOK", "https://archive.example.com/cp")]
    [InlineData("MEDIC_NOTIFICATIONS__MAX_ATTEMPTS", "3")]
    [InlineData("MEDIC_EARLY_WARNING__HORIZON", "48h")]
    [InlineData("MEDIC_CHECKS__SWEEP_SECONDS", "5")]
    [InlineData("MEDIC_AGENTS__HEARTBEAT_SECONDS", "20")]
    [InlineData("MEDIC_PUBLIC_URL", "https://medic.example.com")]
    public void Every_setting_has_its_variable_without_a_line_of_code_for_it(string variable, string value)
    {
        var o = ConfigLoader.Load(null, _dir, new Dictionary<string, string?> { [variable] = value });

        Setting(o, variable["MEDIC_".Length..].Split("__")).ShouldBe(value);
    }

    /// <summary>The bound value at a variable's path, found by the same key names the file uses.</summary>
    private static string? Setting(object options, IEnumerable<string> path)
    {
        object? current = options;
        foreach (var key in path)
        {
            var property = current!.GetType().GetProperties()
                .Single(p => string.Equals(p.GetCustomAttributes(typeof(Microsoft.Extensions.Configuration.ConfigurationKeyNameAttribute), false)
                    .Cast<Microsoft.Extensions.Configuration.ConfigurationKeyNameAttribute>().SingleOrDefault()?.Name, key, StringComparison.OrdinalIgnoreCase));
            current = property.GetValue(current);
        }

        return Convert.ToString(current, System.Globalization.CultureInfo.InvariantCulture);
    }

    [Fact]
    public void A_value_of_the_wrong_type_in_the_file_is_reported_at_its_line()
    {
        var file = Write("medic.yaml", "listen: http://127.0.0.1:7431\nrate_limits:\n  login_per_minute: lots\n");

        var ex = Should.Throw<ConfigException>(() => ConfigLoader.Load(file, _dir, NoEnvironment));

        ex.Message.ShouldBe($"{file}, line 3, column 21: rate_limits.login_per_minute 'lots' is not a whole number");
        ex.Remedy.ShouldContain("docs/configuration.md");
    }

    [Fact]
    public void An_unknown_key_in_a_section_names_the_section()
    {
        var file = Write("medic.yaml", "pipeline:\n  node_grace: 30\n");

        var ex = Should.Throw<ConfigException>(() => ConfigLoader.Load(file, _dir, NoEnvironment));

        ex.Message.ShouldBe($"{file}, line 2, column 3: there is no setting 'pipeline.node_grace'");
    }

    [Fact]
    public void A_missing_config_file_is_a_clear_error()
    {
        var ex = Should.Throw<ConfigException>(() => ConfigLoader.Load(Path.Combine(_dir, "absent.yaml"), _dir, NoEnvironment));

        ex.Message.ShouldContain("does not exist");
    }

    public void Dispose() => Directory.Delete(_dir, recursive: true);
}
