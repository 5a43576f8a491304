namespace Medic.Bench.Fanout;

/// <summary>What <c>fanout</c> was asked to do, and how long each phase may take before the run fails.</summary>
internal sealed record FanoutOptions(int Agents, int Rounds, int IdleSeconds, int? HeartbeatSeconds, string? MedicDll, bool KeepData)
{
    public static readonly TimeSpan StartLimit = TimeSpan.FromMinutes(2);
    public static readonly TimeSpan EnrollLimit = TimeSpan.FromMinutes(5);
    public static readonly TimeSpan ConnectLimit = TimeSpan.FromMinutes(5);
    public static readonly TimeSpan RoundLimit = TimeSpan.FromMinutes(3);

    public static FanoutOptions Parse(string[] args)
    {
        int? agents = null;
        var rounds = 5;
        var idle = 30;
        int? heartbeat = null;
        string? medic = null;
        var keep = false;
        var a = new BenchArgs(args, "see: Medic.Bench fanout --agents N [--rounds R] [--idle S] [--heartbeat S] [--medic PATH] [--keep]");
        while (a.Next(out var option))
        {
            switch (option)
            {
                case "--agents": agents = a.Number(1, 100_000); break;
                case "--rounds": rounds = a.Number(1, 1000); break;
                case "--idle": idle = a.Number(0, 3600); break;
                case "--heartbeat": heartbeat = a.Number(1, 3600); break;
                case "--medic": medic = a.Value(); break;
                case "--keep": keep = true; break;
                default: throw a.Unknown(option);
            }
        }

        return agents is null
            ? throw new BenchFailure("--agents is required", "e.g. Medic.Bench fanout --agents 1000")
            : new FanoutOptions(agents.Value, rounds, idle, heartbeat, medic, keep);
    }
}

/// <summary>A run that cannot go on: one line of cause, one of remedy.</summary>
internal sealed class BenchFailure(string cause, string remedy) : Exception(cause)
{
    public string Remedy { get; } = remedy;
}
