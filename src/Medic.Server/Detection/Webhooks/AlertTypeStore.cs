using Medic.Contracts;
using Medic.Server.Audit;
using Medic.Server.Storage;

namespace Medic.Server.Detection.Webhooks;

/// <summary>The tenant's alert classification rules (<see cref="AlertClassifier"/>), one per name; every change audited with it.</summary>
internal sealed class AlertTypeStore(Database db, AuditLog audit, TimeProvider time)
    : NamedDocumentStore<AlertTypeRule>(db, audit, time, new("alert_type_rules", "rule", MaxPerTenant, "webhooks.type_rule", "alert_type:"), MedicJson.Default.AlertTypeRule)
{
    public const int MaxPerTenant = 100;

    /// <summary>The tenant's rules compiled, in the order they are tried; rules saved by an older version that no longer compile are skipped.</summary>
    public async Task<IReadOnlyList<AlertTypeMatcher>> MatchersAsync(string tenantId, CancellationToken ct)
    {
        var rows = await ListAsync(tenantId, ct);
        var matchers = new List<AlertTypeMatcher>(rows.Count);
        foreach (var row in rows)
        {
            if (AlertClassifier.Validate(row.Name, row.Value).Count == 0) matchers.Add(new AlertTypeMatcher(row.Name, row.Value, false));
        }

        return matchers;
    }

    public static AlertTypeRuleResponse Response(NamedDocument<AlertTypeRule> row) => new(row.Name, row.Value, false, row.UpdatedBy, row.UpdatedAt);
}
