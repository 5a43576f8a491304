using System.CommandLine;

namespace Medic.Cli.Commands;

/// <summary><c>medic ai ...</c>: models, AI agents, skills, operator tools, runs and the evaluation runner (docs/ai.md).</summary>
internal static class AiCommands
{
    public static Command Ai()
    {
        var ai = new Command("ai", "The AI layer: models, AI agents, skills, tools, runs, evaluation (docs/ai.md)");
        ai.Subcommands.Add(AiRunCommands.Runs());
        ai.Subcommands.Add(AiEvalCommand.Create());
        ai.Subcommands.Add(AiAgentCommands.Agents());
        ai.Subcommands.Add(AiAgentCommands.Skills());
        ai.Subcommands.Add(AiToolCommands.Tools());
        AiModelCommands.AddTo(ai);
        return ai;
    }
}
