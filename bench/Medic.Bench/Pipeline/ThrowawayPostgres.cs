using System.Diagnostics;
using System.Globalization;
using Medic.Bench.Fanout;

namespace Medic.Bench.Pipeline;

/// <summary>
/// A PostgreSQL cluster of its own for one run, started the way <c>test.sh</c> starts one: the
/// newest <c>/usr/lib/postgresql/*/bin</c>, <c>initdb</c> into a temporary directory (as the
/// <c>postgres</c> user when the bench runs as root), <c>pg_ctl start</c> on a free loopback port.
/// Unlike test.sh it keeps PostgreSQL's default durability (fsync, synchronous commit), as a
/// production database would have. Disposing stops it and deletes its files.
/// </summary>
internal sealed class ThrowawayPostgres : IAsyncDisposable
{
    private readonly string _bin;
    private readonly string _dir;

    private ThrowawayPostgres(string bin, string dir, int port, string version)
    {
        _bin = bin;
        _dir = dir;
        Port = port;
        Version = version;
    }

    public int Port { get; }

    public string Version { get; }

    /// <summary>What MEDIC_DATABASE takes.</summary>
    public string ConnectionString => $"Host=127.0.0.1;Port={Port};Username=postgres;Database=postgres";

    private string DataDir => Path.Combine(_dir, "data");

    public static async Task<ThrowawayPostgres> StartAsync(CancellationToken ct)
    {
        var bin = Directory.Exists("/usr/lib/postgresql")
            ? Directory.EnumerateDirectories("/usr/lib/postgresql").Select(d => Path.Combine(d, "bin")).Where(d => File.Exists(Path.Combine(d, "initdb")))
                .OrderBy(d => int.TryParse(Path.GetFileName(Path.GetDirectoryName(d)), CultureInfo.InvariantCulture, out var v) ? v : 0).LastOrDefault()
            : null;
        if (bin is null)
        {
            throw new BenchFailure("no PostgreSQL server binaries under /usr/lib/postgresql/*/bin",
                "apt-get install postgresql (as test.sh does), pass --postgres CONNECTION-STRING for a database of your own, or --sqlite-only");
        }

        var dir = Directory.CreateTempSubdirectory("medic-bench-pg-").FullName;
        File.SetUnixFileMode(dir, (UnixFileMode)0b111_101_101);
        var pg = new ThrowawayPostgres(bin, dir, ControlPlaneProcess.FreeLoopbackPort(), Path.GetFileName(Path.GetDirectoryName(bin))!);
        try
        {
            if (Environment.UserName == "root")
            {
                await RunAsync("id", ["postgres"], ct, "the postgres user does not exist; create it: useradd --system --no-create-home --shell /usr/sbin/nologin postgres");
                await RunAsync("chown", ["-R", "postgres", dir], ct);
            }

            await pg.AsPostgresAsync("initdb", ["-D", pg.DataDir, "-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-sync"], ct);
            await pg.AsPostgresAsync("pg_ctl", ["-D", pg.DataDir, "-l", Path.Combine(dir, "postgres.log"), "-w", "-t", "60", "start",
                "-o", $"-p {pg.Port} -k {dir} -c listen_addresses=127.0.0.1 -c max_connections=300"], ct);
            return pg;
        }
        catch
        {
            await pg.DisposeAsync();
            throw;
        }
    }

    /// <summary>CPU seconds used so far by the postmaster and its live backends (read from /proc).</summary>
    public double CpuSeconds()
    {
        var pidFile = Path.Combine(DataDir, "postmaster.pid");
        if (!File.Exists(pidFile) || !int.TryParse(File.ReadLines(pidFile).First(), CultureInfo.InvariantCulture, out var postmaster)) return double.NaN;
        var total = ProcStats.Read(postmaster).CpuSeconds;
        foreach (var proc in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(proc), CultureInfo.InvariantCulture, out var pid)) continue;
            try
            {
                var stat = File.ReadAllText(Path.Combine(proc, "stat"));
                if (int.Parse(stat[(stat.LastIndexOf(')') + 2)..].Split(' ')[1], CultureInfo.InvariantCulture) == postmaster) total += ProcStats.Read(pid).CpuSeconds;
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or FormatException)
            {
                // The process ended while being read.
            }
        }

        return total;
    }

    private Task AsPostgresAsync(string tool, IReadOnlyList<string> args, CancellationToken ct) =>
        Environment.UserName == "root"
            ? RunAsync("runuser", ["-u", "postgres", "--", Path.Combine(_bin, tool), .. args], ct)
            : RunAsync(Path.Combine(_bin, tool), args, ct);

    private static async Task RunAsync(string file, IReadOnlyList<string> args, CancellationToken ct, string? remedy = null)
    {
        var start = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in args) start.ArgumentList.Add(a);
        using var process = Process.Start(start) ?? throw new BenchFailure($"could not start {file}", "check the PostgreSQL installation");
        var output = process.StandardOutput.ReadToEndAsync(ct);
        var errors = process.StandardError.ReadToEndAsync(ct);
        await process.WaitForExitAsync(ct);
        if (process.ExitCode != 0)
        {
            throw new BenchFailure($"{Path.GetFileName(file)} {string.Join(' ', args)} exited with {process.ExitCode}: {(await errors).Trim()} {(await output).Trim()}",
                remedy ?? "run the same command by hand to see why");
        }
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            if (File.Exists(Path.Combine(DataDir, "postmaster.pid")))
            {
                using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(60));
                await AsPostgresAsync("pg_ctl", ["-D", DataDir, "stop", "-m", "immediate"], stop.Token);
            }
        }
        catch (Exception ex) when (ex is BenchFailure or OperationCanceledException or System.ComponentModel.Win32Exception)
        {
            Console.Error.WriteLine($"warning: could not stop the throwaway PostgreSQL in {_dir}: {ex.Message}");
        }
        finally
        {
            try
            {
                Directory.Delete(_dir, recursive: true);
            }
            catch (IOException ex)
            {
                Console.Error.WriteLine($"warning: could not delete {_dir}: {ex.Message}");
            }
        }
    }
}
