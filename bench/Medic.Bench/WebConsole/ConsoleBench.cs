using System.Diagnostics;
using System.Globalization;
using Dapper;
using Medic.Bench.Fanout;
using Medic.Server.Storage;
using Microsoft.Data.Sqlite;
using Microsoft.Playwright;

namespace Medic.Bench.WebConsole;

/// <summary>
/// The console at fleet scale, in a real browser: seeds a control plane's SQLite database with
/// N servers and M incidents, then measures with headless Chromium (Debian's /usr/bin/chromium)
/// the time from navigation to the first rendered row of the server and incident lists, and from
/// typing a filter to the filtered rows. Each figure is the median of several runs.
/// </summary>
internal static class ConsoleBench
{
    public static async Task<int> RunAsync(string[] args)
    {
        var servers = 10_000;
        var incidents = 100_000;
        var runs = 5;
        string? medic = null;
        for (var i = 0; i < args.Length; i++)
        {
            switch (args[i])
            {
                case "--servers": servers = int.Parse(args[++i], CultureInfo.InvariantCulture); break;
                case "--incidents": incidents = int.Parse(args[++i], CultureInfo.InvariantCulture); break;
                case "--runs": runs = int.Parse(args[++i], CultureInfo.InvariantCulture); break;
                case "--medic": medic = args[++i]; break;
                default:
                    System.Console.Error.WriteLine("usage: Medic.Bench console [--servers N] [--incidents N] [--runs R] [--medic PATH/medic.dll]");
                    return 2;
            }
        }

        using var cts = new CancellationTokenSource(TimeSpan.FromMinutes(20));
        await using var plane = await ControlPlaneProcess.StartAsync(FanoutBench.LocateMedic(medic), null, false, cts.Token);
        var seed = Stopwatch.StartNew();
        await SeedAsync(Path.Combine(plane.DataDir, "medic.db"), servers, incidents);
        System.Console.WriteLine($"seeded {servers:N0} servers and {incidents:N0} incidents in {seed.Elapsed.TotalSeconds:0.0} s");

        using var playwright = await Playwright.CreateAsync();
        await using var browser = await playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
        {
            ExecutablePath = Environment.GetEnvironmentVariable("MEDIC_CHROMIUM") ?? "/usr/bin/chromium",
            Headless = true,
            Args = ["--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu"],
        });
        var context = await browser.NewContextAsync(new BrowserNewContextOptions { BaseURL = plane.Url.ToString().TrimEnd('/'), ViewportSize = new ViewportSize { Width = 1280, Height = 900 } });
        context.SetDefaultTimeout(60_000);
        var page = await context.NewPageAsync();
        await page.GotoAsync("/login");
        await page.FillAsync("#username", "admin");
        await page.FillAsync("#password", plane.AdminPassword);
        await page.ClickAsync("button[type=submit]");
        await page.WaitForURLAsync(url => !url.Contains("/login", StringComparison.Ordinal));

        var figures = new List<(string What, double Ms)>
        {
            ("servers: first render", await MedianAsync(runs, () => FirstRenderAsync(page, "/servers", ServerRow))),
            ("servers: filter by name", await MedianAsync(runs, () => FilterAsync(page, "/servers", ServerRow, ServerFilter, "srv-0042", ServerRow + ":has-text('srv-00420')"))),
            ("incidents: first render", await MedianAsync(runs, () => FirstRenderAsync(page, "/incidents", IncidentRow))),
            ("incidents: filter by text", await MedianAsync(runs, () => FilterAsync(page, "/incidents", IncidentRow, IncidentFilter, "disk 4240", IncidentRow + ":has-text('disk 4240')"))),
        };

