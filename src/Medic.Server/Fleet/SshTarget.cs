using System.Buffers.Binary;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.RegularExpressions;

namespace Medic.Server.Fleet;

/// <summary>Where an agentless server listens: a host name or IP address and a port (22 unless given).</summary>
internal sealed record SshAddress(string Host, int Port)
{
    public const int DefaultPort = 22;

    /// <summary>The host as ssh writes it in known_hosts: <c>host</c> on port 22, <c>[host]:port</c> otherwise.</summary>
    public string KnownHostsPattern => Port == DefaultPort ? Host : $"[{Host}]:{Port.ToString(CultureInfo.InvariantCulture)}";

    public override string ToString() =>
        Port == DefaultPort && !Host.Contains(':', StringComparison.Ordinal) ? Host
        : Host.Contains(':', StringComparison.Ordinal) ? $"[{Host}]:{Port.ToString(CultureInfo.InvariantCulture)}"
        : $"{Host}:{Port.ToString(CultureInfo.InvariantCulture)}";
}

/// <summary>
/// The checks on what an admin gives to register an agentless server. Every value ends up as an
/// argument of the ssh client, so nothing that could read as an option (a leading '-') or a
/// second argument gets through.
/// </summary>
internal static partial class SshTarget
{
    /// <summary>Host key algorithms ssh writes in known_hosts.</summary>
    private static readonly HashSet<string> KeyTypes = new(StringComparer.Ordinal)
    {
        "ssh-ed25519", "ssh-rsa", "ssh-dss", "ecdsa-sha2-nistp256", "ecdsa-sha2-nistp384", "ecdsa-sha2-nistp521",
        "sk-ssh-ed25519@openssh.com", "sk-ecdsa-sha2-nistp256@openssh.com",
    };

    [GeneratedRegex(@"^(?=.{1,253}$)[A-Za-z0-9_]([A-Za-z0-9_-]{0,62})(\.[A-Za-z0-9_]([A-Za-z0-9_-]{0,62}))*\.?$")]
    private static partial Regex HostNamePattern();

    [GeneratedRegex("^[A-Za-z_][A-Za-z0-9_.-]{0,31}$")]
    private static partial Regex UserPattern();

    [GeneratedRegex("^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")]
    private static partial Regex KeyNamePattern();

    /// <summary>Parses <c>host</c>, <c>host:port</c>, <c>[v6]</c>, <c>[v6]:port</c> or a bare IPv6 address; null with the reason when it is none of them.</summary>
    public static SshAddress? ParseAddress(string text, out string? problem)
    {
        problem = null;
        string host;
        var portText = (string?)null;
        if (text.StartsWith('['))
        {
            var close = text.IndexOf(']', StringComparison.Ordinal);
            if (close < 0)
            {
                problem = $"'{text}' opens '[' without closing it; write [2001:db8::1]:22";
                return null;
            }

            host = text[1..close];
            var rest = text[(close + 1)..];
            if (rest.Length > 0)
            {
                if (!rest.StartsWith(':'))
                {
                    problem = $"'{text}' has something other than :PORT after ']'";
                    return null;
                }

                portText = rest[1..];
            }

            if (!IPAddress.TryParse(host, out var v6) || v6.AddressFamily != AddressFamily.InterNetworkV6)
            {
                problem = $"'{host}' in brackets is not an IPv6 address";
                return null;
            }
        }
        else if (text.Count(c => c == ':') > 1)
        {
            host = text;
            if (!IPAddress.TryParse(host, out _))
            {
                problem = $"'{text}' is not host, host:port or an IPv6 address";
                return null;
            }
        }
        else
        {
            var colon = text.IndexOf(':', StringComparison.Ordinal);
            host = colon < 0 ? text : text[..colon];
            portText = colon < 0 ? null : text[(colon + 1)..];
            if (!HostNamePattern().IsMatch(host))
            {
                problem = $"'{host}' is not a host name or IP address (letters, digits, '-', '_' and '.', not starting with '-')";
                return null;
            }
        }

        var port = SshAddress.DefaultPort;
        if (portText is not null && (!int.TryParse(portText, NumberStyles.None, CultureInfo.InvariantCulture, out port) || port is < 1 or > 65535))
        {
            problem = $"the port '{portText}' is not a number from 1 to 65535";
            return null;
        }

        return new SshAddress(host, port);
    }

    public static bool IsValidUser(string user) => UserPattern().IsMatch(user);

    public static bool IsValidKeyName(string name) => KeyNamePattern().IsMatch(name);

    /// <summary>
    /// Reads a host key given as a known_hosts line (<c>[host]:port type base64 [comment]</c>, the
    /// host part is ignored: Medic writes its own) or as <c>type base64</c>; returns it normalised as
    /// <c>type base64</c>, or null with the reason.
    /// </summary>
    public static string? ParseHostKey(string text, out string? problem)
    {
        problem = null;
        var fields = text.Split([' ', '\t'], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        if (fields.Length > 0 && fields[0].StartsWith('@'))
        {
            problem = $"{fields[0]} lines are not supported; give the server's own host key";
            return null;
        }

        var at = fields.Length >= 2 && KeyTypes.Contains(fields[0]) ? 0 : fields.Length >= 3 && KeyTypes.Contains(fields[1]) ? 1 : -1;
        if (at < 0)
        {
            problem = "write it as a known_hosts line or 'TYPE BASE64', e.g. the output of 'ssh-keyscan -t ed25519 HOST' (types: " + string.Join(", ", KeyTypes.Order(StringComparer.Ordinal)) + ")";
            return null;
        }

        var type = fields[at];
        byte[] blob;
        try
        {
            blob = Convert.FromBase64String(fields[at + 1]);
        }
        catch (FormatException)
        {
            problem = $"the {type} key is not valid base64";
            return null;
        }

        // The blob starts with its own type name (uint32 length + bytes): a key pasted under the wrong type is caught here.
        var nameLength = blob.Length < 4 ? uint.MaxValue : BinaryPrimitives.ReadUInt32BigEndian(blob);
        if (nameLength > (uint)blob.Length - 4 || Encoding.ASCII.GetString(blob, 4, (int)nameLength) != type)
        {
            problem = $"the key data is not a {type} key";
            return null;
        }

        return $"{type} {fields[at + 1]}";
    }

    /// <summary>The SHA256 fingerprint ssh prints for a host key (<c>type base64</c>).</summary>
    public static string Fingerprint(string hostKey)
    {
        var blob = Convert.FromBase64String(hostKey[(hostKey.IndexOf(' ', StringComparison.Ordinal) + 1)..]);
        return "SHA256:" + Convert.ToBase64String(System.Security.Cryptography.SHA256.HashData(blob)).TrimEnd('=');
    }
}
