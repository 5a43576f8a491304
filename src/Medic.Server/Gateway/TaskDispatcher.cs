using System.Text;
using Medic.Contracts;
using Medic.Contracts.Agent;
using Medic.Server.Common;
using Medic.Server.Fleet;
using Medic.Server.Secrets;
using TaskStatus = Medic.Contracts.Agent.TaskStatus;

namespace Medic.Server.Gateway;

/// <summary>
/// Sends one signed task to one connected agent and waits, bounded, for its result. A node that
/// is not connected answers <c>offline</c>; one that never answers, <c>timeout</c>: no caller hangs.
/// Agentless nodes have no agent: their commands go through <see cref="SshRunner"/>, with the same statuses.
/// </summary>
internal sealed class TaskDispatcher(AgentConnections connections, TaskSigningKey signing, SshRunner ssh, SecretRedactor redactor, TimeProvider time, GatewayMetrics? metrics = null)
{
    public const long DefaultOutputCap = 1024 * 1024;

    /// <summary>Extra time for the agent to report after the task's own timeout.</summary>
    private static readonly TimeSpan Grace = TimeSpan.FromSeconds(15);

    /// <summary>
    /// Every output a server sends back passes here, so the tenant's secret values are redacted from
    /// it before anyone stores, streams or logs it: the result whole, live output as it streams.
    /// </summary>
    public async Task<TaskRunResponse> RunAsync(NodeRow node, TaskKind kind, IReadOnlyList<string> argv, string? verb, IReadOnlyDictionary<string, string>? args,
        int timeoutSeconds, Func<TaskOutput, ValueTask>? onOutput, CancellationToken ct)
    {
        var redaction = await redactor.ForTenantAsync(node.TenantId, ct);
        if (onOutput is null || redaction.Count == 0)
        {
            return redaction.Apply(await RunUnredactedAsync(node, kind, argv, verb, args, timeoutSeconds, onOutput, ct));
        }

        // Live output is redacted as it streams; a value split across two chunks is held until it is whole.
        var live = new LiveRedaction(redaction);
        var last = new Dictionary<string, TaskOutput>(StringComparer.Ordinal);
        var result = await RunUnredactedAsync(node, kind, argv, verb, args, timeoutSeconds, o =>
        {
            string shown;
            lock (live) // ssh reads stdout and stderr at once
            {
                last[o.Stream] = o;
                shown = live.Push(o.Stream, o.Data);
            }

            return shown.Length == 0 ? ValueTask.CompletedTask : onOutput(o with { Data = shown });
        }, ct);
        foreach (var (stream, text) in live.Flush())
        {
            if (text.Length > 0) await onOutput(last[stream] with { Data = text });
        }

        return redaction.Apply(result);
    }

    private async Task<TaskRunResponse> RunUnredactedAsync(NodeRow node, TaskKind kind, IReadOnlyList<string> argv, string? verb, IReadOnlyDictionary<string, string>? args,
        int timeoutSeconds, Func<TaskOutput, ValueTask>? onOutput, CancellationToken ct)
    {
        var taskId = Ids.New("tsk");
        if (node.Drained && kind != TaskKind.Monitors) // monitors are configuration, not work: a drained server keeps watching itself
        {
            return new TaskRunResponse(taskId, node.Name, TaskRunStatus.Refused, null, 0, false, "the server is drained (medic servers undrain to send it tasks)", "", "");
        }

        if (node.IsAgentless)
        {
            return kind == TaskKind.Exec
                ? await MeasuredAsync(kind, () => ssh.RunAsync(node, taskId, argv, timeoutSeconds, DefaultOutputCap, onOutput, ct))
                : new TaskRunResponse(taskId, node.Name, TaskRunStatus.Refused, null, 0, false, "diagnostic verbs need the agent; this server is agentless (reached over ssh): use medic exec, or install the agent", "", "");
        }

        if (!connections.TryGet(node.Id, out var connection))
        {
            return new TaskRunResponse(taskId, node.Name, TaskRunStatus.Offline, null, 0, false, "the server's agent is not connected", "", "");
        }

        return await MeasuredAsync(kind, () => SendAndWaitAsync(node, connection, taskId, kind, argv, verb, args, timeoutSeconds, onOutput, ct));
    }

    /// <summary>Times a task that was sent, from sending to its result (<c>medic_task_round_trip_duration_seconds</c>).</summary>
    private async Task<TaskRunResponse> MeasuredAsync(TaskKind kind, Func<Task<TaskRunResponse>> send)
    {
        var started = System.Diagnostics.Stopwatch.GetTimestamp();
        var result = await send();
        metrics?.TaskEnded(kind, result.Status, started);
        return result;
    }

    private async Task<TaskRunResponse> SendAndWaitAsync(NodeRow node, AgentConnection connection, string taskId, TaskKind kind, IReadOnlyList<string> argv, string? verb,
        IReadOnlyDictionary<string, string>? args, int timeoutSeconds, Func<TaskOutput, ValueTask>? onOutput, CancellationToken ct)
    {
        var now = time.GetUtcNow();
        var spec = new TaskSpec(taskId, node.Id, Ids.Secret(16), now, now.AddSeconds(timeoutSeconds) + Grace, kind, argv, verb, args, timeoutSeconds, DefaultOutputCap);
        using var subscription = connections.Subscribe(taskId, connection);
        var stdout = new StringBuilder();
        var stderr = new StringBuilder();
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(ct);
        deadline.CancelAfter(TimeSpan.FromSeconds(timeoutSeconds) + Grace);
        try
        {
            await connection.SendAsync(new TaskOffer(signing.Sign(spec), taskId), deadline.Token);
            await foreach (var message in subscription.Reader.ReadAllAsync(deadline.Token))
            {
                switch (message)
                {
                    case TaskOutput output:
                        (output.Stream == "stderr" ? stderr : stdout).Append(output.Data);
                        if (onOutput is not null) await onOutput(output);
                        break;
                    case TaskResult result:
                        return new TaskRunResponse(taskId, node.Name, result.Status.ToRunStatus(), result.ExitCode, result.DurationMs, result.Truncated, result.Reason,
                            stdout.ToString(), stderr.ToString());
                }
            }
        }
        catch (OperationCanceledException) when (!ct.IsCancellationRequested)
        {
            return new TaskRunResponse(taskId, node.Name, TaskRunStatus.Timeout, null, (long)(time.GetUtcNow() - now).TotalMilliseconds, false,
                $"no result from the agent within {timeoutSeconds + Grace.TotalSeconds:0} s", stdout.ToString(), stderr.ToString());
        }
        catch (Exception ex) when (ex is System.Net.WebSockets.WebSocketException or ObjectDisposedException)
        {
            return new TaskRunResponse(taskId, node.Name, TaskRunStatus.Offline, null, 0, false, "the link to the agent broke: " + ex.Message, stdout.ToString(), stderr.ToString());
        }

        return new TaskRunResponse(taskId, node.Name, TaskRunStatus.Failed, null, 0, false, "the agent went away before reporting a result", stdout.ToString(), stderr.ToString());
    }

}
