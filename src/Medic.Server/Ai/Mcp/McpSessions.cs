using System.Collections.Concurrent;
using Medic.Contracts;
using Medic.Server.Ai.Runs;
using Medic.Server.Auth;
using Medic.Server.Common;

namespace Medic.Server.Ai.Mcp;

/// <summary>The calls one API token made over MCP since its bundle was last saved.</summary>
internal sealed class McpSession(string key, string tenantId, string actor, AiRunBundle bundle)
{
    public string Key { get; } = key;

    public string TenantId { get; } = tenantId;

    /// <summary>Who the saved bundle names: the token's user (<c>user:NAME</c>).</summary>
    public string Actor { get; } = actor;

    public AiRunBundle Bundle { get; } = bundle;

    public string RunId => Bundle.RunId;

    public DateTimeOffset LastCall { get; set; }

    /// <summary>Set (under the session's lock) once it is handed to the store: later calls open a new one.</summary>
    public bool Closed { get; set; }
}

/// <summary>
/// Keeps an AI run bundle (purpose <c>mcp</c>) per API token: every MCP tool call lands in it, and it
/// is saved through <see cref="AiRunStore"/> (its hash in the audit chain) after a proposal or an
/// escalation (so the reasoning behind what a person now decides is on record with it), after
/// <see cref="CallsPerBundle"/> calls, after <see cref="IdleEnd"/> without a call, or when the server
/// stops. Streamable HTTP has no session of its own here (the endpoint is stateless), so a token's
/// run of calls separated by less than <see cref="IdleEnd"/> is one MCP session.
/// </summary>
internal sealed partial class McpSessions(AiRunStore runs, TimeProvider time, ILogger<McpSessions> log) : BackgroundService
{
    public const int CallsPerBundle = 20;

    public static readonly TimeSpan IdleEnd = TimeSpan.FromMinutes(10);

    private readonly ConcurrentDictionary<string, McpSession> _open = new(StringComparer.Ordinal);

    /// <summary>The caller's open session, or a new one.</summary>
    public McpSession Open(Caller caller, IReadOnlyList<string> tools)
    {
        var key = caller.TenantId + "/" + (caller.TokenId ?? caller.UserId);
        return _open.GetOrAdd(key, _ => new McpSession(key, caller.TenantId, caller.Actor, new AiRunBundle
        {
            RunId = Ids.New("air"),
            Purpose = "mcp",
            Input = $"MCP tool calls by {caller.Actor} ({caller.Role.ToWire()}) with API token {caller.TokenId}",
            Tools = [.. tools],
            StartedAt = time.GetUtcNow(),
        }));
    }

    /// <summary>Adds a tool call to the caller's session (a new one if it was just saved) and saves the bundle once it is full.</summary>
    public async Task RecordAsync(McpSession session, Caller caller, IReadOnlyList<string> tools, AiRunStep step, string? proposal, bool escalated)
    {
        while (true)
        {
            var full = false;
            lock (session)
            {
                if (!session.Closed)
                {
                    var bundle = session.Bundle;
                    step.Index = bundle.Steps.Count;
                    bundle.Steps.Add(step);
                    bundle.LatencyMs += step.Ms;
                    if (proposal is not null) bundle.Proposals.Add(proposal);
                    bundle.Escalated |= escalated;
                    session.LastCall = step.At;
                    if (bundle.ToolCalls >= CallsPerBundle || proposal is not null || escalated)
                    {
                        full = true;
                        session.Closed = true;
                        _open.TryRemove(new KeyValuePair<string, McpSession>(session.Key, session));
                    }
                }
            }

            if (!session.Closed || full)
            {
                if (full) await SaveAsync(session, $"{CallsPerBundle} tool calls: the session goes on in the next bundle");
                return;
            }

            session = Open(caller, tools);
        }
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        try
        {
            while (!stoppingToken.IsCancellationRequested)
            {
                await Task.Delay(TimeSpan.FromMinutes(1), time, stoppingToken);
                await CloseAsync(s => time.GetUtcNow() - s.LastCall >= IdleEnd, $"no call for {IdleEnd.TotalMinutes:0} minutes: the session ended");
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        await base.StopAsync(cancellationToken);
        await CloseAsync(_ => true, "the Medic server stopped");
    }

    private async Task CloseAsync(Func<McpSession, bool> due, string reason)
    {
        foreach (var session in _open.Values)
        {
            lock (session)
            {
                if (session.Closed || !due(session)) continue;
                session.Closed = true;
                _open.TryRemove(new KeyValuePair<string, McpSession>(session.Key, session));
            }

            await SaveAsync(session, reason);
        }
    }

    private async Task SaveAsync(McpSession session, string reason)
    {
        var bundle = session.Bundle;
        bundle.Outcome = AiRunOutcome.Completed.ToText();
        bundle.OutcomeReason = reason;
        bundle.FinishedAt = session.LastCall == default ? time.GetUtcNow() : session.LastCall;
        try
        {
            await runs.SaveAsync(session.TenantId, session.Actor, bundle, CancellationToken.None);
        }
        catch (Exception ex)
        {
            // The calls themselves are in the audit log already; a lost bundle must not fail a call or the shutdown.
            SaveFailed(ex, bundle.RunId);
        }
    }

    [LoggerMessage(1140, LogLevel.Error, "MCP session {RunId}: its run bundle could not be saved")]
    private partial void SaveFailed(Exception ex, string runId);
}