        System.Console.WriteLine($"console, {servers:N0} servers and {incidents:N0} incidents, median of {runs} runs, headless Chromium at 1280x900:");
        foreach (var (what, ms) in figures) System.Console.WriteLine($"  {what,-28} {ms,8:0} ms");
        return 0;
    }

    // The pages' stable hooks (see docs/console.md): a row per server / incident, and the text filter.
    private const string ServerRow = "[data-server]";
    private const string ServerFilter = "#filter-text";
    private const string IncidentRow = "[data-incident]";
    private const string IncidentFilter = "[data-filter=text]";

    private static async Task<double> FirstRenderAsync(IPage page, string path, string row)
    {
        await page.GotoAsync("about:blank");
        var watch = Stopwatch.StartNew();
        await page.GotoAsync(path, new PageGotoOptions { WaitUntil = WaitUntilState.Commit });
        await page.Locator(row).First.WaitForAsync();
        return watch.Elapsed.TotalMilliseconds;
    }

    private static async Task<double> FilterAsync(IPage page, string path, string row, string filter, string text, string expected)
    {
        await page.GotoAsync(path);
        await page.Locator(row).First.WaitForAsync();
        await page.WaitForFunctionAsync("() => document.querySelector('[data-interactive=\"true\"]') !== null");
        var watch = Stopwatch.StartNew();
        await page.FillAsync(filter, text);
        await page.Locator(filter).PressAsync("Enter");
        await page.Locator(expected).First.WaitForAsync();
        return watch.Elapsed.TotalMilliseconds;
    }

    private static async Task<double> MedianAsync(int runs, Func<Task<double>> measure)
    {
        await measure(); // warm-up: the first load compiles the page's code paths
        var samples = new List<double>();
        for (var i = 0; i < runs; i++) samples.Add(await measure());
        samples.Sort();
        return samples[samples.Count / 2];
    }

    /// <summary>Writes the rows straight into the database the running control plane uses (WAL lets both work).</summary>
    private static async Task SeedAsync(string dbPath, int servers, int incidents)
    {
        DapperSetup.EnsureConfigured();
        await using var c = new SqliteConnection($"Data Source={dbPath};Pooling=false");
        await c.OpenAsync();
        await c.ExecuteAsync("PRAGMA busy_timeout = 30000");
        var tenant = await c.ExecuteScalarAsync<string>("SELECT id FROM tenants ORDER BY created_at LIMIT 1")
            ?? throw new InvalidOperationException("the control plane created no tenant");
        var now = DateTimeOffset.UtcNow;
        var nodeIds = new List<string>(servers);
        await using (var tx = await c.BeginTransactionAsync())
        {
            for (var i = 0; i < servers; i++)
            {
                var id = "nod_bench" + i.ToString("D7", CultureInfo.InvariantCulture);
                nodeIds.Add(id);
                var env = (i % 3) switch { 0 => "prod", 1 => "staging", _ => "dev" };
                await c.ExecuteAsync(
                    "INSERT INTO nodes (id, tenant_id, name, tags, status, drained, enrolled_at, last_seen_at, kind) " +
                    "VALUES (@id, @tenant, @name, @tags, @status, 0, @at, @at, 'agent')",
                    new { id, tenant, name = "srv-" + i.ToString("D5", CultureInfo.InvariantCulture), tags = $"{{\"env\":\"{env}\",\"rack\":\"r{i % 40}\"}}", status = i % 50 == 0 ? "offline" : "online", at = now.AddSeconds(-i) }, tx);
            }

            await tx.CommitAsync();
        }

        string[] severities = ["critical", "warning", "info"];
        string[] kinds = ["disk", "memory", "service", "load"];
        const int batch = 10_000;
        for (var start = 0; start < incidents; start += batch)
        {
            await using var tx = await c.BeginTransactionAsync();
            for (var i = start; i < Math.Min(incidents, start + batch); i++)
            {
                var at = now.AddMinutes(-(incidents - i));
                var kind = kinds[i % kinds.Length];
                var resolved = i < incidents - 200; // the newest 200 are still open
                await c.ExecuteAsync(
                    "INSERT INTO incidents (id, tenant_id, server_id, source, type, severity, status, fingerprint, title, labels, signal_count, flap_window_start, first_seen_at, last_seen_at, resolved_at, resolution, updated_at) " +
                    "VALUES (@id, @tenant, @server, 'agent', @type, @severity, @status, @fingerprint, @title, '{}', 1, @at, @at, @at, @resolvedAt, @resolution, @at)",
                    new
                    {
                        id = "inc_bench" + i.ToString("D8", CultureInfo.InvariantCulture), tenant, server = nodeIds[i % nodeIds.Count], type = kind + "_problem",
                        severity = severities[i % severities.Length], status = resolved ? "resolved" : "open", fingerprint = "bench:" + i.ToString(CultureInfo.InvariantCulture),
                        title = $"{kind} {i} on srv-{i % nodeIds.Count:D5}", at, resolvedAt = resolved ? at.AddMinutes(1) : (DateTimeOffset?)null,
                        resolution = resolved ? "healed locally (agent)" : null,
                    }, tx);
            }

            await tx.CommitAsync();
        }
    }
}
