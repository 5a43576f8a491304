using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization.Metadata;
using Medic.Contracts;

namespace Medic.Contracts.Tests;

/// <summary>The wire format every client sees: snake_case names, roles by name, unknown fields refused.</summary>
public sealed class JsonContractTests
{
    private static readonly DateTimeOffset When = new(2026, 11, 21, 10, 0, 0, TimeSpan.Zero);

    private static (JsonObject Json, T Back) RoundTrip<T>(T value, JsonTypeInfo<T> type)
    {
        var text = JsonSerializer.Serialize(value, type);
        return (JsonNode.Parse(text)!.AsObject(), JsonSerializer.Deserialize(text, type)!);
    }

    [Fact]
    public void WhoAmI_round_trips_with_snake_case_names_and_the_role_by_name()
    {
        var me = new WhoAmIResponse("usr_1", "alice", "ten_1", "acme", Role.Operator, false, "token", "tok_1", When);

        var (json, back) = RoundTrip(me, MedicJson.Default.WhoAmIResponse);

        json.Select(p => p.Key).ShouldBe(["user_id", "username", "tenant_id", "tenant_slug", "role", "superadmin", "auth_method", "token_id", "token_expires_at"]);
        ((string?)json["role"]).ShouldBe("operator");
        back.ShouldBe(me);
    }

    [Fact]
    public void A_created_token_round_trips_with_its_secret_and_nested_token()
    {
        var token = new TokenResponse("tok_1", "ci", Role.Viewer, "mdk_abcdefgh", "usr_1", "alice", When, When.AddDays(90), null, When.AddHours(1));
        var created = new TokenCreatedResponse(token, "mdk_secret");

        var (json, back) = RoundTrip(created, MedicJson.Default.TokenCreatedResponse);

        json["token"]!.AsObject().Select(p => p.Key).ShouldBe(["id", "name", "role", "prefix", "user_id", "username", "created_at", "expires_at", "revoked_at", "last_used_at"]);
        ((string?)json["token"]!["role"]).ShouldBe("viewer");
        json["token"]!.AsObject().ContainsKey("revoked_at").ShouldBeTrue("null fields are written, not left out");
        ((string?)json["secret"]).ShouldBe("mdk_secret");
        back.ShouldBe(created);
    }

    [Fact]
    public void Users_and_tenants_round_trip()
    {
        var user = new UserResponse("usr_1", "bob", "Bob B.", Role.Approver, false, true, When, null);
        var tenant = new TenantCreatedResponse(new TenantResponse("ten_1", "acme", "Acme", When), user, "generated-password");

        var (userJson, userBack) = RoundTrip(user, MedicJson.Default.UserResponse);
        var (tenantJson, tenantBack) = RoundTrip(tenant, MedicJson.Default.TenantCreatedResponse);

        userJson.Select(p => p.Key).ShouldBe(["id", "username", "display_name", "role", "superadmin", "disabled", "created_at", "last_login_at"]);
        ((string?)userJson["role"]).ShouldBe("approver");
        userBack.ShouldBe(user);
        tenantJson.Select(p => p.Key).ShouldBe(["tenant", "admin", "admin_password"]);
        tenantBack.ShouldBe(tenant);
    }

    [Fact]
    public void An_audit_entry_round_trips_with_its_details()
    {
        var entry = new AuditEntry("ten_1", 7, "aud_7", "ten_1", When, "user:admin", "user.create", "user:usr_1", AuditOutcomes.Success, "127.0.0.1",
            new Dictionary<string, string> { ["username"] = "alice", ["role"] = "viewer" }, AuditChain.Genesis, new string('a', 64));

        var (json, back) = RoundTrip(entry, MedicJson.Default.AuditEntry);

        json.Select(p => p.Key).ShouldBe(["chain", "seq", "id", "tenant_id", "at", "actor", "action", "target", "outcome", "client_address", "details", "prev_hash", "hash"]);
        back.Details.ShouldBe(entry.Details, ignoreOrder: true);
        (back with { Details = entry.Details }).ShouldBe(entry);
        AuditChain.ComputeHash(back.PrevHash, back).ShouldBe(AuditChain.ComputeHash(entry.PrevHash, entry), "a round trip must not change what is hashed");
    }

