using System.Diagnostics;
using System.Text.Json;

namespace Medic.Bench.Efficacy;

/// <summary>What a sysadmin on call would accept as the end of a scenario.</summary>
[Flags]
internal enum Good
{
    Healed = 1,
    HealedAfterApproval = 2,
    Escalated = 4,
}

/// <summary>One scenario's line in the table.</summary>
internal sealed record ScenarioResult(
    string Name,
    bool Detected,
    TimeSpan? DetectedIn,
    string Action,
    string Outcome,
    bool IsGood,
    TimeSpan? HealedIn,
    int Approvals,
    IReadOnlyList<string> Unsafe,
    string Note);

/// <summary>
/// How a scenario is judged once its fault is injected: which incident is its own, what a good end
/// is, how to tell the fault is really gone, and what would be an action on the wrong target.
/// </summary>
internal sealed class Judgement
{
    /// <summary>Picks the scenario's incident from the list (by the monitor or alert name in its labels).</summary>
    public required Func<JsonElement, bool> IsMine { get; init; }

    public required Good Expect { get; init; }

    /// <summary>True when the fault is really over (the service answers, the disk has room, ...).</summary>
    public required Func<Task<bool>> FaultGone { get; init; }

    /// <summary>Words the incident (evidence, timeline) must contain for an escalation to count as one a person can act on.</summary>
    public IReadOnlyList<string> EscalationMustName { get; init; } = [];

    /// <summary>Looks for an action on the wrong target; returns what it found, or null.</summary>
    public Func<Task<string?>>? WrongTarget { get; init; }

    /// <summary>A destructive change this fault's fix makes (files removed, a process killed), to be done only after an approval.</summary>
    public Func<Task<bool>>? DestructiveChangeMade { get; init; }

    /// <summary>Called on every poll (for example an Alertmanager stand-in that sends the resolve once the probe passes).</summary>
    public Func<Task>? Tick { get; init; }

    public TimeSpan Limit { get; init; } = TimeSpan.FromSeconds(60);
}

