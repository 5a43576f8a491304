using Medic.Server.Web.Shared;

namespace Medic.Server.Tests.Web;

/// <summary>What the console's target picker sends as the API's selector, and what it refuses before sending.</summary>
public sealed class TargetSelectionTests
{
    [Fact]
    public void Nothing_typed_is_no_selector_and_no_problem()
    {
        var (selector, problem) = new TargetSelection { Names = "  ", Tags = "" }.ToSelector();
        selector.ShouldBeNull();
        problem.ShouldBeNull();
    }

    [Fact]
    public void Names_tags_environment_and_groups_become_one_selector_with_every_criterion()
    {
        var (selector, problem) = new TargetSelection { Names = "web-1, web-2 web-1", Tags = "role=web,region=eu", Environment = " prod ", Groups = "eu backup" }.ToSelector();
        problem.ShouldBeNull();
        selector.ShouldNotBeNull();
        selector.Names.ShouldBe(["web-1", "web-2"]);
        selector.Tags.ShouldBe(new Dictionary<string, string> { ["role"] = "web", ["region"] = "eu" });
        selector.Environment.ShouldBe("prod");
        selector.Groups.ShouldBe(["eu", "backup"]);
        selector.All.ShouldBeFalse();
    }

    [Fact]
    public void Every_server_is_a_choice_of_its_own()
    {
        var (selector, _) = new TargetSelection { All = true }.ToSelector();
        selector.ShouldNotBeNull();
        selector.All.ShouldBeTrue();
        selector.Names.ShouldBeNull();
    }

    [Theory]
    [InlineData("role", "Tag 'role' is not key=value")]
    [InlineData("=web", "Tag '=web' is not key=value")]
    [InlineData("role=web role=db", "Tag 'role' is given twice")]
    public void A_malformed_tag_is_one_line_saying_how_to_write_it(string tags, string expected)
    {
        var (selector, problem) = new TargetSelection { Tags = tags }.ToSelector();
        selector.ShouldBeNull();
        problem.ShouldNotBeNull();
        problem.ShouldStartWith(expected);
    }

    [Fact]
    public void A_tag_value_may_be_empty_or_contain_an_equals_sign()
    {
        var (selector, _) = new TargetSelection { Tags = "note=a=b empty=" }.ToSelector();
        selector!.Tags.ShouldBe(new Dictionary<string, string> { ["note"] = "a=b", ["empty"] = "" });
    }
}
