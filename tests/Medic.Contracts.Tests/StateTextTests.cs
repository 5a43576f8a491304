using System.Text.Json;
using Medic.Contracts;

namespace Medic.Contracts.Tests;

public sealed class StateTextTests
{
    [Fact]
    public void A_state_is_sent_and_stored_as_the_same_snake_case_text()
    {
        RemediationStatus.AwaitingApproval.ToText().ShouldBe("awaiting_approval");
        StateText.Parse<RemediationStatus>("awaiting_approval").ShouldBe(RemediationStatus.AwaitingApproval);
        JsonSerializer.Serialize(RemediationStatus.AwaitingConfirmation, MedicJson.Default.RemediationStatus).ShouldBe("\"awaiting_confirmation\"");
        JsonSerializer.Deserialize("\"recipe_proposed\"", MedicJson.Default.IncidentStatus).ShouldBe(IncidentStatus.RecipeProposed);
    }

    [Fact]
    public void Every_state_reads_back_from_its_text_on_the_wire_and_in_the_database()
    {
        RoundTrips(MedicJson.Default.RemediationStatus);
        RoundTrips(MedicJson.Default.ApprovalStatus);
        RoundTrips(MedicJson.Default.RunbookRunStatus);
        RoundTrips(MedicJson.Default.RunbookStepStatus);
        RoundTrips(MedicJson.Default.NodeStatus);
        RoundTrips(MedicJson.Default.IncidentStatus);
    }

    [Fact]
    public void Unknown_stored_text_fails_loudly_and_names_the_known_values()
    {
        var ex = Should.Throw<InvalidOperationException>(() => StateText.Parse<ApprovalStatus>("approved_maybe"));
        ex.Message.ShouldBe("'approved_maybe' is not a known ApprovalStatus (known: pending, approved, rejected, expired, cancelled, superseded).");
        StateText.TryParse<ApprovalStatus>("Pending", out _).ShouldBeFalse(); // the text is exact, as the database holds it
    }

    [Fact]
    public void A_state_sent_as_a_number_is_refused()
    {
        Should.Throw<JsonException>(() => JsonSerializer.Deserialize("1", MedicJson.Default.ApprovalStatus));
    }

    private static void RoundTrips<T>(System.Text.Json.Serialization.Metadata.JsonTypeInfo<T> json) where T : struct, Enum
    {
        foreach (var value in Enum.GetValues<T>())
        {
            var text = value.ToText();
            StateText.Parse<T>(text).ShouldBe(value);
            JsonSerializer.Serialize(value, json).ShouldBe($"\"{text}\"");
            JsonSerializer.Deserialize($"\"{text}\"", json).ShouldBe(value);
        }
    }
}
