namespace Medic.E2E.Tests;

/// <summary>
/// <c>medic backup</c> through a running <c>medic server</c>, then <c>medic restore</c> offline into a
/// new data directory (and a new PostgreSQL database), and a server started on it: the data is
/// there and <c>medic audit verify --all</c> passes. Wrong passphrases, damaged files and non-empty
/// targets are refused with one line and a remedy.
/// </summary>
public sealed class BackupCliTests : IDisposable
{
    private const string AdminPassword = "backup-test-password-1";
    private const string Passphrase = "a backup passphrase long enough";

    private readonly MedicHome _home = new();

    [Theory]
    [InlineData("sqlite")]
    [InlineData("postgres")]
    public async Task Backup_then_restore_round_trips_and_audit_verify_passes(string dialect)
    {
        await using var sourceDb = dialect == "postgres" ? await PostgresDatabase.CreateAsync() : null;
        await using var restoredDb = dialect == "postgres" ? await PostgresDatabase.CreateAsync() : null;
        var data = Path.Combine(_home.Home, "data");
        var file = Path.Combine(_home.Home, "medic.backup");
        _home.Environment["MEDIC_ADMIN_PASSWORD"] = AdminPassword;
        if (sourceDb is not null) _home.Environment["MEDIC_DATABASE"] = sourceDb.ConnectionString;

        await using (var server = await RunningServer.StartAsync(_home, "server", "--data", data))
        {
            (await _home.RunWithInputAsync(AdminPassword + "\n", "login", "--server", server.Url, "--password-stdin")).ExitCode.ShouldBe(0);
            (await _home.RunAsync("incidents", "create", "--title", "Round-trip incident on db-1", "--severity", "critical")).ExitCode.ShouldBe(0);
            (await _home.RunWithInputAsync("the-secret-value", "secrets", "set", "db-password")).ExitCode.ShouldBe(0);

            var noPassphrase = await _home.RunAsync("backup", "--output", file);
            noPassphrase.ExitCode.ShouldBe(2, noPassphrase.ToString());
            noPassphrase.Stderr.ShouldContain("MEDIC_BACKUP_PASSPHRASE");
            File.Exists(file).ShouldBeFalse();

            _home.Environment["MEDIC_BACKUP_PASSPHRASE"] = Passphrase;
            var backup = await _home.RunAsync("backup", "--output", file);

            backup.ExitCode.ShouldBe(0, backup.ToString());
            backup.Stdout.ShouldContain("Backup written to " + file);
            backup.Stderr.ShouldContain("Received");
            File.GetUnixFileMode(file).ShouldBe(UnixFileMode.UserRead | UnixFileMode.UserWrite);
            (await _home.RunAsync("backup", "--output", file)).Stderr.ShouldContain("already exists");
            await server.StopAsync(TimeSpan.FromSeconds(30));
        }

        // Refusals first, each leaving nothing behind.
        var occupied = Path.Combine(_home.Home, "occupied");
        Directory.CreateDirectory(occupied);
        await File.WriteAllTextAsync(Path.Combine(occupied, "keep.txt"), "mine");
        var intoOccupied = await Restore(file, occupied, restoredDb);
        intoOccupied.ExitCode.ShouldBe(2, intoOccupied.ToString());
        intoOccupied.Stderr.ShouldContain("is not empty");
        Directory.EnumerateFileSystemEntries(occupied).ShouldHaveSingleItem();

        var restored = Path.Combine(_home.Home, "restored");
        _home.Environment["MEDIC_BACKUP_PASSPHRASE"] = "not the passphrase that was used";
        var wrong = await Restore(file, restored, restoredDb);
        wrong.ExitCode.ShouldNotBe(0);
        wrong.Stderr.ShouldContain("error: wrong passphrase or damaged file");
        wrong.Stderr.ShouldNotContain("   at ");
        Directory.Exists(restored).ShouldBeFalse();

        _home.Environment["MEDIC_BACKUP_PASSPHRASE"] = Passphrase;
        var damaged = Path.Combine(_home.Home, "damaged.backup");
        var bytes = await File.ReadAllBytesAsync(file);
        bytes[bytes.Length / 2] ^= 0x40;
        await File.WriteAllBytesAsync(damaged, bytes);
        var flipped = await Restore(damaged, restored, restoredDb);
        flipped.ExitCode.ShouldNotBe(0);
        flipped.Stderr.ShouldContain("damaged file");
        Directory.Exists(restored).ShouldBeFalse();

        var restore = await Restore(file, restored, restoredDb);

        restore.ExitCode.ShouldBe(0, restore.ToString());
        restore.Stdout.ShouldContain("Restored the backup");
        if (restoredDb is not null) _home.Environment["MEDIC_DATABASE"] = restoredDb.ConnectionString;
        await using var again = await RunningServer.StartAsync(_home, "server", "--data", restored);
        (await _home.RunWithInputAsync(AdminPassword + "\n", "login", "--server", again.Url, "--password-stdin")).ExitCode.ShouldBe(0);
        var incidents = await _home.RunAsync("incidents", "list", "--json");
        incidents.Stdout.ShouldContain("Round-trip incident on db-1");
        (await _home.RunAsync("secrets", "list")).Stdout.ShouldContain("db-password");
        var verify = await _home.RunAsync("audit", "verify", "--all");
        verify.ExitCode.ShouldBe(0, verify.ToString());
    }

    private Task<CliRun> Restore(string file, string dir, PostgresDatabase? db) => db is null
        ? _home.RunAsync("restore", file, "--data", dir)
        : _home.RunAsync("restore", file, "--data", dir, "--database", db.ConnectionString);

    public void Dispose() => _home.Dispose();
}
