namespace Medic.Server.Detection.Forecasting;

/// <summary>One observation of a quantity that may grow toward a capacity: bytes on a mount, a process's resident memory.</summary>
internal readonly record struct TrendSample(DateTimeOffset At, double Value);
