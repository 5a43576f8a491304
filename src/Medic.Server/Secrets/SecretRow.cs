using Medic.Contracts;

namespace Medic.Server.Secrets;

/// <summary>A stored secret's metadata; the sealed value is read only by <see cref="SecretStore"/>.</summary>
internal sealed class SecretRow
{
    public string Name { get; set; } = "";
    public int Length { get; set; }
    public string Description { get; set; } = "";
    public string CreatedBy { get; set; } = "";
    public DateTimeOffset CreatedAt { get; set; }
    public string UpdatedBy { get; set; } = "";
    public DateTimeOffset UpdatedAt { get; set; }

    public SecretResponse ToResponse() => new(Name, Description, Length, CreatedBy, CreatedAt, UpdatedBy, UpdatedAt);
}
