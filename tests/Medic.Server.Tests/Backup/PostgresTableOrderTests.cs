using Medic.Server.Backup;

namespace Medic.Server.Tests.Backup;

/// <summary>The order a PostgreSQL backup writes (and a restore loads) tables in: every table after the ones it references.</summary>
public sealed class PostgresTableOrderTests
{
    [Fact]
    public void Each_table_comes_after_the_tables_its_foreign_keys_reference()
    {
        string[] tables = ["api_tokens", "incidents", "nodes", "tenants", "users"];
        var references = new[] { ("api_tokens", "users"), ("api_tokens", "tenants"), ("users", "tenants"), ("incidents", "nodes"), ("nodes", "tenants"), ("incidents", "tenants") }
            .ToLookup(r => r.Item1, r => r.Item2);

        var order = PostgresTables.Order(tables, references).ToList();

        order.Count.ShouldBe(tables.Length);
        order.ShouldBe(tables, ignoreOrder: true);
        foreach (var (child, parent) in references.SelectMany(g => g.Select(p => (g.Key, p))))
        {
            order.IndexOf(parent).ShouldBeLessThan(order.IndexOf(child), $"{child} references {parent}");
        }
    }

    [Fact]
    public void A_reference_to_a_table_outside_the_schema_is_ignored_and_a_cycle_is_refused()
    {
        PostgresTables.Order(["a"], new[] { ("a", "elsewhere") }.ToLookup(r => r.Item1, r => r.Item2)).ShouldBe(["a"]);

        var cycle = Should.Throw<InvalidOperationException>(() => PostgresTables.Order(["a", "b"], new[] { ("a", "b"), ("b", "a") }.ToLookup(r => r.Item1, r => r.Item2)));

        cycle.Message.ShouldContain("cycle");
    }
}
