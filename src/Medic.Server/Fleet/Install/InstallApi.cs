using System.Text.RegularExpressions;
using Medic.Contracts;
using Medic.Server.Auth;
using Medic.Server.Common;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;

namespace Medic.Server.Fleet.Install;

/// <summary>
/// The one-line install: <c>/install.sh</c> and the agent binaries it downloads, both public because a
/// server without credentials fetches them (everything they do needs an enrollment token), and the
/// list of binaries for signed-in users.
/// </summary>
internal static partial class InstallApi
{
    public const string ScriptPath = "/install.sh";

    private static readonly Lazy<string> Template = new(() =>
    {
        using var stream = typeof(InstallApi).Assembly.GetManifestResourceStream("install/install.sh")
            ?? throw new InvalidOperationException("the install.sh resource is missing from the build");
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd();
    });

    /// <summary>What may stand between the quotes of <c>MEDIC_URL='...'</c> in the script: no quote, space or shell character.</summary>
    [GeneratedRegex(@"^https?://[A-Za-z0-9.\-]+(:[0-9]{1,5})?(/[A-Za-z0-9._~\-/]*)?$")]
    private static partial Regex ScriptableUrl();

    [GeneratedRegex(@"^medic-agent-linux-(?<arch>[a-z0-9]+)(?<part>\.sha256|\.sig)?$")]
    private static partial Regex BinaryFile();

    public static IServiceCollection AddInstall(this IServiceCollection services) => services.AddSingleton<AgentBinaries>();

    public static IEndpointRouteBuilder MapInstall(this IEndpointRouteBuilder app)
    {
        app.MapGet(ScriptPath, Script).AllowAnonymous().WithTags("Agent")
            .WithSummary("The agent install script, with this control plane's address and task-signing key filled in.");
        app.MapGet("/agent/{file}", Binary).AllowAnonymous().WithTags("Agent")
            .WithSummary("An agent binary (medic-agent-linux-x64, -arm64), or its SHA-256 (.sha256) or signature (.sig).");
        app.MapGet("/api/v1/agent-binaries", List).Requires(Permission.Read).WithTags("Fleet")
            .WithSummary("The agent binaries this control plane serves: os, arch, version, SHA-256, size, signature.");
        return app;
    }

    /// <summary>The script with the control plane's address and signing key in it; the address is <c>public_url</c>, or the one the request came to.</summary>
    public static string Render(string url, string signingKeyPem) =>
        Template.Value.Replace("@@MEDIC_URL@@", url, StringComparison.Ordinal).Replace("@@SIGNING_PUBLIC_KEY@@", signingKeyPem.Trim(), StringComparison.Ordinal);

    private static Results<ContentHttpResult, ProblemHttpResult> Script(HttpContext http, IOptions<MedicOptions> options, TaskSigningKey signing)
    {
        var url = (options.Value.PublicUrl is { Length: > 0 } configured ? configured : $"{http.Request.Scheme}://{http.Request.Host}{http.Request.PathBase}").TrimEnd('/');
        if (!ScriptableUrl().IsMatch(url))
        {
            return Problems.Of(StatusCodes.Status400BadRequest, "Invalid request", $"'{url}' cannot be written into the install script as the control plane's address.",
                "set public_url (MEDIC_PUBLIC_URL) to the address servers reach the control plane at, e.g. https://medic.example.com");
        }

        http.Response.Headers.CacheControl = "no-store";
        return TypedResults.Text(Render(url, signing.PublicKeyPem), "text/x-shellscript; charset=utf-8");
    }

    private static Results<FileStreamHttpResult, ContentHttpResult, ProblemHttpResult> Binary(string file, AgentBinaries binaries, HttpContext http)
    {
        var match = BinaryFile().Match(file);
        if (!match.Success || !AgentBinaries.Arches.Contains(match.Groups["arch"].Value))
        {
            return Problems.Of(StatusCodes.Status404NotFound, "Not found", $"No agent file '{file}' is served here.",
                $"ask for one of: {string.Join(", ", AgentBinaries.Arches.Select(AgentBinaries.FileName))}, with .sha256 or .sig for its digest or signature");
        }

        var arch = match.Groups["arch"].Value;
        if (binaries.Find(arch) is not { } binary)
        {
            return Problems.Of(StatusCodes.Status404NotFound, "Not found", $"This control plane has no agent binary for linux-{arch}.",
                $"put {AgentBinaries.FileName(arch)} in {string.Join(" or ", binaries.Directories)}{(binaries.Directories.Count > 1 ? " (or set agent_binaries)" : "")}; a release build carries it in agent/ beside medic (docs/install.md)");
        }

        switch (match.Groups["part"].Value)
        {
            case ".sha256":
                return TypedResults.Text($"{binary.Sha256}  {binary.FileName}\n", "text/plain; charset=utf-8");
            case ".sig":
                return TypedResults.Text(binary.Signature, "text/plain; charset=utf-8");
        }

        Stream stream;
        try
        {
            stream = File.OpenRead(binary.Path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return Problems.Of(StatusCodes.Status404NotFound, "Not found", $"The agent binary for linux-{arch} cannot be read: {e.Message}",
                $"make {binary.Path} readable by the control plane's user");
        }

        http.Response.Headers["X-Medic-Sha256"] = binary.Sha256;
        http.Response.Headers["X-Medic-Signature"] = binary.Signature;
        http.Response.Headers["X-Medic-Version"] = binary.Version;
        return TypedResults.Stream(stream, "application/octet-stream", binary.FileName);
    }

    private static Ok<IReadOnlyList<AgentBinaryResponse>> List(AgentBinaries binaries) =>
        TypedResults.Ok<IReadOnlyList<AgentBinaryResponse>>([.. binaries.List().Select(b =>
            new AgentBinaryResponse("linux", b.Arch, b.Version, b.Sha256, b.Size, b.Signature, "/agent/" + b.FileName))]);
}
