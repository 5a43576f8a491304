namespace Medic.Server.Tests.Infrastructure;

/// <summary>Both storage dialects, for <c>[MemberData(nameof(Dialects.Both), MemberType = typeof(Dialects))]</c>.</summary>
public static class Dialects
{
    public static TheoryData<string> Both => new(TestDatabase.Sqlite, TestDatabase.Postgres);
}
