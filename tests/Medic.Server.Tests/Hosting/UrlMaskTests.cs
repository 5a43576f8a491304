using Medic.Server.Common;

namespace Medic.Server.Tests.Hosting;

public sealed class UrlMaskTests
{
    [Theory]
    [InlineData("https://ops:hunter2@example.com/health", "https://ops:***@example.com/health")]
    [InlineData("https://ghp_abcdefghijklmnop1234@github.com/x.git", "https://***@github.com/x.git")]
    [InlineData("https://example.com/health?token=abc&region=eu", "https://example.com/health?token=***&region=eu")]
    [InlineData("https://example.com/h?access_token=abc&X-Amz-Signature=def&apiKey=ghi", "https://example.com/h?access_token=***&X-Amz-Signature=***&apiKey=***")]
    [InlineData("https://hc-ping.com/5f2a9c1e-8d7b-4e3a-9f10-2b6c7d8e9f01", "https://hc-ping.com/***")]
    [InlineData("https://hooks.slack.com/services/T0AB12CD3/B0AB12CD3/aBcDeF123456GhIjKl789", "https://hooks.slack.com/services/T0AB12CD3/B0AB12CD3/***")]
    [InlineData("https://api.example.com/token/short1/status", "https://api.example.com/token/***/status")]
    [InlineData("https://example.com/cb#access_token=abc&state=1", "https://example.com/cb#access_token=***&state=1")]
    [InlineData("https://shop.example.com/api/v1/health-check?verbose=true", "https://shop.example.com/api/v1/health-check?verbose=true")]
    [InlineData("http://127.0.0.1:8080/", "http://127.0.0.1:8080/")]
    [InlineData("db-1:5432", "db-1:5432")]
    public void Credentials_inside_a_URL_are_masked_and_the_rest_is_kept(string url, string masked) =>
        UrlMask.Mask(url).ShouldBe(masked);

    [Fact]
    public void URLs_inside_text_are_masked_where_they_stand() =>
        UrlMask.MaskIn("curl -fsS 'https://u:p4ss@x.example/p?key=k' && echo done").ShouldBe("curl -fsS 'https://u:***@x.example/p?key=***' && echo done");

    [Fact]
    public void A_path_for_the_audit_log_is_masked_like_a_URL_path() =>
        UrlMask.MaskRelative("/api/v1/checks/sk_live_4eC39HqLyjWDarjtT1zdp7dc/run").ShouldBe("/api/v1/checks/***/run");
}
