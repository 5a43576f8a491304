using System.Net;
using System.Net.Sockets;
using Medic.Agent.Diagnostics;
using TaskStatus = Medic.Contracts.Agent.TaskStatus;

namespace Medic.Agent.Tests.Diagnostics;

public sealed class ListeningPortsTests
{
    [Fact]
    public async Task Ports_lists_a_socket_this_test_listens_on()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;

        var result = await VerbHarness.Run("ports");

        result.Outcome.Status.ShouldBe(TaskStatus.Completed);
        result.Outcome.ExitCode.ShouldBe(0);
        result.Output.ShouldContain($"127.0.0.1:{port} ");
    }

    [Fact]
    public void Without_ss_the_kernel_tables_show_the_listener_and_its_process()
    {
        using var v4 = new TcpListener(IPAddress.Loopback, 0);
        using var v6 = new TcpListener(IPAddress.IPv6Loopback, 0);
        v4.Start();
        v6.Start();
        var port4 = ((IPEndPoint)v4.LocalEndpoint).Port;
        var port6 = ((IPEndPoint)v6.LocalEndpoint).Port;

        var listeners = ListeningPorts.FromProc();

        var mine = listeners.Single(l => l.Port == port4 && l.Protocol == "tcp");
        mine.Address.ShouldBe(IPAddress.Loopback);
        mine.Process!.ShouldEndWith($"(pid {Environment.ProcessId})");
        listeners.Single(l => l.Port == port6).Address.ShouldBe(IPAddress.IPv6Loopback);
        ListeningPorts.Describe(listeners, "heading").ShouldContain($"127.0.0.1:{port4}");
    }

    [Theory]
    [InlineData("0100007F", "127.0.0.1")]
    [InlineData("00000000", "0.0.0.0")]
    [InlineData("00000000000000000000000001000000", "::1")]
    [InlineData("0000000000000000FFFF00000100007F", "::ffff:127.0.0.1")]
    public void Kernel_addresses_are_read_word_by_word_in_host_order(string hex, string expected) =>
        ListeningPorts.ParseAddress(hex)!.ToString().ShouldBe(expected);

    [Fact]
    public void Only_listening_rows_are_kept()
    {
        const string Listening = "   0: 0100007F:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000  1000        0 424242 1 0000000000000000 100 0 0 10 0";
        const string Established = "   1: 0100007F:1F90 0100007F:C350 01 00000000:00000000 00:00000000 00000000  1000        0 424243 1 0000000000000000 20 4 30 10 -1";

        var listener = ListeningPorts.ParseLine(Listening, "tcp")!;

        listener.Port.ShouldBe(8080);
        listener.Inode.ShouldBe(424242);
        ListeningPorts.ParseLine(Established, "tcp").ShouldBeNull();
    }
}
