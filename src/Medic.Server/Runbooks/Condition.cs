using System.Globalization;
using System.Text;
using Medic.Contracts;

namespace Medic.Server.Runbooks;

/// <summary>A <c>when</c> expression that cannot be parsed; <c>Offset</c> is the 0-based character where it goes wrong.</summary>
internal sealed class ConditionException(int offset, string message) : Exception(message)
{
    public int Offset { get; } = offset;
}

/// <summary>A <c>when</c> expression that parsed but cannot be decided with the values at hand (a number compared with text).</summary>
internal sealed class ConditionEvaluationException(string message) : Exception(message);

/// <summary>
/// The <c>when</c> language: comparisons of parameters, captures and literals, joined with
/// <c>and</c>, <c>or</c>, <c>not</c> and parentheses. It is parsed into a tree here and evaluated
/// by walking that tree: nothing is ever compiled or executed.
/// <code>
/// expr    := or
/// or      := and ('or' and)*
/// and     := unary ('and' unary)*
/// unary   := 'not' unary | compare
/// compare := operand (('==' | '!=' | '&lt;' | '&lt;=' | '&gt;' | '&gt;=') operand)?
/// operand := '(' expr ')' | 'string' | "string" | number | true | false | params.NAME | captures.NAME | NAME
/// </code>
/// <c>==</c> and <c>!=</c> compare as numbers when both sides are numbers, otherwise as exact text;
/// the ordering operators need numbers on both sides. A lone operand must be true or false.
/// </summary>
internal sealed class Condition
{
    private readonly Node _root;

    private Condition(string text, Node root, IReadOnlyList<ValueRef> references)
    {
        Text = text;
        _root = root;
        References = references;
    }

    public string Text { get; }

    public IReadOnlyList<ValueRef> References { get; }

    /// <summary>Parses <paramref name="text"/>; <paramref name="resolve"/> turns a name as written into a reference, or null when nothing has that name.</summary>
    public static Condition Parse(string text, Func<string, ValueRef?> resolve)
    {
        if (text.Length > 2000) throw new ConditionException(0, "is longer than 2000 characters");
        var tokens = Tokenize(text);
        var references = new List<ValueRef>();
        var parser = new Parser(tokens, resolve, references);
        var root = parser.ParseExpression(0);
        if (parser.Current.Kind != TokenKind.End)
        {
            throw new ConditionException(parser.Current.Offset, $"unexpected '{parser.Current.Text}' after a complete expression");
        }

        return new Condition(text, root, references);
    }

    /// <summary>Decides the condition; <paramref name="lookup"/> gives a reference's value (a capture not yet set is the empty string).</summary>
    public bool Evaluate(Func<ValueRef, string> lookup) => Truth(_root, lookup);

    public override string ToString() => Text;

    private static bool Truth(Node node, Func<ValueRef, string> lookup) => node switch
    {
        OrNode o => Truth(o.Left, lookup) || Truth(o.Right, lookup),
        AndNode a => Truth(a.Left, lookup) && Truth(a.Right, lookup),
        NotNode n => !Truth(n.Inner, lookup),
        CompareNode c => Compare(c, lookup),
        OperandNode o => AsBool(o, lookup),
        _ => throw new InvalidOperationException("unknown condition node"),
    };

    private static bool AsBool(OperandNode o, Func<ValueRef, string> lookup)
    {
        var value = ValueOf(o, lookup);
        if (string.Equals(value, "true", StringComparison.OrdinalIgnoreCase)) return true;
        if (string.Equals(value, "false", StringComparison.OrdinalIgnoreCase)) return false;
        throw new ConditionEvaluationException($"{Describe(o)} is '{Clip(value)}', which is neither true nor false; compare it with == or !=");
    }

    private static bool Compare(CompareNode c, Func<ValueRef, string> lookup)
    {
        var left = ValueOf(c.Left, lookup);
        var right = ValueOf(c.Right, lookup);
        var leftNumber = TryNumber(left, out var l);
        var rightNumber = TryNumber(right, out var r);
        switch (c.Op)
        {
            case "==": return leftNumber && rightNumber ? l == r : string.Equals(left, right, StringComparison.Ordinal);
            case "!=": return leftNumber && rightNumber ? l != r : !string.Equals(left, right, StringComparison.Ordinal);
        }

        if (!leftNumber || !rightNumber)
        {
            var (side, value) = !leftNumber ? (c.Left, left) : (c.Right, right);
            throw new ConditionEvaluationException($"{Describe(side)} is '{Clip(value)}', not a number, so '{c.Op}' cannot compare it");
        }

        return c.Op switch
        {
            "<" => l < r,
            "<=" => l <= r,
            ">" => l > r,
            ">=" => l >= r,
            _ => throw new InvalidOperationException("unknown operator " + c.Op),
        };
    }

    private static string ValueOf(OperandNode o, Func<ValueRef, string> lookup) => o.Ref is { } r ? lookup(r) : o.Literal!;

    private static string Describe(OperandNode o) => o.Ref is { } r ? (r.Scope == RefScope.Params ? "params." : "captures.") + r.Name : "the literal";

    private static string Clip(string value) => Texts.Truncate(value, 60);

    private static bool TryNumber(string text, out decimal value) =>
        decimal.TryParse(text.Trim(), NumberStyles.AllowLeadingSign | NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out value);

    private enum TokenKind { Identifier, String, Number, Operator, LeftParen, RightParen, End }

    private sealed record Token(TokenKind Kind, string Text, int Offset);

