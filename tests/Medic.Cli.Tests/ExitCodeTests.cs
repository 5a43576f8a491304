namespace Medic.Cli.Tests;

public sealed class ExitCodeTests
{
    [Theory]
    [InlineData(400, ExitCodes.Usage)]
    [InlineData(409, ExitCodes.Usage)]
    [InlineData(413, ExitCodes.Usage)]
    [InlineData(401, ExitCodes.Auth)]
    [InlineData(403, ExitCodes.Auth)]
    [InlineData(404, ExitCodes.NotFound)]
    [InlineData(429, ExitCodes.RateLimited)]
    [InlineData(500, ExitCodes.ServerError)]
    [InlineData(503, ExitCodes.ServerError)]
    public void Http_statuses_map_to_the_documented_exit_codes(int status, int exit) => ExitCodes.ForStatus(status).ShouldBe(exit);
}
