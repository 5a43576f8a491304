using Dapper;
using Medic.Contracts;
using Medic.Server.Audit;
using Medic.Server.Common;
using Medic.Server.Storage;
using Microsoft.Extensions.Options;

namespace Medic.Server.Ai.Providers;

internal sealed class AiModelRow
{
    public string Id { get; set; } = "";
    public string Name { get; set; } = "";
    public string Provider { get; set; } = "";
    public string Model { get; set; } = "";
    public string? BaseUrl { get; set; }
    public string? KeySecret { get; set; }
    public string? Fallback { get; set; }
    public int TimeoutSeconds { get; set; }
    public double? PriceIn { get; set; }
    public double? PriceOut { get; set; }
    public string AddedBy { get; set; } = "";
    public DateTimeOffset AddedAt { get; set; }

    public AiModelEntry ToEntry()
    {
        AiModelEntry.TryParseProvider(Provider, out var provider);
        return new(Id, Name, provider, Model, BaseUrl, KeySecret, Fallback, TimeoutSeconds, PriceIn, PriceOut, AddedBy, AddedAt);
    }
}

/// <summary>
/// The tenant's model entries (ai_models) and the configuration file's, which every tenant sees.
/// Changes are audited and tell <see cref="ChatClientCache"/> to drop the clients built for them.
/// </summary>
internal sealed class AiModelStore(Database db, AuditLog audit, TimeProvider time, IOptions<MedicOptions> options, ChatClientCache clients)
{
    public const int MaxPerTenant = 200;

    private readonly IReadOnlyList<AiModelEntry> _config = [.. options.Value.Ai.Models.Select(FromConfig)];

    private static AiModelEntry FromConfig(AiModelOptions m)
    {
        AiModelEntry.TryParseProvider(m.Provider, out var provider);
        return new AiModelEntry(null, m.Name, provider, m.Model, m.BaseUrl, m.KeySecret, m.Fallback, m.TimeoutSeconds, m.PriceIn, m.PriceOut);
    }

    /// <summary>The tenant's entries (by name, then as added) followed by the configuration file's.</summary>
    public async Task<IReadOnlyList<AiModelEntry>> ListAsync(string tenantId, CancellationToken ct)
    {
        await using var c = await db.OpenAsync(ct);
        var rows = await c.QueryAsync<AiModelRow>(
            "SELECT id, name, provider, model, base_url, key_secret, fallback, timeout_seconds, price_in, price_out, added_by, added_at " +
            "FROM ai_models WHERE tenant_id = @tenantId ORDER BY name, added_at, id", new { tenantId });
        return [.. rows.Select(r => r.ToEntry()), .. _config];
    }

    public async Task<AiModelEntry?> AddAsync(string tenantId, AiModelRequest request, string actor, string? clientAddress, CancellationToken ct)
    {
        AiModelEntry.TryParseProvider(request.Provider, out var provider);
        var row = new AiModelRow
        {
            Id = Ids.New("aim"), Name = request.Name, Provider = request.Provider, Model = request.Model.Trim(),
            BaseUrl = string.IsNullOrWhiteSpace(request.BaseUrl) ? null : request.BaseUrl.TrimEnd('/'),
            KeySecret = request.KeySecret, Fallback = request.Fallback, TimeoutSeconds = request.TimeoutSeconds ?? AiModelEntry.DefaultTimeoutSeconds,
            PriceIn = request.PriceIn, PriceOut = request.PriceOut, AddedBy = actor, AddedAt = time.GetUtcNow(),
        };
        return await db.WriteAsync(async (c, tx) =>
        {
            if (await c.ExecuteScalarAsync<int>("SELECT COUNT(*) FROM ai_models WHERE tenant_id = @tenantId", new { tenantId }, tx) >= MaxPerTenant) return null;
            await c.ExecuteAsync(
                "INSERT INTO ai_models (id, tenant_id, name, provider, model, base_url, key_secret, fallback, timeout_seconds, price_in, price_out, added_by, added_at) " +
                "VALUES (@Id, @tenantId, @Name, @Provider, @Model, @BaseUrl, @KeySecret, @Fallback, @TimeoutSeconds, @PriceIn, @PriceOut, @AddedBy, @AddedAt)",
                new { row.Id, tenantId, row.Name, row.Provider, row.Model, row.BaseUrl, row.KeySecret, row.Fallback, row.TimeoutSeconds, row.PriceIn, row.PriceOut, row.AddedBy, row.AddedAt }, tx);
            var details = new Dictionary<string, string> { ["id"] = row.Id, ["provider"] = row.Provider, ["model"] = row.Model, ["base_url"] = row.BaseUrl ?? AiProviders.DefaultBaseUrl(row.Provider) };
            if (row.KeySecret is not null) details["key_secret"] = row.KeySecret;
            if (row.Fallback is not null) details["fallback"] = row.Fallback;
            await audit.AppendAsync(c, tx, new AuditRecord(tenantId, actor, "ai.model.add", "ai_model:" + row.Name, AuditOutcomes.Success, clientAddress, details));
            return row.ToEntry();
        }, ct);
    }

    /// <summary>Removes every entry of that name, or only the one with <paramref name="id"/>; the number removed.</summary>
    public async Task<int> RemoveAsync(string tenantId, string name, string? id, string actor, string? clientAddress, CancellationToken ct)
    {
        var only = id is null ? "" : " AND id = @id";
        var removed = await db.WriteAsync(async (c, tx) =>
        {
            var ids = (await c.QueryAsync<string>("SELECT id FROM ai_models WHERE tenant_id = @tenantId AND name = @name" + only, new { tenantId, name, id }, tx)).ToList();
            if (ids.Count == 0) return ids;
            await c.ExecuteAsync("DELETE FROM ai_models WHERE tenant_id = @tenantId AND name = @name" + only, new { tenantId, name, id }, tx);
            await audit.AppendAsync(c, tx, new AuditRecord(tenantId, actor, "ai.model.remove", "ai_model:" + name, AuditOutcomes.Success, clientAddress,
                new Dictionary<string, string> { ["ids"] = string.Join(",", ids) }));
            return ids;
        }, ct);
        foreach (var gone in removed) clients.Forget(gone);
        return removed.Count;
    }
}