    [Fact]
    public void A_verification_report_round_trips()
    {
        var report = new AuditVerificationReport(false, [new AuditVerification(false, "ten_1", 4, 6, new AuditBreak(5, null, "entries at the end were deleted"))]);

        var (json, back) = RoundTrip(report, MedicJson.Default.AuditVerificationReport);

        json["chains"]![0]!.AsObject().Select(p => p.Key).ShouldBe(["ok", "chain", "checked", "head_seq", "first_broken"]);
        ((long?)json["chains"]![0]!["first_broken"]!["seq"]).ShouldBe(5);
        back.Ok.ShouldBeFalse();
        back.Chains.ShouldHaveSingleItem().ShouldBe(report.Chains[0]);
    }

    [Fact]
    public void Requests_read_snake_case_and_may_leave_optional_fields_out()
    {
        var login = JsonSerializer.Deserialize("""{"username":"alice","password":"secret-password"}""", MedicJson.Default.TokenLoginRequest)!;
        var token = JsonSerializer.Deserialize("""{"name":"ci","role":"viewer","expires_in":"30d"}""", MedicJson.Default.CreateTokenRequest)!;
        var user = JsonSerializer.Deserialize("""{"username":"bob","display_name":"Bob B."}""", MedicJson.Default.CreateUserRequest)!;

        login.ShouldBe(new TokenLoginRequest("alice", "secret-password"));
        token.ShouldBe(new CreateTokenRequest("ci", Role.Viewer, "30d"));
        user.ShouldBe(new CreateUserRequest("bob", DisplayName: "Bob B."));
    }

    [Fact]
    public void Unknown_fields_are_refused_not_ignored()
    {
        var error = Should.Throw<JsonException>(() => JsonSerializer.Deserialize("""{"name":"ci","rol":"admin"}""", MedicJson.Default.CreateTokenRequest));

        error.Message.ShouldContain("rol");
    }

    [Fact]
    public void PascalCase_names_are_not_accepted_for_snake_case_fields()
    {
        Should.Throw<JsonException>(() => JsonSerializer.Deserialize("""{"name":"ci","ExpiresIn":"30d"}""", MedicJson.Default.CreateTokenRequest));
    }

    [Theory]
    [InlineData(Role.Viewer, "viewer")]
    [InlineData(Role.Approver, "approver")]
    [InlineData(Role.Operator, "operator")]
    [InlineData(Role.Admin, "admin")]
    public void Each_role_is_written_and_read_by_its_lowercase_name(Role role, string name)
    {
        var json = JsonSerializer.Serialize(new SetRoleRequest(role), MedicJson.Default.SetRoleRequest);

        json.ShouldBe($$"""{"role":"{{name}}"}""");
        JsonSerializer.Deserialize(json, MedicJson.Default.SetRoleRequest)!.Role.ShouldBe(role);
        role.ToWire().ShouldBe(name);
        RoleNames.TryParse(name, out var parsed).ShouldBeTrue();
        parsed.ShouldBe(role);
    }

    [Theory]
    [InlineData("""{"role":3}""")]
    [InlineData("""{"role":99}""")]
    [InlineData("""{"role":"3"}""")]
    [InlineData("""{"role":"root"}""")]
    [InlineData("""{"role":null}""")]
    public void A_role_that_is_not_one_of_the_names_is_refused(string json)
    {
        Should.Throw<JsonException>(() => JsonSerializer.Deserialize(json, MedicJson.Default.SetRoleRequest));
    }

    [Theory]
    [InlineData(" Admin ", Role.Admin)]
    [InlineData("OPERATOR", Role.Operator)]
    public void Role_names_typed_by_people_are_read_case_insensitively(string typed, Role expected)
    {
        RoleNames.TryParse(typed, out var role).ShouldBeTrue();
        role.ShouldBe(expected);
    }

    [Theory]
    [InlineData("superadmin")]
    [InlineData("")]
    [InlineData(null)]
    public void Anything_else_is_not_a_role(string? typed) => RoleNames.TryParse(typed, out _).ShouldBeFalse();

    [Fact]
    public void Problem_details_keep_the_remedy_and_unknown_members()
    {
        var problem = JsonSerializer.Deserialize(
            """{"type":"about:blank","title":"Conflict","status":409,"detail":"'alice' is the tenant's last admin.","remedy":"make another user admin first","trace_id":"00-abc"}""",
            MedicJson.Default.ProblemResponse)!;

        problem.Status.ShouldBe(409);
        problem.Detail.ShouldBe("'alice' is the tenant's last admin.");
        problem.Remedy.ShouldBe("make another user admin first");
        problem.Extensions.ShouldNotBeNull().ShouldContainKey("trace_id");
    }
}
