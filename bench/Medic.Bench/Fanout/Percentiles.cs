namespace Medic.Bench.Fanout;

/// <summary>Nearest-rank percentiles of a set of latencies in milliseconds.</summary>
internal sealed class Percentiles
{
    private readonly double[] _sorted;

    public Percentiles(IEnumerable<double> values)
    {
        _sorted = values.ToArray();
        Array.Sort(_sorted);
    }

    public int Count => _sorted.Length;

    public double P50 => At(50);

    public double P95 => At(95);

    public double P99 => At(99);

    public double Max => _sorted.Length == 0 ? double.NaN : _sorted[^1];

    public double At(double percent) =>
        _sorted.Length == 0 ? double.NaN : _sorted[Math.Clamp((int)Math.Ceiling(percent / 100 * _sorted.Length) - 1, 0, _sorted.Length - 1)];

    public override string ToString() => $"p50 {P50,6:F0}  p95 {P95,6:F0}  p99 {P99,6:F0}  max {Max,6:F0}";
}
