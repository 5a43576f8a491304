using System.Text.Json.Serialization;

namespace Medic.Contracts;

public sealed record HealthResponse(string Status, string Version);

public sealed record ReadinessResponse(
    string Status,
    string Dialect,
    bool DatabaseReachable,
    int MigrationsApplied,
    int MigrationsKnown,
    string Version,
    string? Problem);

public sealed record LoginRequest(string Username, string Password, string? Tenant = null);

/// <summary>Fields with a default may be left out of the JSON. Exchanges a username and password for an API token (what <c>medic login</c> does).</summary>
public sealed record TokenLoginRequest(
    string Username,
    string Password,
    string? Tenant = null,
    string? TokenName = null,
    string? ExpiresIn = null);

/// <summary>Who is calling (<c>GET /api/v1/whoami</c>); the server's <c>Caller</c> is this record plus the claims round-trip.</summary>
public record WhoAmIResponse(
    string UserId,
    string Username,
    string TenantId,
    string TenantSlug,
    Role Role,
    bool Superadmin,
    string AuthMethod,
    string? TokenId,
    DateTimeOffset? TokenExpiresAt);

/// <summary>The antiforgery token a console page sends in <c>HeaderName</c> with state-changing API calls made with its session cookie.</summary>
public sealed record AntiforgeryTokenResponse(string HeaderName, string Token);

public sealed record TenantResponse(string Id, string Slug, string Name, DateTimeOffset CreatedAt);

public sealed record CreateTenantRequest(string Slug, string? Name = null, string? AdminUsername = null, string? AdminPassword = null);

public sealed record TenantCreatedResponse(TenantResponse Tenant, UserResponse? Admin, string? AdminPassword);

public sealed record UserResponse(
    string Id,
    string Username,
    string? DisplayName,
    Role Role,
    bool Superadmin,
    bool Disabled,
    DateTimeOffset CreatedAt,
    DateTimeOffset? LastLoginAt);

public sealed record CreateUserRequest(string Username, Role? Role = null, string? Password = null, string? DisplayName = null);

/// <summary><c>GeneratedPassword</c> is set only when the server chose the password; it is shown once.</summary>
public sealed record UserCreatedResponse(UserResponse User, string? GeneratedPassword);

public sealed record SetRoleRequest(Role Role);

/// <summary>Without a password the server generates one and returns it once.</summary>
public sealed record ResetPasswordRequest(string? Password = null);

public sealed record TokenResponse(
    string Id,
    string Name,
    Role Role,
    string Prefix,
    string UserId,
    string Username,
    DateTimeOffset CreatedAt,
    DateTimeOffset ExpiresAt,
    DateTimeOffset? RevokedAt,
    DateTimeOffset? LastUsedAt);

public sealed record CreateTokenRequest(string Name, Role? Role = null, string? ExpiresIn = null);

/// <summary><c>Secret</c> is the bearer token itself: shown once, stored only as a hash.</summary>
public sealed record TokenCreatedResponse(TokenResponse Token, string Secret);

public sealed record AuditPage(IReadOnlyList<AuditEntry> Items, long? NextBefore);

public sealed record AuditBreak(long Seq, string? Id, string Reason);

public sealed record AuditVerification(bool Ok, string Chain, long Checked, long HeadSeq, AuditBreak? FirstBroken);

public sealed record AuditVerificationReport(bool Ok, IReadOnlyList<AuditVerification> Chains);

/// <summary>The key that signs audit checkpoints: its public half (base64 SubjectPublicKeyInfo) and a short fingerprint.</summary>
public sealed record AuditCheckpointKeyResponse(string PublicKey, string Fingerprint);

/// <summary><c>medic audit verify --checkpoints</c>: the server's own chain check and the checkpoints checked against the downloaded chain.</summary>
public sealed record AuditCheckpointReport(bool Ok, AuditVerificationReport Chains, IReadOnlyList<AuditCheckpointCheck> Checkpoints);

[JsonSourceGenerationOptions(
    PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower,
    DefaultIgnoreCondition = JsonIgnoreCondition.Never,
    UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow,
    AllowTrailingCommas = false)]
