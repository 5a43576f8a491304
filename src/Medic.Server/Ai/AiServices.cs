using Medic.Server.Ai.Agents;
using Medic.Server.Ai.Eval;
using Medic.Server.Ai.Ask;
using Medic.Server.Ai.Patrols;
using Medic.Server.Ai.Providers;
using Medic.Server.Ai.Stages;
using Medic.Server.Ai.Mcp;
using Medic.Server.Ai.OperatorTools;
using Medic.Server.Ai.Runs;
using Medic.Server.Ai.Tools;
using Medic.Server.Pipeline;

namespace Medic.Server.Ai;

internal static class AiServices
{
    /// <summary>The AI layer's core: the curated tools, the bounded run loop and the run bundles (docs/ai.md).</summary>
    public static IServiceCollection AddAi(this IServiceCollection services)
    {
        services.AddSingleton<ServerScope>();
        services.AddSingleton<IncidentScope>();
        services.AddSingleton<AiTool, DiagTool>();
        services.AddSingleton<AiTool, ListRecipesTool>();
        services.AddSingleton<AiTool, ShowRecipeTool>();
        services.AddSingleton<AiTool, PastIncidentsTool>();
        services.AddSingleton<AiTool, ServerFactsTool>();
        services.AddSingleton<AiTool, RecentMetricsTool>();
        services.AddSingleton<AiTool, ForecastsTool>();
        services.AddSingleton<AiTool, ProposeRemediationTool>();
        services.AddSingleton<AiTool, EscalateTool>();
        services.AddSingleton<AiTool, AddNoteTool>();
        services.AddSingleton<AiToolbox>();
        services.AddSingleton<AiRunLoop>();
        services.AddSingleton<AiRunStore>();
        services.AddSingleton<AiRunner>();
        services.AddSingleton<AiProposalValidator>();
        services.AddSingleton<AiOutcomeReviewer>();
        services.AddSingleton<IAiStage, AiPipelineStage>();
        services.AddSingleton<Reports.IReportNarrator, AiReportNarrator>();
        services.AddSingleton<AskSessionStore>();
        services.AddSingleton<PatrolReview>();
        services.AddSingleton<AiPatrol>();
        services.AddHostedService(sp => sp.GetRequiredService<AiPatrol>());
        services.AddAiProviders();
        services.AddAiAgents();
        services.AddOperatorTools();
        services.AddAiEval();
        services.AddMcpEndpoint();
        return services;
    }

    public static IEndpointRouteBuilder MapAi(this IEndpointRouteBuilder app)
    {
        app.MapAiRuns();
        app.MapAsk();
        app.MapAiModels();
        app.MapAiAgents();
        app.MapOperatorTools();
        app.MapAiEval();
        app.MapMcpEndpoint();
        return app;
    }
}
