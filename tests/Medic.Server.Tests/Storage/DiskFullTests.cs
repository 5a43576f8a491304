using System.Diagnostics;
using System.Net;
using Medic.Contracts;
using Medic.Server.Tests.Infrastructure;

namespace Medic.Server.Tests.Storage;

public sealed class DiskFullTests
{
    /// <summary>A real, small tmpfs: the only honest way to see what a full disk does to SQLite. Needs root (./test.sh runs as root).</summary>
    private sealed class SmallDisk : IAsyncDisposable
    {
        private readonly TempDirectory _dir = new();

        private SmallDisk()
        {
        }

        public string Path => _dir.Path;

        public static async Task<SmallDisk> MountAsync(string size)
        {
            var disk = new SmallDisk();
            var (code, output) = await RunAsync("mount", "-t", "tmpfs", "-o", $"size={size},mode=0700", "tmpfs", disk.Path);
            if (code != 0)
            {
                disk._dir.Dispose();
                throw new InvalidOperationException(
                    $"this test needs a real full disk and could not mount a {size} tmpfs at {disk.Path} (mount exited {code}: {output.Trim()}); run the tests as root, as ./test.sh does");
            }

            return disk;
        }

        /// <summary>Writes a file until the disk refuses another byte.</summary>
        public async Task FillAsync()
        {
            await using var filler = new FileStream(System.IO.Path.Combine(Path, "filler"), FileMode.Create, FileAccess.Write, FileShare.None, 1, FileOptions.WriteThrough);
            foreach (var chunk in new[] { 64 * 1024, 4096, 512, 1 })
            {
                var buffer = new byte[chunk];
                try
                {
                    while (true) await filler.WriteAsync(buffer);
                }
                catch (IOException)
                {
                }
            }
        }

        public void Free() => File.Delete(System.IO.Path.Combine(Path, "filler"));

        public async ValueTask DisposeAsync()
        {
            await RunAsync("umount", "-l", Path);
            _dir.Dispose();
        }

        private static async Task<(int Code, string Output)> RunAsync(string file, params string[] args)
        {
            var start = new ProcessStartInfo(file) { RedirectStandardError = true, RedirectStandardOutput = true };
            foreach (var arg in args) start.ArgumentList.Add(arg);
            using var process = Process.Start(start)!;
            var output = await process.StandardError.ReadToEndAsync() + await process.StandardOutput.ReadToEndAsync();
            await process.WaitForExitAsync();
            return (process.ExitCode, output);
        }
    }

    private static async Task<ReadinessResponse> ReadyzUntilAsync(MedicServer server, HttpStatusCode wanted)
    {
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (true)
        {
            using var response = await server.Client().GetAsync("/readyz");
            var body = await response.Content.ReadAsStringAsync();
            if (response.StatusCode == wanted) return System.Text.Json.JsonSerializer.Deserialize(body, MedicJson.Default.ReadinessResponse)!;
            DateTime.UtcNow.ShouldBeLessThan(deadline, $"/readyz never answered {(int)wanted}; last: {(int)response.StatusCode} {body}");
            await Task.Delay(200);
        }
    }

    [Fact]
    public async Task A_full_disk_makes_readyz_not_ready_and_writes_answer_503_and_both_recover_without_a_restart()
    {
        await using var disk = await SmallDisk.MountAsync("8m");
        await using var server = await MedicServer.StartAsync(TestDatabase.Sqlite, o => o.Database = "sqlite:" + Path.Combine(disk.Path, "medic.db"));
        server.ServerFaultsExpected = true; // background work (the job worker, the scheduler) fails its writes too while the disk is full
        (await ReadyzUntilAsync(server, HttpStatusCode.OK)).Status.ShouldBe("ready");

        await disk.FillAsync();

        var notReady = await ReadyzUntilAsync(server, HttpStatusCode.ServiceUnavailable);
        notReady.Status.ShouldBe("database not writable");
        notReady.Problem.ShouldNotBeNull().ShouldContain("disk");
        var answers = new List<HttpStatusCode>();
        string? refusal = null;
        for (var i = 0; i < 300 && refusal is null; i++)
        {
            using var write = await server.Admin.PostAsync("/api/v1/tokens", Json.Raw($$"""{"name":"while-full-{{i}}-{{new string('x', 80)}}"}"""));
            answers.Add(write.StatusCode);
            if (write.StatusCode == HttpStatusCode.ServiceUnavailable)
            {
                var problem = await write.ShouldBeProblemAsync(HttpStatusCode.ServiceUnavailable);
                refusal = problem.Detail();
                ((string?)problem["remedy"]).ShouldNotBeNull().ShouldContain("without a restart");
            }
        }

        answers.ShouldAllBe(s => s == HttpStatusCode.Created || s == HttpStatusCode.ServiceUnavailable,
            "a full disk is a 503 with a reason, never a 500; the server logged: " + string.Join("\n", server.Logs.ServerFaults.Take(2)));
        refusal.ShouldNotBeNull("writes kept succeeding on a full disk").ShouldStartWith("The database cannot be written");

        disk.Free();

        (await ReadyzUntilAsync(server, HttpStatusCode.OK)).Status.ShouldBe("ready");
        using var after = await server.Admin.PostAsync("/api/v1/tokens", Json.Raw("""{"name":"after-recovery"}"""));
        after.StatusCode.ShouldBe(HttpStatusCode.Created, await after.Content.ReadAsStringAsync());
    }

    [Theory]
    [MemberData(nameof(Dialects.Both), MemberType = typeof(Dialects))]
    public async Task Readyz_is_ready_when_the_database_takes_writes(string dialect)
    {
        await using var server = await MedicServer.StartAsync(dialect, logInAdmin: false);

        (await ReadyzUntilAsync(server, HttpStatusCode.OK)).Problem.ShouldBeNull();

        (await server.Database.ScalarAsync<long>("SELECT COUNT(*) FROM readiness_probe")).ShouldBe(1, "readiness wrote its probe row");
    }
}
