using Medic.Bench.Fanout;
using Medic.Bench.Forecast;
using Medic.Bench.Sample;

// Usage: dotnet run -c Release --project bench/Medic.Bench -- sample [calls]
//        dotnet run -c Release --project bench/Medic.Bench -- forecast [servers]
//        dotnet run -c Release --project bench/Medic.Bench -- fanout --agents N [--rounds R] [--idle S] [--heartbeat S]
// Benchmarks that print their figures; see docs/PERFORMANCE.md.
return args.FirstOrDefault() switch
{
    null or "sample" => MetricsSampleBench.Run(args.Skip(1).ToArray()),
    "fanout" => await FanoutBench.RunAsync(args.Skip(1).ToArray()),
    "forecast" => await EarlyWarningBench.RunAsync(args.Skip(1).ToArray()),
    _ => Usage(),
};

static int Usage()
{
    Console.Error.WriteLine("usage: Medic.Bench sample [calls]");
    Console.Error.WriteLine("       Medic.Bench forecast [servers]");
    Console.Error.WriteLine("       Medic.Bench fanout --agents N [--rounds R] [--idle SECONDS] [--heartbeat SECONDS] [--medic PATH/medic.dll] [--keep]");
    return 2;
}
