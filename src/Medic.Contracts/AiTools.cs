namespace Medic.Contracts;

/// <summary>
/// One typed parameter of an operator-defined AI tool (docs/ai-tools.md). <c>Type</c> is
/// <c>string</c> (a value must match <c>Pattern</c> whole and be at most <c>MaxLength</c> long),
/// <c>integer</c> (from <c>Min</c> to <c>Max</c>) or <c>enum</c> (one of <c>Values</c>).
/// Every parameter is required: the model must give each one.
/// </summary>
public sealed record AiToolParameter(
    string Name,
    string Type,
    string? Description = null,
    string? Pattern = null,
    int? MaxLength = null,
    long? Min = null,
    long? Max = null,
    IReadOnlyList<string>? Values = null);

/// <summary>
/// Creates or replaces an operator-defined AI tool. <c>Kind</c> <c>shell_command</c>: <c>Program</c>
/// (an absolute path) and <c>Args</c>, each a literal or text holding one <c>{{ param }}</c>, run as
/// argv by the agent; <c>http_request</c>: a GET of <c>Url</c> on the server itself (loopback), its
/// <c>{{ param }}</c> references URL-encoded. <c>Name</c> may be left out; when given it must match the path.
/// </summary>
public sealed record AiToolRequest(
    string? Name = null,
    string? Description = null,
    string? Kind = null,
    string? Program = null,
    IReadOnlyList<string>? Args = null,
    string? Method = null,
    string? Url = null,
    IReadOnlyList<AiToolParameter>? Parameters = null,
    int? TimeoutSeconds = null,
    int? OutputLimit = null);

/// <summary>An operator-defined AI tool as stored; an agent may call it only when its tool allowlist names it.</summary>
public sealed record AiToolResponse(
    string Name,
    string Description,
    string Kind,
    string? Program,
    IReadOnlyList<string> Args,
    string? Method,
    string? Url,
    IReadOnlyList<AiToolParameter> Parameters,
    int TimeoutSeconds,
    int OutputLimit,
    string CreatedBy,
    DateTimeOffset CreatedAt,
    string UpdatedBy,
    DateTimeOffset UpdatedAt);
