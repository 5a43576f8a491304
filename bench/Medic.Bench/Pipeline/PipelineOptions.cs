using Medic.Bench.Fanout;

namespace Medic.Bench.Pipeline;

/// <summary>What <c>pipeline</c> was asked to do.</summary>
internal sealed record PipelineOptions(int Agents, int Incidents, int Warmup, int Concurrency, int Count, string? Postgres, bool SqliteOnly, string? MedicDll)
{
    /// <summary>How long one incident may take to reach its agent, or to be resolved, before the run fails.</summary>
    public static readonly TimeSpan IncidentLimit = TimeSpan.FromSeconds(60);

    /// <summary>How long the throughput phase may take in all.</summary>
    public static readonly TimeSpan ThroughputLimit = TimeSpan.FromMinutes(10);

    public const string Usage = "see: Medic.Bench pipeline [--agents N] [--incidents N] [--warmup N] [--concurrency C] [--count N] [--postgres CONNECTION-STRING | --sqlite-only] [--medic PATH]";

    public static PipelineOptions Parse(string[] args)
    {
        string? postgres = null, medic = null;
        int agents = 10, incidents = 1000, warmup = 50, concurrency = 8, count = 1000;
        var sqliteOnly = false;
        var a = new BenchArgs(args, Usage);
        while (a.Next(out var option))
        {
            switch (option)
            {
                case "--agents": agents = a.Number(1, 1000); break;
                case "--incidents": incidents = a.Number(1, 100_000); break;
                case "--warmup": warmup = a.Number(0, 10_000); break;
                case "--concurrency": concurrency = a.Number(1, 256); break;
                case "--count": count = a.Number(1, 100_000); break;
                case "--postgres": postgres = a.Value(); break;
                case "--sqlite-only": sqliteOnly = true; break;
                case "--medic": medic = a.Value(); break;
                default: throw a.Unknown(option);
            }
        }

        if (sqliteOnly && postgres is not null) throw new BenchFailure("--postgres and --sqlite-only exclude each other", Usage);

        // The blast radius counts remediations in the last hour; the bench raises it to the most the API accepts.
        if (warmup + incidents + count > PipelineBench.BlastRadius)
        {
            throw new BenchFailure($"--warmup + --incidents + --count is {warmup + incidents + count}; the tenant's blast radius allows at most {PipelineBench.BlastRadius} remediations an hour",
                "lower --incidents or --count");
        }

        return new PipelineOptions(agents, incidents, warmup, concurrency, count, postgres, sqliteOnly, medic);
    }
}
