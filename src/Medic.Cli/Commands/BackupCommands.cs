using System.CommandLine;
using System.Globalization;
using Medic.Server.Backup;

namespace Medic.Cli.Commands;

/// <summary>
/// <c>medic backup</c> (through the running server, encrypted here so the passphrase never leaves
/// this machine) and <c>medic restore</c> (offline, into an empty data directory). See docs/backup.md.
/// </summary>
internal static class BackupCommands
{
    public const string PassphraseVariable = "MEDIC_BACKUP_PASSPHRASE";

    public static Command Backup()
    {
        var output = new Option<string>("--output", "-o") { Description = "The encrypted backup file to write (must not exist yet)", Required = true };
        var command = new Command("backup", $"Back up the whole instance (database and keys) through the running server, encrypted with the passphrase in {PassphraseVariable} or typed (superadmins)") { output };
        command.SetAction(async (parse, ct) =>
        {
            var file = Path.GetFullPath(parse.GetValue(output)!);
            if (File.Exists(file) || Directory.Exists(file))
            {
                throw new CliException($"{file} already exists", "choose a new file name; a backup never overwrites a file");
            }

            var passphrase = Passphrase(confirm: true);
            if (passphrase.Length < BackupCipher.MinPassphraseLength)
            {
                throw new CliException($"the passphrase is shorter than {BackupCipher.MinPassphraseLength} characters", "choose a longer one; it is all that protects the keys in the backup");
            }

            using var client = Shared.RequireSession(parse).Client(Timeout.InfiniteTimeSpan);
            Console.Error.WriteLine("Asking the server for a consistent snapshot of the database and its keys...");
            using var response = await client.SendRawAsync(new HttpRequestMessage(HttpMethod.Post, "/api/v1/backup"), ct, HttpCompletionOption.ResponseHeadersRead);
            var total = response.Content.Headers.ContentLength;
            var partial = file + ".partial";
            long received = 0;
            try
            {
                await using (var target = new FileStream(partial, new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write, UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite }))
                {
                    await using (var sealing = BackupCipher.Encrypt(target, passphrase))
                    await using (var body = await response.Content.ReadAsStreamAsync(ct))
                    {
                        var progress = new Progress("Received", total);
                        var buffer = new byte[256 * 1024];
                        int n;
                        while ((n = await body.ReadAsync(buffer, ct)) > 0)
                        {
                            sealing.Write(buffer.AsSpan(0, n));
                            received += n;
                            progress.Report(received);
                        }

                        progress.Done(received);
                    }

                    if (total is { } expected && received != expected)
                    {
                        throw new IOException($"the server sent {received} of {expected} bytes");
                    }

                    target.Flush(flushToDisk: true);
                }

                File.Move(partial, file);
            }
            catch (Exception ex) when (ex is IOException or HttpRequestException or UnauthorizedAccessException)
            {
                File.Delete(partial);
                throw new CliException($"the backup was not written: {ex.Message}", "check the server's log and the free space here, then run 'medic backup' again");
            }
            catch
            {
                File.Delete(partial);
                throw;
            }

            Console.Out.WriteLine($"Backup written to {file} ({Mib(new FileInfo(file).Length)}, encrypted with AES-256-GCM).");
            Console.Out.WriteLine("Keep the passphrase apart from the file: without it the backup cannot be restored.");
            return ExitCodes.Ok;
        });
        return command;
    }

    public static Command Restore()
    {
        var file = new Argument<string>("file") { Description = "The backup file 'medic backup' wrote" };
        var data = new Option<string>("--data") { Description = "The data directory to restore into: new or empty", Required = true };
        var database = new Option<string?>("--database") { Description = "For a PostgreSQL backup: the empty PostgreSQL database to restore into (connection string or postgres:// URL)" };
        var command = new Command("restore", $"Restore a backup offline into an empty data directory (and, for PostgreSQL, an empty database); the passphrase comes from {PassphraseVariable} or is typed") { file, data, database };
        command.SetAction(async (parse, ct) =>
        {
            var path = parse.GetValue(file)!;
            if (!File.Exists(path)) throw new CliException($"no file '{path}'", "give the path of a file 'medic backup' wrote");
            var dir = Path.GetFullPath(parse.GetValue(data)!);
            var url = parse.GetValue(database);
            var passphrase = Passphrase(confirm: false);
            BackupManifest manifest;
            try
            {
                manifest = await BackupRestore.RestoreAsync(path, passphrase, dir, url, line => Console.Error.WriteLine(line), ct);
            }
            catch (BackupFileException ex)
            {
                throw new CliException(ex.Message, $"check the passphrase ({PassphraseVariable}) and that {path} is the whole file 'medic backup' wrote; nothing was restored");
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                throw new CliException($"cannot write into {dir}: {ex.Message}", "choose a directory you can write to, on a disk with room for the backup; nothing was restored");
            }

            Console.Out.WriteLine($"Restored the backup of {manifest.CreatedAt.UtcDateTime:yyyy-MM-dd HH:mm} UTC into {dir}" + (url is null ? "." : " and the database."));
            Console.Out.WriteLine(url is null
                ? $"Start it with: medic server --data {dir}"
                : $"Start it with: MEDIC_DATABASE='<the same connection string>' medic server --data {dir}");
            return ExitCodes.Ok;
        });
        return command;
    }

    /// <summary>From the environment, or typed on the terminal (twice for a new backup); never from a flag, which would land in shell history.</summary>
    private static string Passphrase(bool confirm)
    {
        if (Environment.GetEnvironmentVariable(PassphraseVariable) is { Length: > 0 } fromEnvironment) return fromEnvironment;
        if (Console.IsInputRedirected)
        {
            throw new CliException($"no backup passphrase: {PassphraseVariable} is not set and there is no terminal to type it on",
                $"set {PassphraseVariable}, or run the command on a terminal");
        }

        var typed = Shared.PromptSecret("Backup passphrase (not shown): ");
        if (confirm && Shared.PromptSecret("Type it again: ") != typed)
        {
            throw new CliException("the two passphrases differ", "run the command again and type the same passphrase twice");
        }

        return typed;
    }

    private static string Mib(long bytes) => (bytes / 1024.0 / 1024.0).ToString("0.0", CultureInfo.InvariantCulture) + " MiB";

    /// <summary>Progress on standard error: a rewritten line on a terminal, a line per quarter otherwise.</summary>
    private sealed class Progress(string verb, long? total)
    {
        private readonly bool _terminal = !Console.IsErrorRedirected;
        private int _lastQuarter;
        private long _lastPrinted;

        public void Report(long done)
        {
            if (_terminal)
            {
                if (done - _lastPrinted < 1024 * 1024) return;
                _lastPrinted = done;
                Console.Error.Write($"\r{Line(done)}   ");
                return;
            }

            if (total is > 0 && done * 4 / total.Value is var quarter && quarter > _lastQuarter && quarter < 4)
            {
                _lastQuarter = (int)quarter;
                Console.Error.WriteLine(Line(done));
            }
        }

        public void Done(long done)
        {
            if (_terminal) Console.Error.Write("\r");
            Console.Error.WriteLine(Line(done) + "   ");
        }

        private string Line(long done) => total is > 0
            ? $"{verb} {Mib(done)} of {Mib(total.Value)} ({done * 100 / total.Value}%)"
            : $"{verb} {Mib(done)}";
    }
}
