namespace Medic.Agent;

/// <summary>Entry point shared by the <c>medic-agent</c> executable and <c>medic agent</c>.</summary>
public static class AgentProgram
{
    public static string Version { get; } = typeof(AgentProgram).Assembly.GetName().Version?.ToString(3) ?? "0.0.0";

    public static Task<int> RunAsync(string[] args)
    {
        Console.Error.WriteLine("usage: medic-agent enroll --server URL --token T | run [--config PATH]");
        return Task.FromResult(args.Length == 0 ? 2 : 2);
    }
}
