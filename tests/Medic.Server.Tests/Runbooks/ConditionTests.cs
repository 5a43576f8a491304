using Medic.Server.Runbooks;

namespace Medic.Server.Tests.Runbooks;

public sealed class ConditionTests
{
    private static readonly Dictionary<string, string> Values = new()
    {
        ["unit"] = "nginx", ["count"] = "12", ["force"] = "true", ["off"] = "false", ["empty"] = "", ["out"] = "3.5",
    };

    private static ValueRef? Resolve(string name)
    {
        var bare = name.Contains('.', StringComparison.Ordinal) ? name[(name.IndexOf('.', StringComparison.Ordinal) + 1)..] : name;
        if (!Values.ContainsKey(bare)) return null;
        return new ValueRef(name.StartsWith("captures.", StringComparison.Ordinal) || bare == "out" ? RefScope.Captures : RefScope.Params, bare);
    }

    private static bool Eval(string text) => Condition.Parse(text, Resolve).Evaluate(r => Values[r.Name]);

    [Theory]
    [InlineData("unit == 'nginx'", true)]
    [InlineData("params.unit == \"nginx\"", true)]
    [InlineData("unit != 'nginx'", false)]
    [InlineData("unit == 'NGINX'", false)]
    [InlineData("count > 10", true)]
    [InlineData("count >= 12 and count <= 12", true)]
    [InlineData("count < 9", false)]
    [InlineData("count == 12.0", true)]
    [InlineData("captures.out > 3", true)]
    [InlineData("out == '3.5'", true)]
    [InlineData("count == '012'", true)]
    [InlineData("force", true)]
    [InlineData("not force", false)]
    [InlineData("off or force", true)]
    [InlineData("off or force and false", false)]
    [InlineData("(off or force) and not off", true)]
    [InlineData("not not force", true)]
    [InlineData("empty == ''", true)]
    [InlineData("'it''s' == \"it's\"", true)]
    [InlineData("-1 < 0", true)]
    public void Conditions_decide_as_written(string text, bool expected) => Eval(text).ShouldBe(expected);

    [Theory]
    [InlineData("unit = 'x'", 5, "'=' is not an operator")]
    [InlineData("unit == 'x", 8, "a quoted string is not closed")]
    [InlineData("unit == 'x' force", 12, "unexpected 'force' after a complete expression")]
    [InlineData("(force", 6, "expected ')'")]
    [InlineData("missing == 1", 0, "'missing' names no parameter and no capture")]
    [InlineData("unit ==", 7, "expected a value but found the end of the expression")]
    [InlineData("unit == 'a' and", 15, "expected a value")]
    [InlineData("!force", 0, "'!' is not an operator")]
    [InlineData("count > 1; rm -rf /", 9, "unexpected character ';'")]
    [InlineData("force('x')", 5, "unexpected '(' after a complete expression")]
    public void A_condition_that_does_not_parse_says_where(string text, int offset, string message)
    {
        var ex = Should.Throw<ConditionException>(() => Condition.Parse(text, Resolve));

        ex.Message.ShouldContain(message);
        ex.Offset.ShouldBe(offset);
    }

    [Theory]
    [InlineData("unit > 3", "params.unit is 'nginx', not a number")]
    [InlineData("unit", "params.unit is 'nginx', which is neither true nor false")]
    public void A_condition_that_cannot_be_decided_says_why(string text, string message) =>
        Should.Throw<ConditionEvaluationException>(() => Eval(text)).Message.ShouldContain(message);

    [Fact]
    public void Deep_nesting_is_refused_rather_than_overflowing_the_stack() =>
        Should.Throw<ConditionException>(() => Condition.Parse(new string('(', 500) + "force" + new string(')', 500), Resolve)).Message.ShouldContain("nested");
}
