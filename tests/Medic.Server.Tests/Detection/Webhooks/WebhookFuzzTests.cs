using System.Net;
using Medic.Server.Detection.Webhooks;
using Medic.Server.Incidents;
using Medic.Server.Tests.Infrastructure;

namespace Medic.Server.Tests.Detection.Webhooks;

/// <summary>
/// Real payloads mutated at random (truncated, bit-flipped, retyped, nested deep, huge numbers,
/// wrong encodings, poisoned strings): every adapter answers with signals fit to store or a
/// reason, never an exception; over HTTP, with valid signatures, never a 5xx and never a partial write.
/// </summary>
public sealed class WebhookFuzzTests
{
    private const int AdapterRounds = 10_000;
    private const int HttpRounds = 150;
    private static readonly WebhookContext Context = new("ten_fuzz", DateTimeOffset.UnixEpoch);

    [Theory]
    [InlineData("alertmanager")]
    [InlineData("grafana")]
    [InlineData("datadog")]
    [InlineData("pagerduty")]
    [InlineData("zabbix")]
    [InlineData("uptimekuma")]
    [InlineData("generic")]
    public void Ten_thousand_mutated_payloads_are_each_refused_with_a_reason_or_read_into_storable_signals(string source)
    {
        var adapter = WebhookAdapters.BySource[source];
        var seeds = Payloads.Of(source);
        var mutator = new PayloadMutator(source.GetHashCode(StringComparison.Ordinal) ^ 20261121);
        var accepted = 0;
        for (var round = 0; round < AdapterRounds; round++)
        {
            var body = mutator.Mutate(seeds[round % seeds.Count]);

            WebhookParse parsed;
            try
            {
                parsed = adapter.Parse(body, Context);
            }
            catch (Exception ex)
            {
                throw new ShouldAssertException($"round {round}: {source} threw {ex.GetType().Name} on {Convert.ToBase64String(body)}", ex);
            }

            if (parsed.Ok)
            {
                accepted++;
                foreach (var signal in parsed.Signals)
                {
                    if (Unstorable(signal, source) is { } fault)
                    {
                        throw new ShouldAssertException($"round {round}: {source} produced a signal that cannot be stored: {fault}\n{Convert.ToBase64String(body)}");
                    }
                }
            }
            else
            {
                parsed.Problem.ShouldNotBeNullOrWhiteSpace();
                parsed.Signals.ShouldBeEmpty();
            }
        }

        // The mutations must exercise both paths, or the test proves little.
        accepted.ShouldBeInRange(AdapterRounds / 50, AdapterRounds - (AdapterRounds / 10), $"{accepted} of {AdapterRounds} accepted");
    }

    [Theory]
    [MemberData(nameof(Dialects.Both), MemberType = typeof(Dialects))]
    public async Task Signed_mutated_deliveries_get_200_or_a_4xx_never_a_5xx_and_a_refused_one_writes_nothing(string dialect)
    {
        await using var server = await MedicServer.StartAsync(dialect, o => o.RateLimits.WebhooksPerMinute = 100_000);
        var credentials = await WebhookSender.CredentialsAsync(server.Admin);
        var client = server.Client();
        var mutator = new PayloadMutator(dialect.Length * 7919);
        var statuses = new Dictionary<HttpStatusCode, int>();
        foreach (var source in WebhookAdapters.Sources)
        {
            var seeds = Payloads.Of(source);
            for (var round = 0; round < HttpRounds; round++)
            {
                var body = round % 10 == 0 ? seeds[round % seeds.Count] : mutator.Mutate(seeds[round % seeds.Count]);
                var before = await StateAsync(server.Database);
                using var request = WebhookSender.Signed("default", source, body, credentials.SigningSecret);
                using var response = await client.SendAsync(request);
                var status = response.StatusCode;
                statuses[status] = statuses.GetValueOrDefault(status) + 1;
                ((int)status).ShouldBeLessThan(500, $"{source} round {round}: {await response.Content.ReadAsStringAsync()}");
                if (status != HttpStatusCode.OK)
                {
                    await response.ShouldBeProblemAsync(status);
                    (await StateAsync(server.Database)).ShouldBe(before, $"{source} round {round} was refused with {(int)status} but changed incidents");
                }
            }
        }

        statuses.Keys.ShouldBeSubsetOf([HttpStatusCode.OK, HttpStatusCode.BadRequest, HttpStatusCode.RequestEntityTooLarge]);
        statuses.GetValueOrDefault(HttpStatusCode.OK).ShouldBeGreaterThan(0);
        statuses.GetValueOrDefault(HttpStatusCode.BadRequest).ShouldBeGreaterThan(0);
    }

    private static Task<string> StateAsync(TestDatabase db) =>
        db.ScalarAsync<string>("SELECT CAST(COUNT(*) AS TEXT) || '/' || CAST(COALESCE(SUM(signal_count), 0) AS TEXT) FROM incidents");

    /// <summary>Why the signal could not be stored as it is on both dialects, or null. Plain checks: this runs for every signal of 50,000 payloads.</summary>
    private static string? Unstorable(IncidentSignal s, string source)
    {
        if (s.Source != source || !s.Fingerprint.StartsWith(source + ":", StringComparison.Ordinal)) return $"source {s.Source}, fingerprint {s.Fingerprint}";
        if (s.Fingerprint.Length > source.Length + 1 + WebhookText.MaxFingerprint || (s.Occurrence?.Length ?? 0) > WebhookText.MaxFingerprint) return "fingerprint too long";
        if (s.Title.Length is < 1 or > WebhookText.MaxTitle) return $"title of {s.Title.Length} characters";
        if ((s.Summary?.Length ?? 0) > WebhookText.MaxSummary) return "summary too long";
        if (s.Severity is not ("critical" or "warning" or "info")) return "severity " + s.Severity;
        if (s.Labels.Count > WebhookText.MaxLabels) return $"{s.Labels.Count} labels";
        foreach (var text in new[] { s.Fingerprint, s.Title, s.Summary, s.ServerHint, s.Occurrence }
            .Concat(s.Labels.Keys).Concat(s.Labels.Values).Concat(s.Evidence?.Keys ?? []).Concat(s.Evidence?.Values ?? []))
        {
            if (text is null) continue;
            if (text.Length > WebhookText.MaxSummary) return $"a text of {text.Length} characters";
            for (var i = 0; i < text.Length; i++)
            {
                var c = text[i];
                if (c == '\0') return $"NUL in '{text}'";
                if (char.IsHighSurrogate(c) && i + 1 < text.Length && char.IsLowSurrogate(text[i + 1])) i++;
                else if (char.IsSurrogate(c)) return $"unpaired surrogate in '{text}'";
            }
        }

        return null;
    }
}