/// <summary>Polls the control plane's API as the on-call person's console would, approves at most once, and scores the end.</summary>
internal static class Judge
{
    public static async Task<ScenarioResult> RunAsync(string name, MedicUp medic, Judgement j, Stopwatch sinceFault)
    {
        string? incidentId = null;
        TimeSpan? detectedIn = null;
        var approvalIds = new HashSet<string>();
        var approvedByUs = 0;
        var unsafeActs = new List<string>();
        var action = "none";
        string status = "";
        JsonElement incident = default;
        // Only an incident that fired after the fault is the fault's: one left from the start (a monitor that looked
        // before its service listened, resolved since) is not, until the fault fires it again.
        var faultAt = DateTimeOffset.UtcNow - sinceFault.Elapsed - TimeSpan.FromMilliseconds(500);
        bool FiredSinceFault(JsonElement i) =>
            (i.TryGetProperty("first_seen_at", out var first) && first.ValueKind == JsonValueKind.String && first.GetDateTimeOffset() >= faultAt)
            || (i.GetProperty("status").GetString() != "resolved" && i.TryGetProperty("last_seen_at", out var seen) && seen.ValueKind == JsonValueKind.String && seen.GetDateTimeOffset() >= faultAt);
        while (sinceFault.Elapsed < j.Limit)
        {
            if (!medic.Alive)
            {
                unsafeActs.Add("medic up itself died");
                break;
            }

            if (j.Tick is not null) await j.Tick();
            var list = await medic.GetAsync("/api/v1/incidents?limit=100");
            var mine = list.GetProperty("items").EnumerateArray().Where(i => j.IsMine(i) && (incidentId is not null || FiredSinceFault(i))).ToList();
            if (mine.Count > 0)
            {
                incident = mine[^1]; // newest first: the oldest is the one the fault opened
                incidentId ??= incident.GetProperty("id").GetString();
                detectedIn ??= sinceFault.Elapsed;
                incident = mine.First(i => i.GetProperty("id").GetString() == incidentId);
                status = incident.GetProperty("status").GetString() ?? "";

                var approvals = await medic.GetAsync($"/api/v1/approvals?status=all&incident={incidentId}");
                foreach (var a in approvals.EnumerateArray())
                {
                    approvalIds.Add(a.GetProperty("id").GetString()!);
                    var pending = a.GetProperty("status").ToString() is "pending" or "Pending";
                    if (pending && approvedByUs == 0 && j.Expect.HasFlag(Good.HealedAfterApproval) && await medic.ApproveAsync(a.GetProperty("id").GetString()!)) approvedByUs++;
                }

                action = await ActionAsync(medic, incidentId!, incident);
            }

            if (j.WrongTarget is not null && await j.WrongTarget() is { } wrong && !unsafeActs.Contains(wrong)) unsafeActs.Add(wrong);
            if (j.DestructiveChangeMade is not null && approvedByUs == 0 && await j.DestructiveChangeMade()) AddOnce(unsafeActs, "a destructive change was made without an approval");
            if (status == "resolved")
            {
                if (!await j.FaultGone())
                {
                    // A fix can take a moment to show (a restarted service starting): look again before calling it a false "resolved".
                    await Task.Delay(3000);
                    if (!await j.FaultGone()) AddOnce(unsafeActs, "resolved while the fault is still there");
                }

                break;
            }

            if (status == "escalated" && !j.Expect.HasFlag(Good.Healed) && !j.Expect.HasFlag(Good.HealedAfterApproval)) break;
            await Task.Delay(1000);
        }

        var healedIn = status == "resolved" && unsafeActs.Count == 0 ? sinceFault.Elapsed : (TimeSpan?)null;
        string outcome;
        var good = false;
        if (incidentId is null) outcome = "not detected";
        else if (status == "resolved" && unsafeActs.Count == 0 && approvalIds.Count == 0) (outcome, good) = ("healed", j.Expect.HasFlag(Good.Healed));
        else if (status == "resolved" && unsafeActs.Count == 0 && approvedByUs == 1 && approvalIds.Count == 1) (outcome, good) = ("healed after one approval", j.Expect.HasFlag(Good.HealedAfterApproval) || j.Expect.HasFlag(Good.Healed));
        else if (status == "resolved" && unsafeActs.Count == 0) outcome = $"healed, but after {approvalIds.Count} approval requests";
        else if (status == "escalated")
        {
            var text = await medic.GetTextAsync($"/api/v1/incidents/{incidentId}");
            var missing = j.EscalationMustName.Where(w => !text.Contains(w, StringComparison.OrdinalIgnoreCase)).ToList();
            outcome = missing.Count == 0 ? "escalated" : $"escalated without naming {string.Join(", ", missing)}";
            good = missing.Count == 0 && j.Expect.HasFlag(Good.Escalated) && approvalIds.Count <= 1;
            if (approvalIds.Count > 1) outcome += $" after {approvalIds.Count} approval requests";
        }
        else outcome = $"left {(status.Length > 0 ? status : "open")} after {j.Limit.TotalSeconds:0} s";

        if (unsafeActs.Count > 0) good = false;
        return new ScenarioResult(name, incidentId is not null, detectedIn, action, good ? outcome : $"wrong: {outcome}", good, healedIn, approvalIds.Count, unsafeActs, "");
    }

    private static void AddOnce(List<string> list, string text)
    {
        if (!list.Contains(text)) list.Add(text);
    }

    private static async Task<string> ActionAsync(MedicUp medic, string id, JsonElement incident)
    {
        var remediations = await medic.GetAsync($"/api/v1/incidents/{id}/remediations");
        var recipes = remediations.EnumerateArray().Select(r => $"{r.GetProperty("runbook").GetString()} ({r.GetProperty("status")})").ToList();
        var ladder = incident.TryGetProperty("resolution", out var res) && res.ValueKind == JsonValueKind.String && res.GetString()!.Contains("locally", StringComparison.Ordinal);
        if (!ladder)
        {
            var text = await medic.GetTextAsync($"/api/v1/incidents/{id}");
            ladder = text.Contains("\"ladder\"", StringComparison.Ordinal) || text.Contains("restart_history", StringComparison.Ordinal);
        }

        var parts = new List<string>();
        if (ladder) parts.Add("ladder");
        parts.AddRange(recipes);
        return parts.Count == 0 ? "none" : string.Join(", ", parts);
    }
}
