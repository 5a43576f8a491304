namespace Medic.Server.Tests.Infrastructure;

/// <summary>The checkout the tests run from, for the tests that read its sources and docs.</summary>
public static class Repository
{
    /// <summary>The folder holding Medic.slnx, above the test binaries.</summary>
    public static string Root()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "Medic.slnx"))) dir = dir.Parent;
        return dir?.FullName ?? throw new InvalidOperationException("Cannot find the repository root (Medic.slnx) above " + AppContext.BaseDirectory);
    }
}
