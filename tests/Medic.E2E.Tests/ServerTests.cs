using System.Net.Http.Json;
using System.Text;
using System.Text.Json;

namespace Medic.E2E.Tests;

/// <summary><c>medic server</c>: production start from a config file.</summary>
public sealed class ServerTests : IDisposable
{
    private readonly MedicHome _home = new();

    [Fact]
    public async Task Server_runs_from_a_json_config_prints_the_first_password_once_and_trusts_only_its_proxy()
    {
        var data = Path.Combine(_home.Home, "var-lib-medic");
        var config = Path.Combine(_home.Home, "medic.json");
        await File.WriteAllTextAsync(config, $$"""{ "data_dir": "{{data}}", "trusted_proxies": ["127.0.0.1"], "rate_limits": { "login_per_minute": 20 } }""");

        string password;
        await using (var server = await RunningServer.StartAsync(_home, "server", "--config", config))
        {
            password = RunningServer.FirstPassword().Match(server.Stdout).Groups[1].Value;
            password.ShouldNotBeEmpty(server.Stdout);
            server.Stdout.ShouldContain("medic login --server " + server.Url);
            File.Exists(Path.Combine(data, "medic.db")).ShouldBeTrue();
            File.GetUnixFileMode(Path.Combine(data, "medic.db")).ShouldBe(UnixFileMode.UserRead | UnixFileMode.UserWrite);
            File.GetUnixFileMode(data).ShouldBe(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);

            // A call through the trusted proxy is recorded with the client's own address.
            using var http = new HttpClient { BaseAddress = new Uri(server.Url) };
            using var login = new HttpRequestMessage(HttpMethod.Post, "/api/v1/auth/token")
            {
                Content = new StringContent($$"""{"username":"admin","password":"{{password}}"}""", Encoding.UTF8, "application/json"),
            };
            login.Headers.Add("X-Forwarded-For", "203.0.113.9");
            using var response = await http.SendAsync(login);
            response.EnsureSuccessStatusCode();
            var secret = (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("secret").GetString();

            http.DefaultRequestHeaders.Authorization = new("Bearer", secret);
            var page = await http.GetFromJsonAsync<JsonElement>("/api/v1/audit?action=auth.login");
            page.GetProperty("items")[0].GetProperty("client_address").GetString().ShouldBe("203.0.113.9");

            (await server.StopAsync(TimeSpan.FromSeconds(15))).ShouldBe(0);
        }

        await using var again = await RunningServer.StartAsync(_home, "server", "--config", config);
        RunningServer.FirstPassword().IsMatch(again.Stdout).ShouldBeFalse(again.Stdout);
        var relogin = await _home.RunWithInputAsync(password + "\n", "login", "--server", again.Url, "--password-stdin");
        relogin.ExitCode.ShouldBe(0, relogin.ToString());
    }

    [Fact]
    public async Task Without_trusted_proxies_a_forwarded_address_is_ignored()
    {
        _home.Environment["MEDIC_ADMIN_PASSWORD"] = "no-proxy-password-1";
        await using var server = await RunningServer.StartAsync(_home, "server", "--data", Path.Combine(_home.Home, "data"));
        using var http = new HttpClient { BaseAddress = new Uri(server.Url) };
        using var login = new HttpRequestMessage(HttpMethod.Post, "/api/v1/auth/token")
        {
            Content = new StringContent("""{"username":"admin","password":"no-proxy-password-1"}""", Encoding.UTF8, "application/json"),
        };
        login.Headers.Add("X-Forwarded-For", "203.0.113.9");
        using var response = await http.SendAsync(login);
        response.EnsureSuccessStatusCode();
        http.DefaultRequestHeaders.Authorization = new("Bearer", (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("secret").GetString());

        var page = await http.GetFromJsonAsync<JsonElement>("/api/v1/audit?action=auth.login");

        page.GetProperty("items")[0].GetProperty("client_address").GetString().ShouldBe("127.0.0.1");
    }

    public void Dispose() => _home.Dispose();
}
