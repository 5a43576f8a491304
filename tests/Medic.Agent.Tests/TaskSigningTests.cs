using System.Security.Cryptography;
using System.Text;
using Medic.Contracts.Agent;

namespace Medic.Agent.Tests;

public sealed class TaskSigningTests : IDisposable
{
    private static readonly DateTimeOffset Now = new(2026, 11, 21, 12, 0, 0, TimeSpan.Zero);
    private readonly ECDsa _key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
    private readonly ECDsa _pinned;

    public TaskSigningTests() => _pinned = TaskSigning.ImportPublicKey(TaskSigning.PublicKey(_key));

    private static TaskSpec Spec(string node = "nod_1", DateTimeOffset? expires = null, DateTimeOffset? issued = null) =>
        new("tsk_1", node, "nonce-1", issued ?? Now, expires ?? Now.AddMinutes(5), TaskKind.Exec, ["echo", "hi"], null, null, 60, 1 << 20);

    private (TaskSpec? Spec, string? Refusal) Verify(SignedTask task) => TaskSigning.Verify(_pinned, task, "nod_1", Now, TimeSpan.FromSeconds(30));

    [Fact]
    public void A_task_signed_by_the_pinned_key_for_this_node_is_accepted()
    {
        var (spec, refusal) = Verify(TaskSigning.Sign(_key, Spec()));

        refusal.ShouldBeNull();
        spec!.Argv.ShouldBe(["echo", "hi"]);
    }

    [Fact]
    public void Altering_one_byte_of_the_payload_is_refused_as_tampered()
    {
        var signed = TaskSigning.Sign(_key, Spec());
        var bytes = Convert.FromBase64String(signed.Payload);
        var text = Encoding.UTF8.GetString(bytes).Replace("\"hi\"", "\"ho\"", StringComparison.Ordinal);

        var (_, refusal) = Verify(signed with { Payload = Convert.ToBase64String(Encoding.UTF8.GetBytes(text)) });

        refusal.ShouldNotBeNull();
        refusal.ShouldStartWith("tampered");
    }

    [Fact]
    public void A_task_signed_by_another_key_is_refused()
    {
        using var other = ECDsa.Create(ECCurve.NamedCurves.nistP256);

        Verify(TaskSigning.Sign(other, Spec())).Refusal!.ShouldStartWith("tampered");
    }

    [Fact]
    public void An_unsigned_task_is_refused() =>
        Verify(TaskSigning.Sign(_key, Spec()) with { Signature = "" }).Refusal!.ShouldStartWith("unsigned");

    [Fact]
    public void A_task_for_another_node_is_refused_as_misaddressed() =>
        Verify(TaskSigning.Sign(_key, Spec(node: "nod_2"))).Refusal!.ShouldStartWith("misaddressed");

    [Fact]
    public void An_expired_task_is_refused() =>
        Verify(TaskSigning.Sign(_key, Spec(expires: Now.AddMinutes(-2)))).Refusal!.ShouldStartWith("expired");

    [Fact]
    public void A_task_issued_in_the_future_is_refused() =>
        Verify(TaskSigning.Sign(_key, Spec(issued: Now.AddMinutes(10), expires: Now.AddMinutes(15)))).Refusal!.ShouldContain("future");

    public void Dispose()
    {
        _key.Dispose();
        _pinned.Dispose();
    }
}
