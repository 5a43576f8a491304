using System.ClientModel;
using System.ClientModel.Primitives;
using Anthropic;
using Medic.Contracts;
using Microsoft.Extensions.AI;
using OpenAI;

namespace Medic.Server.Ai.Providers;

/// <summary>
/// Builds the SDK chat client for one endpoint, retries off (the caller decides what to try next).
/// Public for <c>medic watch</c> (src/Medic.Cli/Watch), which has a model but no control plane.
/// </summary>
public static class ChatClients
{
    /// <param name="provider"><see cref="AiProviders.OpenAi"/> (any OpenAI-compatible endpoint) or <see cref="AiProviders.Anthropic"/>.</param>
    /// <param name="baseUrl">Null for the provider's own.</param>
    public static IChatClient Create(string provider, string? baseUrl, string model, string? key, TimeSpan timeout)
    {
        var url = string.IsNullOrWhiteSpace(baseUrl) ? AiProviders.DefaultBaseUrl(provider) : baseUrl.TrimEnd('/');
        if (provider == AiProviders.Anthropic)
        {
            var anthropic = new AnthropicClient { BaseUrl = url, ApiKey = key, MaxRetries = 0, Timeout = timeout };
            return anthropic.AsIChatClient(model);
        }

        // Local servers (Ollama, vLLM, LM Studio) take no key; the SDK needs one, and they ignore it.
        var options = new OpenAIClientOptions { Endpoint = new Uri(url), RetryPolicy = new ClientRetryPolicy(0), NetworkTimeout = timeout };
        return new OpenAI.Chat.ChatClient(model, new ApiKeyCredential(string.IsNullOrEmpty(key) ? "none" : key), options).AsIChatClient();
    }
}
