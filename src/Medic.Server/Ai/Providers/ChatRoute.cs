using System.ClientModel;
using System.Net;
using System.Runtime.CompilerServices;
using Microsoft.Extensions.AI;

namespace Medic.Server.Ai.Providers;

/// <summary>
/// A chat client over a tenant's model entries: the entries of the asked-for name in round-robin
/// order, then those of its fallback chain. A call that fails with a server error, 429, a timeout or
/// an unreachable endpoint moves on to the next entry; an endpoint whose breaker is open is skipped.
/// The answer's <see cref="ChatResponse.AdditionalProperties"/> say which entry answered
/// (<c>medic.model_name</c>, <c>medic.provider</c>, <c>medic.model</c>, <c>medic.endpoint</c>);
/// every answered call's tokens and estimated cost are recorded for <see cref="Agent"/> and <see cref="RunId"/>.
/// A stream falls back only until its first update; after that an error ends it.
/// </summary>
internal sealed class ChatRoute(string tenantId, string name, IReadOnlyList<AiModelEntry> candidates, ChatModels models) : IChatClient
{
    public const string NameKey = "medic.model_name";
    public const string ProviderKey = "medic.provider";
    public const string ModelKey = "medic.model";
    public const string EndpointKey = "medic.endpoint";

    public string TenantId => tenantId;

    /// <summary>The entry name asked for (or <c>default</c>).</summary>
    public string Name => name;

    /// <summary>The entries in the order this route tries them.</summary>
    public IReadOnlyList<AiModelEntry> Candidates => candidates;

    /// <summary>The AI agent the calls are for, recorded with their usage.</summary>
    public string? Agent { get; set; }

    /// <summary>The AI run the calls belong to, recorded with their usage.</summary>
    public string? RunId { get; set; }

