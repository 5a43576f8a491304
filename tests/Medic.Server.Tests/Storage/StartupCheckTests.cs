using Medic.Server.Common;
using Medic.Server.Hosting;
using Medic.Server.Tests.Infrastructure;
using Microsoft.AspNetCore.Builder;
using Microsoft.Data.Sqlite;

namespace Medic.Server.Tests.Storage;

public sealed class StartupCheckTests
{
    private static MedicOptions Options(string dataDir) => new() { DataDir = dataDir, Listen = "http://127.0.0.1:0" };

    /// <summary>Builds the control plane and runs its start-up preparation, as <c>medic server</c> does before serving.</summary>
    private static async Task PrepareAsync(MedicOptions options)
    {
        await using WebApplication app = MedicApp.Build(options, _ => { });
        try
        {
            await MedicApp.PrepareAsync(app.Services);
        }
        finally
        {
            SqliteConnection.ClearAllPools();
        }
    }

    [Fact]
    public async Task A_first_start_on_an_empty_data_directory_creates_the_database_and_the_keys()
    {
        using var data = new TempDirectory();

        await PrepareAsync(Options(data.Path));

        File.Exists(Path.Combine(data.Path, "medic.db")).ShouldBeTrue();
        File.Exists(Path.Combine(data.Path, "master.key")).ShouldBeTrue();
        File.Exists(Path.Combine(data.Path, "task-signing.key")).ShouldBeTrue();
    }

    [Fact]
    public async Task A_missing_database_next_to_existing_keys_stops_the_start_unless_a_fresh_database_is_accepted()
    {
        using var data = new TempDirectory();
        await PrepareAsync(Options(data.Path));
        var file = Path.Combine(data.Path, "medic.db");
        foreach (var path in new[] { file, file + "-wal", file + "-shm" }.Where(File.Exists)) File.Delete(path);

        var refused = await Should.ThrowAsync<ConfigException>(() => PrepareAsync(Options(data.Path)));

        refused.Message.ShouldContain(file + " is missing");
        refused.Message.ShouldContain("master.key");
        refused.Remedy.ShouldContain("restore " + file + " from your backup");
        refused.Remedy.ShouldContain("MEDIC_ACCEPT_FRESH_DATABASE=1");
        File.Exists(file).ShouldBeFalse("a refused start must not create an empty database");

        var accepting = Options(data.Path);
        accepting.AcceptFreshDatabase = true;
        await PrepareAsync(accepting);
        File.Exists(file).ShouldBeTrue();
    }

    [Fact]
    public async Task A_corrupted_database_stops_the_start_naming_the_file_and_how_to_restore_it()
    {
        using var data = new TempDirectory();
        await PrepareAsync(Options(data.Path));
        var file = Path.Combine(data.Path, "medic.db");
        await using (var c = new SqliteConnection($"Data Source={file};Pooling=False"))
        {
            await c.OpenAsync();
            await using var checkpoint = c.CreateCommand();
            checkpoint.CommandText = "PRAGMA wal_checkpoint(TRUNCATE)";
            await checkpoint.ExecuteNonQueryAsync();
        }

        // Keep page 1 (the header and the schema's root) and scribble over the tables' pages, as a failing disk would.
        var bytes = await File.ReadAllBytesAsync(file);
        new Random(42).NextBytes(bytes.AsSpan(4096 * 2, bytes.Length / 2 - 4096 * 2));
        await File.WriteAllBytesAsync(file, bytes);

        var refused = await Should.ThrowAsync<ConfigException>(() => PrepareAsync(Options(data.Path)));

        refused.Message.ShouldContain($"the database {file} is corrupted");
        refused.Remedy.ShouldContain("backup");
        refused.Remedy.ShouldContain(file);
    }
}
