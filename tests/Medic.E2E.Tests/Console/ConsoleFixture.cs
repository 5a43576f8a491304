using Microsoft.Playwright;

namespace Medic.E2E.Tests.Console;

/// <summary>
/// One real control plane started with <c>medic up</c> (with its own agent on this machine) and one
/// headless Chromium (Debian's /usr/bin/chromium, which ./test.sh installs; Playwright's own
/// browser download cannot work here), shared by the console tests. Each test opens its own
/// browser context, so cookies and pages never leak between tests.
/// </summary>
public sealed class ConsoleFixture : IAsyncLifetime
{
    public const string AdminPassword = "console tests admin password";

    private IPlaywright? _playwright;

    public MedicHome Home { get; } = new();

    public RunningServer Server { get; private set; } = default!;

    public IBrowser Browser { get; private set; } = default!;

    public static string ChromiumPath => Environment.GetEnvironmentVariable("MEDIC_CHROMIUM") is { Length: > 0 } path ? path : "/usr/bin/chromium";

    public async Task InitializeAsync()
    {
        if (!File.Exists(ChromiumPath))
        {
            throw new InvalidOperationException($"{ChromiumPath} is missing: the console tests need Chromium (apt-get install -y chromium; ./test.sh installs it)");
        }

        Home.Environment["MEDIC_ADMIN_PASSWORD"] = AdminPassword;
        // Every test signs in from 127.0.0.1: dozens of sign-ins a minute, over the per-address limit meant for guessing passwords.
        Home.Environment["MEDIC_RATE_LIMITS__LOGIN_PER_MINUTE"] = "1000";
        Server = await RunningServer.StartAsync(Home, "up");
        var login = await Home.RunWithInputAsync(AdminPassword + "\n", "login", "--server", Server.Url, "--user", "admin", "--password-stdin");
        login.ExitCode.ShouldBe(0, login.ToString());
        _playwright = await Playwright.CreateAsync();
        Browser = await _playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
        {
            ExecutablePath = ChromiumPath,
            Headless = true,
            Args = ["--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu"],
        });
    }

    /// <summary>A new browser context (its own cookies) with a page signed in as <paramref name="username"/>.</summary>
    public async Task<IPage> SignedInPageAsync(string username = "admin", string password = AdminPassword, int width = 1280, int height = 900)
    {
        var context = await Browser.NewContextAsync(new BrowserNewContextOptions { ViewportSize = new ViewportSize { Width = width, Height = height }, BaseURL = Server.Url });
        context.SetDefaultTimeout(15_000);
        var page = await context.NewPageAsync();
        await page.GotoAsync("/login");
        await page.FillAsync("#username", username);
        await page.FillAsync("#password", password);
        await page.ClickAsync("button[type=submit]");
        await page.WaitForURLAsync(url => !url.Contains("/login", StringComparison.Ordinal));
        await WaitInteractiveAsync(page);
        return page;
    }

    /// <summary>Waits until the Blazor circuit is connected, so clicks reach the server.</summary>
    public static async Task WaitInteractiveAsync(IPage page) =>
        await page.WaitForFunctionAsync("() => window.Blazor && document.querySelector('[data-interactive=\"true\"]') !== null");

    /// <summary>
    /// Saves a screenshot as NAME.png: into docs/console/ when MEDIC_SCREENSHOTS=docs (how the
    /// images in docs/console.md are made), else into artifacts/screenshots/ of the checkout.
    /// </summary>
    public static async Task ScreenshotAsync(IPage page, string name)
    {
        var root = RepositoryRoot();
        var dir = Environment.GetEnvironmentVariable("MEDIC_SCREENSHOTS") == "docs"
            ? Path.Combine(root, "docs", "console")
            : Path.Combine(root, "artifacts", "screenshots");
        Directory.CreateDirectory(dir);
        await page.ScreenshotAsync(new PageScreenshotOptions { Path = Path.Combine(dir, name + ".png"), FullPage = true });
    }

    private static string RepositoryRoot()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "Medic.slnx"))) dir = dir.Parent;
        return dir?.FullName ?? throw new InvalidOperationException("Cannot find the repository root above " + AppContext.BaseDirectory);
    }

    public async Task DisposeAsync()
    {
        if (Browser is not null) await Browser.DisposeAsync();
        _playwright?.Dispose();
        if (Server is not null) await Server.DisposeAsync();
        Home.Dispose();
    }
}

[CollectionDefinition(Name)]
public sealed class ConsoleCollection : ICollectionFixture<ConsoleFixture>
{
    public const string Name = "console";
}
