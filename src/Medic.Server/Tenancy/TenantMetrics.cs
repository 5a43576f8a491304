using System.Diagnostics.Metrics;
using Medic.Server.Common;
using Microsoft.Extensions.Options;

namespace Medic.Server.Tenancy;

/// <summary>
/// <c>medic_tenant_info{tenant_id, tenant}</c> = 1 for each tenant: every other series names its tenant
/// by id (stable), and this one gives the slug to join on in PromQL (<c>* on (tenant_id) group_left (tenant)</c>).
/// </summary>
internal sealed class TenantMetrics : IScrapeReading
{
    private readonly CachedReading<IReadOnlyList<TenantRow>> _reading;

    public TenantMetrics(MedicMeter meter, TenantStore tenants, IOptions<MedicOptions> options, TimeProvider time)
    {
        _reading = new CachedReading<IReadOnlyList<TenantRow>>(ct => tenants.ListAsync(ct), [], TimeSpan.FromSeconds(options.Value.Metrics.RefreshSeconds), time);
        meter.Meter.CreateObservableGauge("medic.tenant.info",
            () => _reading.Current.Select(t => new Measurement<int>(1, new("tenant_id", t.Id), new("tenant", t.Slug))),
            description: "1 for each tenant, labelled with its id and its slug.");
    }

    public Task RefreshAsync(CancellationToken ct) => _reading.RefreshAsync(ct);
}
