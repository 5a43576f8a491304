namespace Medic.Server.Storage;

/// <summary>
/// The few places where SQLite and PostgreSQL SQL differ. Everything else is written once in
/// their common subset.
/// </summary>
public sealed class SqlDialect
{
    public static readonly SqlDialect Sqlite = new(SqlDialectKind.Sqlite);
    public static readonly SqlDialect Postgres = new(SqlDialectKind.Postgres);

    private SqlDialect(SqlDialectKind kind) => Kind = kind;

    public SqlDialectKind Kind { get; }

    public string Name => Kind == SqlDialectKind.Sqlite ? "sqlite" : "postgres";

    /// <summary>Row lock for read-modify-write inside a transaction. SQLite's BEGIN IMMEDIATE already holds the only write lock.</summary>
    public string ForUpdate => Kind == SqlDialectKind.Postgres ? " FOR UPDATE" : "";

    /// <summary>Statement that serializes migrations across replicas starting at once.</summary>
    public string? MigrationLock => Kind == SqlDialectKind.Postgres ? "SELECT pg_advisory_xact_lock(7243001)" : null;

    public string ExistsTable(string table) => Kind == SqlDialectKind.Postgres
        ? $"SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = current_schema() AND table_name = '{table}'"
        : $"SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = '{table}'";

    /// <summary>
    /// <paramref name="expression"/> lower-cased, for a case-insensitive <c>LIKE</c> against <see cref="ContainsPattern"/>.
    /// PostgreSQL's <c>LOWER</c> follows the database's locale (UTF-8 locales fold every script); SQLite's
    /// folds ASCII only ("Ü" stays "Ü"), so there it is <c>medic_lower</c>, .NET's invariant lower case,
    /// which <see cref="Database"/> registers on each connection.
    /// </summary>
    public string Lower(string expression) => Kind == SqlDialectKind.Postgres ? $"LOWER({expression})" : $"{SqliteLowerFunction}({expression})";

    internal const string SqliteLowerFunction = "medic_lower";

    /// <summary>"%text%" for <c>LIKE ... ESCAPE '\'</c>, lower-cased, with the wildcards the text holds taken literally.</summary>
    public static string ContainsPattern(string text) => "%" + EscapeLike(text.ToLowerInvariant()) + "%";

    /// <summary><paramref name="text"/> with <c>LIKE</c>'s wildcards and escape character escaped by a backslash, for <c>ESCAPE '\'</c>.</summary>
    public static string EscapeLike(string text) =>
        text.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("%", "\\%", StringComparison.Ordinal).Replace("_", "\\_", StringComparison.Ordinal);
}
