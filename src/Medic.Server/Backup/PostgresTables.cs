using System.Data.Common;
using Dapper;

namespace Medic.Server.Backup;

/// <summary>The tables of the current schema, ordered so a restore can load each after the tables its foreign keys reference.</summary>
internal static class PostgresTables
{
    public static string Quote(string identifier) => "\"" + identifier.Replace("\"", "\"\"", StringComparison.Ordinal) + "\"";

    public static async Task<IReadOnlyList<string>> ListAsync(DbConnection c, DbTransaction? tx) =>
        (await c.QueryAsync<string>(
            "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'p') ORDER BY c.relname",
            transaction: tx)).ToList();

    public static async Task<IReadOnlyList<string>> InDependencyOrderAsync(DbConnection c, DbTransaction? tx)
    {
        var tables = await ListAsync(c, tx);
        var references = (await c.QueryAsync<(string Child, string Parent)>(
            """
            SELECT ch.relname, pa.relname
            FROM pg_constraint k
            JOIN pg_class ch ON ch.oid = k.conrelid
            JOIN pg_class pa ON pa.oid = k.confrelid
            JOIN pg_namespace n ON n.oid = ch.relnamespace
            WHERE k.contype = 'f' AND n.nspname = current_schema() AND ch.oid <> pa.oid
            """, transaction: tx)).ToLookup(r => r.Child, r => r.Parent);
        return Order(tables, references);
    }

    /// <summary>Depth-first topological order; a table that references itself loads in one COPY, whose row checks run at its end.</summary>
    public static IReadOnlyList<string> Order(IReadOnlyList<string> tables, ILookup<string, string> references)
    {
        var ordered = new List<string>();
        var known = tables.ToHashSet(StringComparer.Ordinal);
        var state = new Dictionary<string, bool>(StringComparer.Ordinal); // false: being visited, true: done
        void Visit(string table, Stack<string> path)
        {
            if (state.TryGetValue(table, out var done))
            {
                if (!done) throw new InvalidOperationException($"the tables {string.Join(" -> ", path.Reverse())} -> {table} reference each other in a cycle; a backup cannot order them");
                return;
            }

            state[table] = false;
            path.Push(table);
            foreach (var parent in references[table].Where(known.Contains).Order(StringComparer.Ordinal)) Visit(parent, path);
            path.Pop();
            state[table] = true;
            ordered.Add(table);
        }

        foreach (var table in tables) Visit(table, new Stack<string>());
        return ordered;
    }
}
