namespace Medic.Server.Runbooks;

[System.Text.Json.Serialization.JsonSerializable(typeof(List<string>))]
[System.Text.Json.Serialization.JsonSerializable(typeof(Dictionary<string, string>))]
internal sealed partial class RunbookJson : System.Text.Json.Serialization.JsonSerializerContext;