    public async Task<ChatResponse> GetResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null, CancellationToken cancellationToken = default)
    {
        var list = messages as IList<ChatMessage> ?? [.. messages];
        var failures = new List<string>();
        foreach (var entry in candidates)
        {
            if (!TryEnter(entry, failures)) continue;
            using var timeout = Deadline(entry, cancellationToken);
            try
            {
                var client = await models.ClientAsync(tenantId, entry, cancellationToken);
                var response = await client.GetResponseAsync(list, options, timeout.Token);
                models.Breakers.Succeeded(entry.Endpoint);
                response.AdditionalProperties = Annotate(response.AdditionalProperties, entry);
                await models.RecordAsync(tenantId, Agent, RunId, entry, response.Usage, CancellationToken.None);
                return response;
            }
            catch (Exception ex) when (IsTransient(ex, cancellationToken))
            {
                Failed(entry, ex, failures);
            }
            catch
            {
                models.Breakers.Released(entry.Endpoint);
                throw;
            }
        }

        throw new ModelUnavailableException(name, failures);
    }

    public async IAsyncEnumerable<ChatResponseUpdate> GetStreamingResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null,
        [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        var list = messages as IList<ChatMessage> ?? [.. messages];
        var failures = new List<string>();
        foreach (var entry in candidates)
        {
            if (!TryEnter(entry, failures)) continue;
            using var timeout = Deadline(entry, cancellationToken);
            IAsyncEnumerator<ChatResponseUpdate>? updates = null;
            var first = false;
            try
            {
                var client = await models.ClientAsync(tenantId, entry, cancellationToken);
                updates = client.GetStreamingResponseAsync(list, options, timeout.Token).GetAsyncEnumerator(timeout.Token);
                first = await updates.MoveNextAsync();
            }
            catch (Exception ex) when (IsTransient(ex, cancellationToken))
            {
                if (updates is not null) await updates.DisposeAsync();
                Failed(entry, ex, failures);
                continue;
            }
            catch
            {
                if (updates is not null) await updates.DisposeAsync();
                models.Breakers.Released(entry.Endpoint);
                throw;
            }

            UsageDetails? usage = null;
            var finished = false;
            try
            {
                var more = first;
                while (more)
                {
                    var update = updates.Current;
                    foreach (var u in update.Contents.OfType<UsageContent>()) (usage ??= new UsageDetails()).Add(u.Details);
                    update.AdditionalProperties = Annotate(update.AdditionalProperties, entry);
                    yield return update;
                    more = await updates.MoveNextAsync();
                }

                finished = true;
            }
            finally
            {
                await updates.DisposeAsync();
                if (finished) models.Breakers.Succeeded(entry.Endpoint);
                else models.Breakers.Released(entry.Endpoint);
            }

            await models.RecordAsync(tenantId, Agent, RunId, entry, usage, CancellationToken.None);
            yield break;
        }

        throw new ModelUnavailableException(name, failures);
    }

    /// <summary>Whether the entry's circuit breaker lets a call through; when not, the failures say it was skipped.</summary>
    private bool TryEnter(AiModelEntry entry, List<string> failures)
    {
        if (models.Breakers.TryEnter(entry.Endpoint)) return true;
        failures.Add($"{Describe(entry)}: skipped, its circuit breaker is open");
        return false;
    }

    private static CancellationTokenSource Deadline(AiModelEntry entry, CancellationToken cancellationToken)
    {
        var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(TimeSpan.FromSeconds(entry.TimeoutSeconds));
        return timeout;
    }

    /// <summary>A transient failure of the entry: its breaker counts it, and the next entry is tried.</summary>
    private void Failed(AiModelEntry entry, Exception ex, List<string> failures)
    {
        models.Breakers.Failed(entry.Endpoint);
        failures.Add($"{Describe(entry)}: {Reason(ex, entry)}");
        models.LogFailover(tenantId, entry, Reason(ex, entry));
    }

    private static AdditionalPropertiesDictionary Annotate(AdditionalPropertiesDictionary? properties, AiModelEntry entry)
    {
        properties ??= [];
        properties[NameKey] = entry.Name;
        properties[ProviderKey] = entry.ProviderName;
        properties[ModelKey] = entry.Model;
        properties[EndpointKey] = entry.EffectiveBaseUrl;
        return properties;
    }

    private static string Describe(AiModelEntry entry) => $"{entry.Name} ({entry.ProviderName} {entry.Model} at {entry.EffectiveBaseUrl})";

    /// <summary>Server errors, 429, timeouts and unreachable endpoints are worth another entry; a refused request (400, 401, 404) is not.</summary>
    public static bool IsTransient(Exception ex, CancellationToken caller)
    {
        if (caller.IsCancellationRequested) return false;
        for (var e = ex; e is not null; e = e.InnerException)
        {
            switch (e)
            {
                case OperationCanceledException or TimeoutException or HttpRequestException or IOException or Anthropic.Exceptions.AnthropicIOException:
                    return true;
                case ClientResultException { Status: var status }:
                    return status is 0 or 408 or 429 or >= 500;
                case Anthropic.Exceptions.Anthropic5xxException or Anthropic.Exceptions.AnthropicRateLimitException
                    or Anthropic.Exceptions.AnthropicOverloadedException or Anthropic.Exceptions.AnthropicServiceUnavailableException:
                    return true;
                case Anthropic.Exceptions.AnthropicApiException service:
                    return service.StatusCode is HttpStatusCode.RequestTimeout or HttpStatusCode.TooManyRequests || (int)service.StatusCode >= 500;
                default:
                    break;
            }
        }

        return false;
    }

    /// <summary>What went wrong, in one line that never carries the key.</summary>
    public static string Reason(Exception ex, AiModelEntry entry) => ex switch
    {
        OperationCanceledException or TimeoutException => $"no answer within {entry.TimeoutSeconds}s",
        ClientResultException { Status: > 0 } c => $"HTTP {c.Status}",
        Anthropic.Exceptions.AnthropicApiException a => $"HTTP {(int)a.StatusCode}",
        HttpRequestException { HttpRequestError: var error } => "cannot connect: " + error,
        _ when ex.InnerException is { } inner => Reason(inner, entry),
        _ => ex.GetType().Name,
    };

    public object? GetService(Type serviceType, object? serviceKey = null) => serviceKey is null && serviceType.IsInstanceOfType(this) ? this : null;

    public void Dispose()
    {
        // The clients belong to ChatClientCache.
    }
}

/// <summary>Every entry of a route failed or was skipped; the message lists each one's reason.</summary>
internal sealed class ModelUnavailableException(string name, IReadOnlyList<string> failures)
    : Exception($"model '{name}' is unavailable: " + (failures.Count == 0 ? "it has no entries" : string.Join("; ", failures)))
{
    public IReadOnlyList<string> Failures => failures;
}