[JsonSerializable(typeof(HealthResponse))]
[JsonSerializable(typeof(ReadinessResponse))]
[JsonSerializable(typeof(LoginRequest))]
[JsonSerializable(typeof(TokenLoginRequest))]
[JsonSerializable(typeof(WhoAmIResponse))]
[JsonSerializable(typeof(AntiforgeryTokenResponse))]
[JsonSerializable(typeof(TenantResponse))]
[JsonSerializable(typeof(IReadOnlyList<TenantResponse>))]
[JsonSerializable(typeof(CreateTenantRequest))]
[JsonSerializable(typeof(TenantCreatedResponse))]
[JsonSerializable(typeof(UserResponse))]
[JsonSerializable(typeof(IReadOnlyList<UserResponse>))]
[JsonSerializable(typeof(CreateUserRequest))]
[JsonSerializable(typeof(UserCreatedResponse))]
[JsonSerializable(typeof(SetRoleRequest))]
[JsonSerializable(typeof(ResetPasswordRequest))]
[JsonSerializable(typeof(TokenResponse))]
[JsonSerializable(typeof(IReadOnlyList<TokenResponse>))]
[JsonSerializable(typeof(CreateTokenRequest))]
[JsonSerializable(typeof(TokenCreatedResponse))]
[JsonSerializable(typeof(AuditEntry))]
[JsonSerializable(typeof(AuditPage))]
[JsonSerializable(typeof(AuditVerification))]
[JsonSerializable(typeof(AuditVerificationReport))]
[JsonSerializable(typeof(AuditCheckpoint))]
[JsonSerializable(typeof(IReadOnlyList<AuditCheckpoint>))]
[JsonSerializable(typeof(AuditCheckpointKeyResponse))]
[JsonSerializable(typeof(AuditCheckpointCheck))]
[JsonSerializable(typeof(AuditCheckpointReport))]
[JsonSerializable(typeof(ProblemResponse))]
[JsonSerializable(typeof(CreateEnrollmentTokenRequest))]
[JsonSerializable(typeof(EnrollmentTokenResponse))]
[JsonSerializable(typeof(IReadOnlyList<EnrollmentTokenResponse>))]
[JsonSerializable(typeof(EnrollmentTokenCreatedResponse))]
[JsonSerializable(typeof(AgentBinaryResponse))]
[JsonSerializable(typeof(IReadOnlyList<AgentBinaryResponse>))]
[JsonSerializable(typeof(ServerResponse))]
[JsonSerializable(typeof(IReadOnlyList<ServerResponse>))]
[JsonSerializable(typeof(CreateServerRequest))]
[JsonSerializable(typeof(SetTagsRequest))]
[JsonSerializable(typeof(DiagRequest))]
[JsonSerializable(typeof(ServiceRequest))]
[JsonSerializable(typeof(TaskRunResponse))]
[JsonSerializable(typeof(ExecRequest))]
[JsonSerializable(typeof(ExecStrategy))]
[JsonSerializable(typeof(MetricsHistoryResponse))]
[JsonSerializable(typeof(ExecutionResponse))]
[JsonSerializable(typeof(IncidentResponse))]
[JsonSerializable(typeof(IncidentDetailResponse))]
[JsonSerializable(typeof(IncidentPage))]
[JsonSerializable(typeof(CreateIncidentRequest))]
[JsonSerializable(typeof(IncidentCommentRequest))]
[JsonSerializable(typeof(AddCommentRequest))]
[JsonSerializable(typeof(IncidentFeedMessage))]
[JsonSerializable(typeof(CreateCheckRequest))]
[JsonSerializable(typeof(CheckResponse))]
[JsonSerializable(typeof(IReadOnlyList<CheckResponse>))]
[JsonSerializable(typeof(CheckDetailResponse))]
[JsonSerializable(typeof(CreateMonitorRequest))]
[JsonSerializable(typeof(MonitorResponse))]
[JsonSerializable(typeof(IReadOnlyList<MonitorResponse>))]
[JsonSerializable(typeof(WebhookDeliveryResponse))]
[JsonSerializable(typeof(WebhooksResponse))]
[JsonSerializable(typeof(RotateWebhooksRequest))]
[JsonSerializable(typeof(WebhookMapping))]
[JsonSerializable(typeof(WebhookMappingResponse))]
[JsonSerializable(typeof(IReadOnlyList<WebhookMappingResponse>))]
[JsonSerializable(typeof(AlertTypeRule))]
[JsonSerializable(typeof(AlertTypeRuleResponse))]
[JsonSerializable(typeof(IReadOnlyList<AlertTypeRuleResponse>))]
[JsonSerializable(typeof(AlertTypeTestRequest))]
[JsonSerializable(typeof(AlertTypeTestResponse))]
[JsonSerializable(typeof(WebhookSourceCredentialResponse))]
[JsonSerializable(typeof(SetWebhookSecretRequest))]
[JsonSerializable(typeof(SetWebhookBasicAuthRequest))]
[JsonSerializable(typeof(WebhookDeliveriesResponse))]
[JsonSerializable(typeof(CreateSilenceRequest))]
[JsonSerializable(typeof(SilenceResponse))]
[JsonSerializable(typeof(IReadOnlyList<SilenceResponse>))]
[JsonSerializable(typeof(CreateNotificationChannelRequest))]
[JsonSerializable(typeof(NotificationChannelResponse))]
[JsonSerializable(typeof(IReadOnlyList<NotificationChannelResponse>))]
[JsonSerializable(typeof(NotificationTestResponse))]
[JsonSerializable(typeof(CreateNotificationRuleRequest))]
[JsonSerializable(typeof(NotificationRuleResponse))]
[JsonSerializable(typeof(IReadOnlyList<NotificationRuleResponse>))]
[JsonSerializable(typeof(NotificationDeliveryResponse))]
[JsonSerializable(typeof(IReadOnlyList<NotificationDeliveryResponse>))]
[JsonSerializable(typeof(ApplyRunbookRequest))]
[JsonSerializable(typeof(RunbookApplyResponse))]
[JsonSerializable(typeof(IReadOnlyList<RunbookApplyResponse>))]
[JsonSerializable(typeof(RunbookSummary))]
[JsonSerializable(typeof(IReadOnlyList<RunbookSummary>))]
[JsonSerializable(typeof(RunbookResponse))]
[JsonSerializable(typeof(RunbookDiffResponse))]
[JsonSerializable(typeof(RunbookRunRequest))]
[JsonSerializable(typeof(RunbookRunResponse))]
[JsonSerializable(typeof(RunbookRunPage))]
[JsonSerializable(typeof(RunbookRunEvent))]
[JsonSerializable(typeof(RemediationResponse))]
[JsonSerializable(typeof(IReadOnlyList<RemediationResponse>))]
[JsonSerializable(typeof(ApprovalResponse))]
[JsonSerializable(typeof(IReadOnlyList<ApprovalResponse>))]
[JsonSerializable(typeof(ApproveRequest))]
[JsonSerializable(typeof(RejectRequest))]
[JsonSerializable(typeof(ProposeRemediationRequest))]
[JsonSerializable(typeof(PipelineSettingsResponse))]
[JsonSerializable(typeof(PipelineSettingsRequest))]
[JsonSerializable(typeof(TriageRulesRequest))]
[JsonSerializable(typeof(TriageRulesResponse))]
[JsonSerializable(typeof(ChangeWindowRequest))]
[JsonSerializable(typeof(ChangeWindowResponse))]
[JsonSerializable(typeof(IReadOnlyList<ChangeWindowResponse>))]
[JsonSerializable(typeof(IncidentReport))]
[JsonSerializable(typeof(ReportEvidence))]
[JsonSerializable(typeof(ReportRemediation))]
[JsonSerializable(typeof(ReportApproval))]
[JsonSerializable(typeof(ReportAuditEntry))]
[JsonSerializable(typeof(ReportOutcome))]
[JsonSerializable(typeof(ReportDurations))]
[JsonSerializable(typeof(AiRunSummary))]
[JsonSerializable(typeof(IReadOnlyList<AiRunSummary>))]
[JsonSerializable(typeof(AiRunBundleResponse))]
[JsonSerializable(typeof(AiRunStepResponse))]
[JsonSerializable(typeof(AskRequest))]
[JsonSerializable(typeof(AskEvent))]
[JsonSerializable(typeof(AskSessionSummary))]
[JsonSerializable(typeof(IReadOnlyList<AskSessionSummary>))]
[JsonSerializable(typeof(AskSessionResponse))]
[JsonSerializable(typeof(List<AskTurn>))]
[JsonSerializable(typeof(EvalReport))]
[JsonSerializable(typeof(EvalScenarioResult))]
[JsonSerializable(typeof(EvalRequest))]
[JsonSerializable(typeof(EvalEvent))]
[JsonSerializable(typeof(AiToolRequest))]
[JsonSerializable(typeof(AiToolResponse))]
[JsonSerializable(typeof(IReadOnlyList<AiToolResponse>))]
public sealed partial class MedicJson : JsonSerializerContext;

/// <summary>RFC 9457 problem details as the CLI reads them.</summary>
public sealed class ProblemResponse
{
    public string? Type { get; set; }
    public string? Title { get; set; }
    public int? Status { get; set; }
    public string? Detail { get; set; }
    public string? Instance { get; set; }
    public string? Remedy { get; set; }
    public Dictionary<string, string[]>? Errors { get; set; }

    [JsonExtensionData]
    public Dictionary<string, object?>? Extensions { get; set; }
}
