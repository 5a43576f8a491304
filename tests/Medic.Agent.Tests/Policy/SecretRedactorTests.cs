using Medic.Agent.Policy;

namespace Medic.Agent.Tests.Policy;

/// <summary>What leaves the node has its obvious secrets masked; hostile samples, not friendly ones.</summary>
public sealed class SecretRedactorTests
{
    private const string Credential = "mdn_7f3a9c1e5b2d8f4a6c0e";
    private static readonly SecretRedactor Redactor = new([Credential]);

    [Theory]
    [InlineData("password=hunter2", "password=[REDACTED]")]
    [InlineData("PassWord = hunter2 next", "PassWord = [REDACTED] next")]
    [InlineData("passwd: hunter2", "passwd: [REDACTED]")]
    [InlineData("DB_PASSWORD='two words'", "DB_PASSWORD='[REDACTED]'")]
    [InlineData("export AWS_SECRET_ACCESS_KEY=wJalrXUtnFEMI/K7MDENG", "export AWS_SECRET_ACCESS_KEY=[REDACTED]")]
    [InlineData("STRIPE_API_KEY=sk_live_abc123", "STRIPE_API_KEY=[REDACTED]")]
    [InlineData("github_token=ghp_abcdef123456", "github_token=[REDACTED]")]
    [InlineData("Client_Secret: \"s3cr3t value\"", "Client_Secret: \"[REDACTED]\"")]
    [InlineData("{\"user\":\"bob\",\"password\":\"hunter2\",\"n\":1}", "{\"user\":\"bob\",\"password\":\"[REDACTED]\",\"n\":1}")]
    [InlineData("msg={\\\"api_key\\\":\\\"abc123\\\"}", "msg={\\\"api_key\\\":\\\"[REDACTED]\\\"}")]
    [InlineData("Authorization: Bearer eyJhbGciOiJIUzI1NiJ9.payload.sig", "Authorization: Bearer [REDACTED]")]
    [InlineData("authorization: basic dXNlcjpwYXNz", "authorization: basic [REDACTED]")]
    [InlineData("curl -H 'AUTHORIZATION: BEARER abcdef123456'", "curl -H 'AUTHORIZATION: BEARER [REDACTED]'")]
    [InlineData("token was bearer abcdef.123456 in the log", "token was bearer [REDACTED] in the log")]
    [InlineData("fetching https://deploy:s3cret@git.example.com/repo.git", "fetching https://deploy:[REDACTED]@git.example.com/repo.git")]
    [InlineData("postgres://app:p%40ss@db:5432/app", "postgres://app:[REDACTED]@db:5432/app")]
    [InlineData("key id AKIAIOSFODNN7EXAMPLE used", "key id [REDACTED] used")]
    [InlineData("agent credential mdn_7f3a9c1e5b2d8f4a6c0e leaked", "agent credential [REDACTED] leaked")]
    public void Obvious_secrets_are_masked(string text, string expected) =>
        Redactor.Redact(text).ShouldBe(expected);

    [Theory]
    [InlineData("GET /health 200 in 3 ms")]
    [InlineData("monkey=3 tokens: 5 keyboard=us")]
    [InlineData("nginx: worker process started, pid=1234")]
    public void Ordinary_lines_pass_unchanged(string text) =>
        Redactor.Redact(text).ShouldBe(text);

    [Fact]
    public void A_private_key_block_is_masked_across_lines()
    {
        var text = "before\n-----BEGIN RSA PRIVATE KEY-----\nMIIEpAIBAAKCAQEA7x\nq2bQ==\n-----END RSA PRIVATE KEY-----\nafter\n";

        var masked = Redactor.Redact(text);

        masked.ShouldBe("before\n-----BEGIN RSA PRIVATE KEY-----[REDACTED]-----END RSA PRIVATE KEY-----\nafter\n");
    }

    [Fact]
    public void A_private_key_embedded_in_json_on_one_line_is_masked()
    {
        var text = "{\"key\":\"-----BEGIN OPENSSH PRIVATE KEY-----\\nb3BlbnNzaC1rZXktdjEA\\n-----END OPENSSH PRIVATE KEY-----\\n\"}";

        Redactor.Redact(text).ShouldBe("{\"key\":\"-----BEGIN OPENSSH PRIVATE KEY-----[REDACTED]-----END OPENSSH PRIVATE KEY-----\\n\"}");
    }

    [Fact]
    public void A_private_key_without_its_end_masks_everything_after_its_start()
    {
        Redactor.Redact("ok\n-----begin private key-----\nMIIEvQIBADANBg\nmore").ShouldBe("ok\n-----begin private key-----[REDACTED]");
    }

    [Fact]
    public void A_stream_split_inside_a_secret_and_inside_a_key_block_is_still_masked()
    {
        var stream = Redactor.Stream();
        string[] pieces = ["starting\nDB_PASS", "WORD=hun", "ter2\n-----BEGIN EC PRIVATE", " KEY-----\nMHcCAQEEIB", "\nAwEHoUQDQgAE\n-----END EC PRIVATE KEY-----\nAuthorization: Bearer abc", "def123456"];

        var sent = string.Concat(pieces.Select(stream.Push)) + stream.Flush();

        sent.ShouldBe("starting\nDB_PASSWORD=[REDACTED]\n-----BEGIN EC PRIVATE KEY-----[REDACTED]-----END EC PRIVATE KEY-----\nAuthorization: Bearer [REDACTED]");
        sent.ShouldNotContain("hunter2");
        sent.ShouldNotContain("MHcCAQEEIB");
    }
}
