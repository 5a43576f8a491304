using System.Net;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;

namespace Medic.E2E.Tests;

/// <summary>The webhook and silence commands against a real <c>medic up</c>, as an operator runs them.</summary>
public sealed class WebhookCliTests : IDisposable
{
    private readonly MedicHome _home = new();

    [Fact]
    public async Task An_admin_tests_and_extends_how_alerts_are_classified_and_bad_rules_get_a_one_line_error()
    {
        await using var server = await RunningServer.StartAsync(_home, "up");

        // The built-in table: node-exporter's disk alert becomes disk_full, with the mount triage rules read.
        var builtIn = await _home.RunAsync("webhooks", "types", "test", "--alertname", "HostOutOfDiskSpace", "--label", "mountpoint=/srv", "--label", "instance=web-1:9100", "--json");
        builtIn.ExitCode.ShouldBe(0, builtIn.ToString());
        var classified = JsonDocument.Parse(builtIn.Stdout).RootElement;
        classified.GetProperty("type").GetString().ShouldBe("disk_full");
        classified.GetProperty("derived_labels").GetProperty("mount").GetString().ShouldBe("/srv");
        classified.GetProperty("derived_labels").TryGetProperty("port", out _).ShouldBeFalse("on a node-exporter alert the instance is the exporter, not what is wrong");

        // The tenant's own rule for an alert only this shop sends, tried before the built-in ones.
        JsonDocument.Parse((await _home.RunAsync("webhooks", "types", "test", "--alertname", "ShopCheckoutDown", "--json")).Stdout).RootElement.GetProperty("type").GetString().ShouldBe("alert");
        var set = await _home.RunAsync("webhooks", "types", "set", "10-shop-checkout", "--type", "service_down", "--alertname", "ShopCheckoutDown", "--json");
        set.ExitCode.ShouldBe(0, set.ToString());
        var mine = JsonDocument.Parse((await _home.RunAsync("webhooks", "types", "test", "--alertname", "ShopCheckoutDown", "--json")).Stdout).RootElement;
        (mine.GetProperty("type").GetString(), mine.GetProperty("rule").GetString()).ShouldBe(("service_down", "10-shop-checkout"));
        var list = await _home.RunAsync("webhooks", "types", "list", "--json");
        list.ExitCode.ShouldBe(0, list.ToString());
        JsonDocument.Parse(list.Stdout).RootElement.EnumerateArray().Select(r => r.GetProperty("name").GetString()).ShouldContain("10-shop-checkout");

        // Bad input: one line saying what is wrong, a hint, and nothing stored.
        var badRegex = await _home.RunAsync("webhooks", "types", "set", "20-bad", "--type", "disk_full", "--regex", "([unclosed");
        badRegex.ExitCode.ShouldNotBe(0);
        badRegex.Stderr.ShouldStartWith("error: ");
        badRegex.Stderr.ShouldNotContain("   at ", Case.Sensitive, "no stack trace");
        var badName = await _home.RunAsync("webhooks", "types", "set", "Bad Name!", "--type", "disk_full", "--alertname", "X");
        badName.ExitCode.ShouldNotBe(0);
        badName.Stderr.ShouldStartWith("error: ");
        JsonDocument.Parse((await _home.RunAsync("webhooks", "types", "list", "--json")).Stdout).RootElement.GetArrayLength().ShouldBe(1);

        (await _home.RunAsync("webhooks", "types", "remove", "10-shop-checkout")).ExitCode.ShouldBe(0);
        var again = await _home.RunAsync("webhooks", "types", "remove", "10-shop-checkout");
        again.ExitCode.ShouldNotBe(0);
        again.Stderr.ShouldContain("10-shop-checkout");
        again.Stderr.ShouldContain("hint:");
    }

