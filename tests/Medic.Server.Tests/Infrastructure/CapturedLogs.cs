using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;

namespace Medic.Server.Tests.Infrastructure;

public sealed record LogLine(LogLevel Level, string Category, string Message, Exception? Exception)
{
    public override string ToString() => $"{Level} {Category}: {Message}{(Exception is null ? "" : " " + Exception)}";
}

/// <summary>
/// The server's log, kept in memory instead of printed, so the suite stays quiet and a test can
/// check what the server logged (no unhandled errors, no secrets).
/// </summary>
public sealed class CapturedLogs : ILoggerProvider
{
    private readonly ConcurrentQueue<LogLine> _lines = new();

    public IReadOnlyList<LogLine> Lines => [.. _lines];

    public IReadOnlyList<LogLine> Errors => [.. _lines.Where(l => l.Level >= LogLevel.Error)];

    /// <summary>
    /// Errors other than the framework's report of a client's bad request (which the exception
    /// handler logs at Error level although it answers 4xx): what a 500 leaves behind.
    /// </summary>
    public IReadOnlyList<LogLine> ServerFaults => [.. Errors.Where(l => l.Exception is not Microsoft.AspNetCore.Http.BadHttpRequestException)];

    public ILogger CreateLogger(string categoryName) => new Logger(categoryName, _lines);

    public void Dispose()
    {
    }

    private sealed class Logger(string category, ConcurrentQueue<LogLine> lines) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => logLevel >= LogLevel.Debug;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
            lines.Enqueue(new LogLine(logLevel, category, formatter(state, exception), exception));
    }
}
