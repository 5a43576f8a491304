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
}
