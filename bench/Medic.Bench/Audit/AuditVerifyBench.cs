using System.Diagnostics;
using System.Globalization;
using Medic.Contracts;
using Medic.Server.Audit;
using Medic.Server.Storage;

namespace Medic.Bench.Audit;

/// <summary>
/// <c>audit [--entries N] [--postgres CONNECTION-STRING | --postgres throwaway]</c>: what verifying the audit chain costs.
/// Fills one chain with N entries, then times the full verify (<c>medic audit verify</c>) and the
/// incremental verify a console page view runs, with 10 new entries since the last view.
/// </summary>
internal static class AuditVerifyBench
{
    private const string Chain = "ten_bench";

    public static async Task<int> RunAsync(string[] args)
    {
        var entries = 100_000;
        string? postgres = null;
        for (var i = 0; i < args.Length; i++)
        {
            switch (args[i])
            {
                case "--entries": entries = int.Parse(args[++i], CultureInfo.InvariantCulture); break;
                case "--postgres": postgres = args[++i]; break;
                default: Console.Error.WriteLine($"unknown option {args[i]}"); return 2;
            }
        }

        // "--postgres throwaway": a PostgreSQL 15 cluster of its own, as the pipeline bench starts it.
        await using var throwaway = postgres == "throwaway" ? await Medic.Bench.Pipeline.ThrowawayPostgres.StartAsync(CancellationToken.None) : null;
        if (throwaway is not null) postgres = throwaway.ConnectionString;
        Console.WriteLine($"machine: {Medic.Bench.Fanout.ProcStats.MachineLoad()}");
        var dir = Directory.CreateTempSubdirectory("medic-bench-audit-");
        try
        {
            await using var db = Database.FromUrl(postgres ?? "sqlite:" + Path.Combine(dir.FullName, "medic.db"));
            await new Migrator(db).ApplyAsync();
            var log = new AuditLog(db, TimeProvider.System);
            var clock = Stopwatch.StartNew();
            await AppendAsync(db, log, entries);
            Console.WriteLine($"{db.Dialect.Name}: {entries} entries appended in {clock.Elapsed.TotalSeconds:F1} s");

            const int fullRuns = 3;
            var full = new List<double>();
            for (var i = 0; i < fullRuns; i++)
            {
                clock.Restart();
                var result = await log.VerifyAsync(Chain);
                full.Add(clock.Elapsed.TotalMilliseconds);
                if (!result.Ok || result.Checked != entries) throw new InvalidOperationException("the bench chain does not verify");
            }

            const int views = 20;
            var incremental = new List<double>();
            for (var i = 0; i < views; i++)
            {
                await AppendAsync(db, log, 10);
                clock.Restart();
                var result = await log.VerifySinceLastAsync(Chain);
                incremental.Add(clock.Elapsed.TotalMilliseconds);
                if (!result.Ok || result.Checked != 10) throw new InvalidOperationException($"the incremental verify checked {result.Checked} entries, not 10");
            }

            Console.WriteLine($"full verify ({entries} entries): median {Median(full):F0} ms over {fullRuns} runs");
            Console.WriteLine($"page-view verify (10 new entries since the last view): median {Median(incremental):F1} ms over {views} views");
            return 0;
        }
        finally
        {
            Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
            dir.Delete(recursive: true);
        }
    }

    private static async Task AppendAsync(Database db, AuditLog log, int count)
    {
        const int batch = 5000;
        for (var done = 0; done < count; done += batch)
        {
            var n = Math.Min(batch, count - done);
            await db.WriteAsync(async (c, tx) =>
            {
                for (var i = 0; i < n; i++)
                {
                    await log.AppendAsync(c, tx, new AuditRecord(Chain, "user:bench", "bench.event", $"thing:{done + i}", AuditOutcomes.Success, "127.0.0.1",
                        new Dictionary<string, string> { ["n"] = (done + i).ToString(CultureInfo.InvariantCulture) }));
                }
            });
        }
    }

    private static double Median(List<double> values)
    {
        var sorted = values.Order().ToList();
        return sorted.Count % 2 == 1 ? sorted[sorted.Count / 2] : (sorted[sorted.Count / 2 - 1] + sorted[sorted.Count / 2]) / 2;
    }
}
