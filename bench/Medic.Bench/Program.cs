using Medic.Bench.AiLoop;
using Medic.Bench.WebConsole;
using Medic.Bench.Agentless;
using Medic.Bench.Audit;
using Medic.Bench.Efficacy;
using Medic.Bench.Fanout;
using Medic.Bench.Pipeline;
using Medic.Bench.Recovery;
using Medic.Bench.Forecast;
using Medic.Bench.Scrape;
using Medic.Bench.Sample;
using Medic.Bench.Webhooks;

// Usage: dotnet run -c Release --project bench/Medic.Bench -- sample [calls]
//        dotnet run -c Release --project bench/Medic.Bench -- forecast [servers]
//        dotnet run -c Release --project bench/Medic.Bench -- fanout --agents N [--rounds R] [--idle S] [--heartbeat S]
//        dotnet run -c Release --project bench/Medic.Bench -- agentless [--targets N] [--reps R]   (or bench/agentless.sh)
//        dotnet run -c Release --project bench/Medic.Bench -- recovery [--kills N] [--hung N] [--monit-kills N] [--monit5-kills N] [--skip-monit] [--only medic,monit30,monit5,monit5-hung,monit5-port-hung]
//        dotnet run -c Release --project bench/Medic.Bench -- webhooks [--database URL] [--seconds S] [--concurrency C] [--groups G] [--alerts A]
//        dotnet run -c Release --project bench/Medic.Bench -- pipeline [--agents N] [--incidents N] [--concurrency C] [--count N] [--postgres CONNECTION-STRING | --sqlite-only]
//        dotnet run -c Release --project bench/Medic.Bench -- bulkhead [--samples N] [--warmup N] [--long-runs N] [--postgres CONNECTION-STRING | --sqlite-only]
//        dotnet run -c Release --project bench/Medic.Bench -- audit [--entries N] [--postgres CONNECTION-STRING | --postgres throwaway]
//        dotnet run -c Release --project bench/Medic.Bench -- efficacy [--only a,b] [--medic PATH/medic.dll] [--keep]   (as root)
//        dotnet run -c Release --project bench/Medic.Bench -- ai-loop [--calls N] [--runs R] [--warmup W]
//        dotnet run -c Release --project bench/Medic.Bench -- console [--servers N] [--incidents N] [--runs R]   (headless Chromium at /usr/bin/chromium)
//        dotnet run -c Release --project bench/Medic.Bench -- metrics [--servers N] [--incidents N] [--tenants N] [--done-jobs N] [--runs R]
// Benchmarks that print their figures; see docs/PERFORMANCE.md.
return args.FirstOrDefault() switch
{
    null or "sample" => MetricsSampleBench.Run(args.Skip(1).ToArray()),
    "fanout" => await FanoutBench.RunAsync(args.Skip(1).ToArray()),
    "agentless" => await AgentlessBench.RunAsync(args.Skip(1).ToArray()),
    "recovery" => await RecoveryBench.RunAsync(args.Skip(1).ToArray()),
    "forecast" => await EarlyWarningBench.RunAsync(args.Skip(1).ToArray()),
    "webhooks" => await WebhookBench.RunAsync(args.Skip(1).ToArray()),
    "pipeline" => await PipelineBench.RunAsync(args.Skip(1).ToArray()),
    "bulkhead" => await BulkheadBench.RunAsync(args.Skip(1).ToArray()),
    "audit" => await AuditVerifyBench.RunAsync(args.Skip(1).ToArray()),
    "efficacy" => await EfficacyBench.RunAsync(args.Skip(1).ToArray()),
    "ai-loop" => await AiLoopBench.RunAsync(args.Skip(1).ToArray()),
    "console" => await ConsoleBench.RunAsync(args.Skip(1).ToArray()),
    "metrics" => await MetricsScrapeBench.RunAsync(args.Skip(1).ToArray()),
    _ => Usage(),
};

static int Usage()
{
    Console.Error.WriteLine("usage: Medic.Bench sample [calls]");
    Console.Error.WriteLine("       Medic.Bench forecast [servers]");
    Console.Error.WriteLine("       Medic.Bench fanout --agents N [--rounds R] [--idle SECONDS] [--heartbeat SECONDS] [--medic PATH/medic.dll] [--keep]");
    Console.Error.WriteLine("       Medic.Bench agentless [--targets N] [--reps R] [--medic PATH/medic.dll]");
    Console.Error.WriteLine("       Medic.Bench recovery [--kills N] [--hung N] [--monit-kills N] [--monit5-kills N] [--hung-limit SECONDS] [--skip-monit] [--only CASES] [--medic PATH/medic.dll]");
    Console.Error.WriteLine("       Medic.Bench webhooks [--database URL] [--seconds S] [--warmup S] [--concurrency C] [--groups G] [--alerts A] [--medic PATH/medic.dll]");
    Console.Error.WriteLine("       Medic.Bench pipeline [--agents N] [--incidents N] [--warmup N] [--concurrency C] [--count N] [--postgres CONNECTION-STRING | --sqlite-only] [--medic PATH/medic.dll]");
    Console.Error.WriteLine("       Medic.Bench bulkhead [--samples N] [--warmup N] [--long-runs N] [--postgres CONNECTION-STRING | --sqlite-only] [--medic PATH/medic.dll]");
    Console.Error.WriteLine("       Medic.Bench audit [--entries N] [--postgres CONNECTION-STRING | throwaway]");
    Console.Error.WriteLine("       Medic.Bench efficacy [--only SCENARIOS] [--medic PATH/medic.dll] [--keep]");
    Console.Error.WriteLine("       Medic.Bench ai-loop [--calls N] [--runs R] [--warmup W]");
    Console.Error.WriteLine("       Medic.Bench console [--servers N] [--incidents N] [--runs R] [--medic PATH/medic.dll]");
    Console.Error.WriteLine("       Medic.Bench metrics [--servers N] [--incidents N] [--tenants N] [--done-jobs N] [--runs R] [--medic PATH/medic.dll]");
    return 2;
}
