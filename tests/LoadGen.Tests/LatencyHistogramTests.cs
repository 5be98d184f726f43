using HighPerfInference.LoadGen.Measurement;

namespace HighPerfInference.LoadGen.Tests;

public class LatencyHistogramTests
{
    private static readonly double[] s_percentiles = [0, 1, 10, 25, 50, 75, 90, 95, 99, 99.9, 99.99, 100];

    public static TheoryData<string> Distributions => ["uniform-small", "uniform-wide", "lognormal", "bimodal"];

    [Theory]
    [MemberData(nameof(Distributions))]
    public void Percentiles_match_a_sorted_reference_within_one_counter(string distribution)
    {
        var random = new Random(distribution.GetHashCode(StringComparison.Ordinal));
        var values = new long[200_000];
        for (var i = 0; i < values.Length; i++)
            values[i] = Sample(distribution, random);
        var histogram = new LatencyHistogram();
        foreach (var value in values)
            histogram.Record(value);
        Array.Sort(values);

        foreach (var p in s_percentiles)
        {
            var rank = Math.Max(1, (long)Math.Ceiling(p / 100 * values.Length));
            var exact = values[rank - 1];
            var reported = histogram.ValueAtPercentile(p);
            // Never below the exact value, and above it by at most one counter's width (1/1024 of it).
            Assert.InRange(reported, exact, exact + (exact / 1024) + 1);
        }
        Assert.Equal(values[0], histogram.Min);
        Assert.Equal(values[^1], histogram.Max);
        Assert.Equal(values.Length, histogram.TotalCount);
        Assert.Equal(Mean(values), histogram.Mean, 6);
    }

    [Fact]
    public void Merged_histograms_equal_one_that_saw_everything()
    {
        var random = new Random(7);
        var parts = new[] { new LatencyHistogram(), new LatencyHistogram(), new LatencyHistogram() };
        var whole = new LatencyHistogram();
        for (var i = 0; i < 30_000; i++)
        {
            var value = Sample("lognormal", random);
            parts[i % parts.Length].Record(value);
            whole.Record(value);
        }
        var merged = new LatencyHistogram();
        foreach (var part in parts)
            merged.Add(part);

        Assert.Equal(whole.TotalCount, merged.TotalCount);
        Assert.Equal(whole.Min, merged.Min);
        Assert.Equal(whole.Max, merged.Max);
        foreach (var p in s_percentiles)
            Assert.Equal(whole.ValueAtPercentile(p), merged.ValueAtPercentile(p));
    }

    [Fact]
    public void Counters_cover_every_value_once_without_gaps()
    {
        // Walk the counter boundaries: each counter's lowest value maps back to it, and the next
        // counter starts one past the previous one's highest value.
        long expectedLowest = 0;
        for (var index = 0; LatencyHistogram.LowestValueAt(index) < (1L << 40); index++)
        {
            Assert.Equal(expectedLowest, LatencyHistogram.LowestValueAt(index));
            Assert.Equal(index, LatencyHistogram.IndexOf(LatencyHistogram.LowestValueAt(index)));
            Assert.Equal(index, LatencyHistogram.IndexOf(LatencyHistogram.HighestValueAt(index)));
            expectedLowest = LatencyHistogram.HighestValueAt(index) + 1;
        }
    }

    [Fact]
    public void Huge_and_negative_values_are_clamped_not_lost()
    {
        var histogram = new LatencyHistogram();
        histogram.Record(-5);
        histogram.Record(long.MaxValue / 2);
        Assert.Equal(2, histogram.TotalCount);
        Assert.Equal(0, histogram.Min);
        Assert.Equal(long.MaxValue / 2, histogram.Max);
        Assert.Equal(long.MaxValue / 2, histogram.ValueAtPercentile(100));
    }

    [Fact]
    public void An_empty_histogram_reports_zeros()
    {
        var histogram = new LatencyHistogram();
        Assert.Equal(0, histogram.ValueAtPercentile(99));
        Assert.Equal(0, histogram.Min);
        Assert.Equal(0, histogram.Mean);
    }

    [Fact]
    public void Record_allocates_nothing()
    {
        var histogram = new LatencyHistogram();
        histogram.Record(1);
        var before = GC.GetAllocatedBytesForCurrentThread();
        for (long i = 0; i < 100_000; i++)
            histogram.Record(i * 997);
        Assert.Equal(before, GC.GetAllocatedBytesForCurrentThread());
    }

    private static long Sample(string distribution, Random random) => distribution switch
    {
        "uniform-small" => random.NextInt64(0, 5_000),
        "uniform-wide" => random.NextInt64(0, 10_000_000_000),
        // Latency-like: median ~50 us, a long tail to tens of ms.
        "lognormal" => (long)Math.Exp(10.8 + (1.5 * Gaussian(random))),
        _ => random.Next(10) == 0 ? random.NextInt64(5_000_000, 50_000_000) : random.NextInt64(20_000, 40_000),
    };

    private static double Gaussian(Random random) =>
        Math.Sqrt(-2 * Math.Log(1 - random.NextDouble())) * Math.Cos(2 * Math.PI * random.NextDouble());

    private static double Mean(long[] values)
    {
        double sum = 0;
        foreach (var value in values)
            sum += value;
        return sum / values.Length;
    }
}
