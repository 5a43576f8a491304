namespace Medic.Server.Detection.Forecasting;

/// <summary>Order statistics in linear expected time, by selection in place (Hoare's quickselect).</summary>
internal static class Medians
{
    /// <summary>The median of <paramref name="values"/>, which it reorders; NaN when empty.</summary>
    public static double Of(Span<double> values)
    {
        int n = values.Length;
        if (n == 0)
        {
            return double.NaN;
        }

        double upper = Select(values, n / 2);
        if (n % 2 == 1)
        {
            return upper;
        }

        // After selecting n/2 everything before it is no larger, so the lower middle is their maximum.
        double lower = values[0];
        for (int i = 1; i < n / 2; i++)
        {
            lower = Math.Max(lower, values[i]);
        }

        return (lower + upper) / 2;
    }

    /// <summary>The median absolute deviation from <paramref name="center"/>; uses <paramref name="scratch"/> for the deviations.</summary>
    public static double AbsoluteDeviation(ReadOnlySpan<double> values, double center, Span<double> scratch)
    {
        for (int i = 0; i < values.Length; i++)
        {
            scratch[i] = Math.Abs(values[i] - center);
        }

        return Of(scratch[..values.Length]);
    }

    /// <summary>
    /// Reorders <paramref name="values"/> so that index <paramref name="k"/> holds the value a sort
    /// would put there, nothing larger before it and nothing smaller after it; returns that value.
    /// </summary>
    public static double Select(Span<double> values, int k)
    {
        int left = 0, right = values.Length - 1;
        while (right > left)
        {
            // Median of three as the pivot keeps sorted and nearly sorted input (common here) linear.
            int mid = left + ((right - left) / 2);
            if (values[mid] < values[left]) Swap(values, mid, left);
            if (values[right] < values[left]) Swap(values, right, left);
            if (values[right] < values[mid]) Swap(values, right, mid);
            double pivot = values[mid];

            int i = left, j = right;
            while (i <= j)
            {
                while (values[i] < pivot) i++;
                while (values[j] > pivot) j--;
                if (i <= j)
                {
                    Swap(values, i, j);
                    i++;
                    j--;
                }
            }

            if (k <= j) right = j;
            else if (k >= i) left = i;
            else break;
        }

        return values[k];
    }

    private static void Swap(Span<double> values, int a, int b) => (values[a], values[b]) = (values[b], values[a]);
}