    private static List<Token> Tokenize(string text)
    {
        var tokens = new List<Token>();
        var i = 0;
        while (i < text.Length)
        {
            var ch = text[i];
            if (char.IsWhiteSpace(ch))
            {
                i++;
                continue;
            }

            var start = i;
            if (ch is '(' or ')')
            {
                tokens.Add(new Token(ch == '(' ? TokenKind.LeftParen : TokenKind.RightParen, ch.ToString(), i++));
            }
            else if (ch is '\'' or '"')
            {
                var value = new StringBuilder();
                i++;
                while (true)
                {
                    if (i >= text.Length) throw new ConditionException(start, "a quoted string is not closed");
                    if (text[i] == ch)
                    {
                        // A doubled quote stands for the quote itself: 'it''s'.
                        if (i + 1 < text.Length && text[i + 1] == ch)
                        {
                            value.Append(ch);
                            i += 2;
                            continue;
                        }

                        i++;
                        break;
                    }

                    value.Append(text[i++]);
                }

                tokens.Add(new Token(TokenKind.String, value.ToString(), start));
            }
            else if (char.IsAsciiDigit(ch) || (ch == '-' && i + 1 < text.Length && char.IsAsciiDigit(text[i + 1])))
            {
                i++;
                while (i < text.Length && (char.IsAsciiDigit(text[i]) || text[i] == '.')) i++;
                var number = text[start..i];
                if (!TryNumber(number, out _)) throw new ConditionException(start, $"'{number}' is not a number");
                tokens.Add(new Token(TokenKind.Number, number, start));
            }
            else if (char.IsAsciiLetter(ch) || ch == '_')
            {
                while (i < text.Length && (char.IsAsciiLetterOrDigit(text[i]) || text[i] is '_' or '.')) i++;
                tokens.Add(new Token(TokenKind.Identifier, text[start..i], start));
            }
            else if (ch is '=' or '!' or '<' or '>')
            {
                var two = i + 1 < text.Length ? text.Substring(i, 2) : null;
                if (two is "==" or "!=" or "<=" or ">=")
                {
                    tokens.Add(new Token(TokenKind.Operator, two, i));
                    i += 2;
                }
                else if (ch is '<' or '>')
                {
                    tokens.Add(new Token(TokenKind.Operator, ch.ToString(), i++));
                }
                else
                {
                    throw new ConditionException(i, ch == '=' ? "'=' is not an operator; compare with '=='" : "'!' is not an operator; use 'not' or '!='");
                }
            }
            else
            {
                throw new ConditionException(i, $"unexpected character '{ch}'; the language has names, quoted strings, numbers, == != < <= > >=, and, or, not and parentheses");
            }
        }

        tokens.Add(new Token(TokenKind.End, "end of the expression", text.Length));
        return tokens;
    }

    private abstract record Node;

    private sealed record OrNode(Node Left, Node Right) : Node;

    private sealed record AndNode(Node Left, Node Right) : Node;

    private sealed record NotNode(Node Inner) : Node;

    private sealed record CompareNode(OperandNode Left, string Op, OperandNode Right) : Node;

    private sealed record OperandNode(string? Literal, ValueRef? Ref) : Node;

    private sealed class Parser(List<Token> tokens, Func<string, ValueRef?> resolve, List<ValueRef> references)
    {
        private const int MaxDepth = 32;
        private int _position;

        public Token Current => tokens[_position];

        private bool IsKeyword(string word) => Current.Kind == TokenKind.Identifier && Current.Text == word;

        public Node ParseExpression(int depth)
        {
            if (depth > MaxDepth) throw new ConditionException(Current.Offset, $"is nested more than {MaxDepth} deep");
            var left = ParseAnd(depth);
            while (IsKeyword("or"))
            {
                _position++;
                left = new OrNode(left, ParseAnd(depth));
            }

            return left;
        }

        private Node ParseAnd(int depth)
        {
            var left = ParseUnary(depth);
            while (IsKeyword("and"))
            {
                _position++;
                left = new AndNode(left, ParseUnary(depth));
            }

            return left;
        }

        private Node ParseUnary(int depth)
        {
            if (IsKeyword("not"))
            {
                _position++;
                if (depth > MaxDepth) throw new ConditionException(Current.Offset, $"is nested more than {MaxDepth} deep");
                return new NotNode(ParseUnary(depth + 1));
            }

            if (Current.Kind == TokenKind.LeftParen)
            {
                _position++;
                var inner = ParseExpression(depth + 1);
                if (Current.Kind != TokenKind.RightParen) throw new ConditionException(Current.Offset, $"expected ')' but found {Describe(Current)}");
                _position++;
                return inner;
            }

            var left = ParseOperand();
            if (Current.Kind != TokenKind.Operator) return left;
            var op = Current.Text;
            _position++;
            return new CompareNode(left, op, ParseOperand());
        }

        private OperandNode ParseOperand()
        {
            var token = Current;
            switch (token.Kind)
            {
                case TokenKind.String:
                case TokenKind.Number:
                    _position++;
                    return new OperandNode(token.Text, null);
                case TokenKind.Identifier when token.Text is "true" or "false":
                    _position++;
                    return new OperandNode(token.Text, null);
                case TokenKind.Identifier when token.Text is "and" or "or" or "not":
                    throw new ConditionException(token.Offset, $"expected a value but found '{token.Text}'");
                case TokenKind.Identifier:
                    _position++;
                    var reference = resolve(token.Text) ?? throw new ConditionException(token.Offset,
                        $"'{token.Text}' names no parameter and no capture of an earlier step; write params.NAME or captures.NAME, and quote text: '{token.Text}'");
                    references.Add(reference);
                    return new OperandNode(null, reference);
                default:
                    throw new ConditionException(token.Offset, $"expected a value but found {Describe(token)}");
            }
        }

        private static string Describe(Token t) => t.Kind == TokenKind.End ? "the end of the expression" : $"'{t.Text}'";
    }
}
