using Medic.Server.Tests.Infrastructure;
using Medic.Server.Web.Pages.Runbooks;

namespace Medic.Server.Tests.Web;

/// <summary>The console's runbook YAML highlighting: tokens that give the text back unchanged, with keys, strings, comments, references and block text marked.</summary>
public sealed class YamlHighlighterTests
{
    private const string Sample = """
        # Restart a unit.
        name: restart-unit
        version: 2
        description: "Restart it # not a comment"
        parameters:
          unit: {type: string, pattern: '[a-z]+'}
        steps:
          - name: restart
            run: [systemctl, restart, '${{ params.unit }}']  # the argv
          - name: check
            shell: |
              systemctl is-active "$MEDIC_PARAM_UNIT"
              echo key: not a key ${{ captures.out }}
            when: captures.out == 'x'
        """;

    private static IReadOnlyList<YamlToken> Tokens => YamlHighlighter.Tokenize(Sample);

    private static IEnumerable<string> Of(YamlTokenKind kind) => Tokens.Where(t => t.Kind == kind).Select(t => t.Text);

    [Fact]
    public void The_tokens_give_the_text_back_unchanged() =>
        string.Concat(Tokens.Select(t => t.Text)).ShouldBe(Sample);

    [Fact]
    public void Every_library_runbook_comes_back_unchanged()
    {
        var files = Directory.GetFiles(Path.Combine(Repository.Root(), "src", "Medic.Server", "Runbooks", "Library"), "*.yaml");
        files.ShouldNotBeEmpty();
        foreach (var file in files)
        {
            var text = File.ReadAllText(file);
            string.Concat(YamlHighlighter.Tokenize(text).Select(t => t.Text)).ShouldBe(text, file);
            YamlHighlighter.Tokenize(text).ShouldContain(t => t.Kind == YamlTokenKind.Key && t.Text == "name", file);
        }
    }

    [Fact]
    public void Keys_are_marked_at_any_depth_and_in_list_items_but_not_inside_a_block_scalar()
    {
        Of(YamlTokenKind.Key).ShouldBe(["name", "version", "description", "parameters", "unit", "steps", "name", "run", "name", "shell", "when"]);
    }

    [Fact]
    public void Comments_are_marked_only_where_yaml_has_them()
    {
        Of(YamlTokenKind.Comment).ShouldBe(["# Restart a unit.", "# the argv"]);
        Of(YamlTokenKind.String).ShouldContain("\"Restart it # not a comment\"");
    }

    [Fact]
    public void References_are_marked_in_strings_and_in_block_text()
    {
        Of(YamlTokenKind.Reference).ShouldBe(["${{ params.unit }}", "${{ captures.out }}"]);
        Of(YamlTokenKind.String).ShouldContain("'[a-z]+'");
        Of(YamlTokenKind.String).ShouldContain("'x'");
    }

    [Fact]
    public void The_lines_of_a_block_scalar_are_block_text_until_the_indentation_comes_back()
    {
        var block = string.Concat(Of(YamlTokenKind.BlockText));
        block.ShouldContain("systemctl is-active \"$MEDIC_PARAM_UNIT\"");
        block.ShouldContain("echo key: not a key ");
        block.ShouldNotContain("when");
    }

    [Fact]
    public void An_unclosed_quote_or_odd_text_is_shown_as_it_is()
    {
        const string odd = "key: 'unclosed\n: lonely colon\n\t- tab\n";
        string.Concat(YamlHighlighter.Tokenize(odd).Select(t => t.Text)).ShouldBe(odd);
        YamlHighlighter.Tokenize("").ShouldBeEmpty();
    }
}
