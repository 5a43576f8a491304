using Medic.Server.Auth;
using Microsoft.AspNetCore.Components;

namespace Medic.Server.Web.Pages;

/// <summary>
/// The sign-in form, rendered statically so the answer to its post can set the session cookie.
/// The post goes to <see cref="ConsolePages"/>' POST /login (rate-limited, audited), which on
/// failure comes back here with an error code.
/// </summary>
public partial class Login
{
    internal const string WrongCredentials = "credentials";
    internal const string TooLong = "too-long";
    internal const string TooManyAttempts = "too-many";

    [SupplyParameterFromQuery(Name = "ReturnUrl")] private string? ReturnUrl { get; set; }

    [SupplyParameterFromQuery(Name = "tenant")] private string? Tenant { get; set; }

    [SupplyParameterFromQuery(Name = "error")] private string? ErrorCode { get; set; }

    private string? Error => ErrorCode switch
    {
        null or "" => null,
        TooLong => "A field is too long.",
        TooManyAttempts => "Too many sign-in attempts from this address. Wait a minute, then try again.",
        _ => Accounts.WrongCredentials,
    };

    private string? ReturnTo => ConsolePages.LocalPath(ReturnUrl);
}
