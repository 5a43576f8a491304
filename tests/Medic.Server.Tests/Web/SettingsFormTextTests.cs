using Medic.Contracts;
using Medic.Server.Web.Pages.Settings;

namespace Medic.Server.Tests.Web;

/// <summary>What the settings pages read from their text fields before anything is sent to the API.</summary>
public sealed class SettingsFormTextTests
{
    [Theory]
    [InlineData("alertname=DiskFull", "alertname", "=", "DiskFull")]
    [InlineData("env!=staging", "env", "!=", "staging")]
    [InlineData("instance=~\"web-.*\"", "instance", "=~", "web-.*")]
    [InlineData("job !~ test.*", "job", "!~", "test.*")]
    [InlineData("path=/a!=b", "path", "=", "/a!=b")]
    [InlineData("empty=", "empty", "=", "")]
    public void A_matcher_line_is_read_as_alertmanager_writes_it(string line, string name, string op, string value)
    {
        var (matchers, problem) = SilenceMatchers.Parse(line);

        problem.ShouldBeNull();
        matchers.ShouldNotBeNull().ShouldHaveSingleItem().ShouldBe(new SilenceMatcher(name, op, value));
    }

    [Fact]
    public void Matchers_are_one_per_line_and_blank_lines_are_skipped()
    {
        var (matchers, _) = SilenceMatchers.Parse("alertname=DiskFull\r\n\n  env!=staging  \n");

        matchers.ShouldNotBeNull().ShouldBe([new SilenceMatcher("alertname", "=", "DiskFull"), new SilenceMatcher("env", "!=", "staging")]);
    }

    [Theory]
    [InlineData("just-a-word", "'just-a-word' is not a label matcher")]
    [InlineData("=value", "'=value' is not a label matcher")]
    [InlineData("  ", "Give at least one label matcher")]
    public void A_line_that_is_not_a_matcher_is_named_with_how_to_write_one(string text, string expected)
    {
        var (matchers, problem) = SilenceMatchers.Parse(text);

        matchers.ShouldBeNull();
        problem.ShouldNotBeNull().ShouldContain(expected);
    }

    [Fact]
    public void Enrollment_tags_are_comma_separated_pairs_as_the_cli_takes_them()
    {
        var (tags, problem) = EnrollmentSettings.ParseTags(" env=prod , role=web,note=a=b");

        problem.ShouldBeNull();
        tags.ShouldNotBeNull().ShouldBe(new Dictionary<string, string> { ["env"] = "prod", ["role"] = "web", ["note"] = "a=b" });
        EnrollmentSettings.FormatTags(tags).ShouldBe("env=prod,note=a=b,role=web");
    }

    [Fact]
    public void A_tag_without_a_value_is_refused_before_the_api_is_called()
    {
        var (tags, problem) = EnrollmentSettings.ParseTags("env=prod,web");

        tags.ShouldBeNull();
        problem.ShouldBe("Tag 'web' is not key=value. Write tags as env=prod,role=web.");
    }
}
