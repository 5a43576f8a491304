return await Medic.Agent.AgentProgram.RunAsync(args);
