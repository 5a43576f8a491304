using System.Text.Json.Serialization;

namespace Medic.Server.Backup;

/// <summary>The first entry of a backup archive (<c>manifest.json</c>): what it holds and which Medic wrote it.</summary>
public sealed record BackupManifest(
    [property: JsonPropertyName("format")] int Format,
    [property: JsonPropertyName("medic_version")] string MedicVersion,
    [property: JsonPropertyName("created_at")] DateTimeOffset CreatedAt,
    [property: JsonPropertyName("dialect")] string Dialect,
    [property: JsonPropertyName("migrations")] IReadOnlyList<BackupMigration> Migrations,
    [property: JsonPropertyName("tables")] IReadOnlyList<BackupTable> Tables,
    [property: JsonPropertyName("files")] IReadOnlyList<string> Files)
{
    public const int CurrentFormat = 1;
    public const string EntryName = "manifest.json";
    public const string SqliteEntry = "database/medic.db";
    public const string SequencesEntry = "database/sequences.json";
    public const string DataPrefix = "data/";

    public static string TableEntry(int index, string table) => $"database/tables/{index:D3}_{table}.copy";
}

public sealed record BackupMigration(
    [property: JsonPropertyName("version")] int Version,
    [property: JsonPropertyName("name")] string Name,
    [property: JsonPropertyName("checksum")] string Checksum);

/// <summary>One PostgreSQL table in COPY text format, in an order where every table comes after the ones its foreign keys name.</summary>
public sealed record BackupTable(
    [property: JsonPropertyName("name")] string Name,
    [property: JsonPropertyName("columns")] IReadOnlyList<string> Columns,
    [property: JsonPropertyName("rows")] long Rows);

public sealed record BackupSequence(
    [property: JsonPropertyName("name")] string Name,
    [property: JsonPropertyName("last_value")] long LastValue);

[JsonSerializable(typeof(BackupManifest))]
[JsonSerializable(typeof(List<BackupSequence>))]
[JsonSourceGenerationOptions(WriteIndented = true)]
internal sealed partial class BackupJson : JsonSerializerContext;