    [Fact]
    public async Task An_admin_sets_PagerDutys_secret_from_stdin_reads_the_delivery_log_and_silences_alerts()
    {
        await using var server = await RunningServer.StartAsync(_home, "up");
        var show = await _home.RunAsync("webhooks", "show", "--json");
        show.ExitCode.ShouldBe(0, show.ToString());
        var tenant = JsonDocument.Parse(show.Stdout).RootElement.GetProperty("tenant").GetString();

        var noInput = await _home.RunAsync("webhooks", "set-secret", "pagerduty");
        noInput.ExitCode.ShouldNotBe(0);
        noInput.Stderr.ShouldContain("standard input");
        noInput.Stderr.ShouldContain("hint:");

        const string secret = "pagerduty-generated-signing-secret-3f9c1a";
        var set = await _home.RunWithInputAsync(secret + "\n", "webhooks", "set-secret", "pagerduty");
        set.ExitCode.ShouldBe(0, set.ToString());
        set.Stdout.ShouldNotContain(secret);
        (await _home.RunAsync("webhooks", "show")).Stdout.ShouldContain("Set for pagerduty: signing secret");

        var body = """{"event":{"id":"01DFBGXX6Y0NPM1F4VBVH3AFYE","event_type":"pagey.ping","resource_type":"pagey","occurred_at":"2026-11-21T13:00:00.000Z","agent":null,"client":null,"data":{"message":"Hello from your friend Pagey!","type":"ping"}}}"""u8.ToArray();
        using var http = new HttpClient { BaseAddress = new Uri(server.Url) };
        async Task<HttpStatusCode> DeliverAsync(string key)
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, $"/api/v1/webhooks/alerts/{tenant}/pagerduty") { Content = new ByteArrayContent(body) };
            request.Content.Headers.ContentType = new("application/json");
            request.Headers.TryAddWithoutValidation("X-PagerDuty-Signature", "v1=" + Convert.ToHexStringLower(HMACSHA256.HashData(Encoding.UTF8.GetBytes(key), body)));
            using var response = await http.SendAsync(request);
            return response.StatusCode;
        }

        (await DeliverAsync(secret)).ShouldBe(HttpStatusCode.OK);
        (await DeliverAsync("a-forged-secret-of-someone-else")).ShouldBe(HttpStatusCode.Unauthorized);

        var log = await _home.RunAsync("webhooks", "deliveries", "pagerduty", "--json");
        log.ExitCode.ShouldBe(0, log.ToString());
        var json = JsonDocument.Parse(log.Stdout).RootElement;
        json.GetProperty("deliveries").EnumerateArray().Select(d => d.GetProperty("outcome").GetString()).ShouldBe(["bad_signature", "accepted"]);
        json.GetProperty("refusals").GetProperty("bad_signature").GetInt64().ShouldBe(1);
        var table = await _home.RunAsync("webhooks", "deliveries", "pagerduty", "--limit", "1");
        table.Stdout.ShouldContain("bad_signature");
        table.Stdout.ShouldContain("Refusals: bad_signature 1");

        var added = await _home.RunAsync("silences", "add", "alertname=HighDiskUsage", "instance=~\"web-.*\"", "--comment", "resizing the web disks", "--duration", "2h", "--json");
        added.ExitCode.ShouldBe(0, added.ToString());
        var silence = JsonDocument.Parse(added.Stdout).RootElement;
        var id = silence.GetProperty("id").GetString()!;
        silence.GetProperty("matchers")[1].GetProperty("op").GetString().ShouldBe("=~");
        silence.GetProperty("matchers")[1].GetProperty("value").GetString().ShouldBe("web-.*");

        var bad = await _home.RunAsync("silences", "add", "alertname~HighDiskUsage", "--comment", "x");
        bad.ExitCode.ShouldNotBe(0);
        bad.Stderr.ShouldContain("not a label matcher");

        var list = await _home.RunAsync("silences", "list");
        list.Stdout.ShouldContain(id);
        list.Stdout.ShouldContain("instance=~\"web-.*\"");
        (await _home.RunAsync("silences", "expire", id)).ExitCode.ShouldBe(0);
        var expired = await _home.RunAsync("silences", "list", "--state", "expired", "--json");
        JsonDocument.Parse(expired.Stdout).RootElement.EnumerateArray().Select(s => s.GetProperty("id").GetString()).ShouldBe([id]);
        (await _home.RunAsync("silences", "list", "--json")).Stdout.ShouldNotContain(id);
    }

    public void Dispose() => _home.Dispose();
}
