using System.Diagnostics;
using HighPerfInference.Server.Scheduling;

namespace HighPerfInference.Server.Tests.Scheduling;

public sealed class DurationHistogramTests
{
    private static long Ticks(double seconds) => (long)Math.Round(seconds * Stopwatch.Frequency);

    [Fact]
    public void A_duration_counts_in_the_first_bucket_whose_bound_it_does_not_exceed()
    {
        var histogram = new DurationHistogram([0.001, 0.002, 0.005]);
        histogram.Record(Ticks(0.0005));
        histogram.Record(Ticks(0.001));   // on the bound: le is inclusive
        histogram.Record(Ticks(0.0015));
        histogram.Record(Ticks(0.004));
        histogram.Record(Ticks(0.004));
        histogram.Record(Ticks(7));       // above every bound

        var snapshot = histogram.Snapshot();
        Assert.Equal([0.001, 0.002, 0.005], snapshot.Bounds);
        Assert.Equal([2L, 1, 2, 1], snapshot.Counts);
        Assert.Equal(6, snapshot.Count);
        Assert.Equal(0.0005 + 0.001 + 0.0015 + 0.004 + 0.004 + 7, snapshot.SumSeconds, 1e-6);
    }

    [Fact]
    public void Records_from_many_threads_are_all_counted()
    {
        var histogram = new DurationHistogram();
        Parallel.For(0, 8, thread =>
        {
            for (var i = 0; i < 10_000; i++)
                histogram.Record(Ticks(0.00001 * (i % 300)));
        });
        Assert.Equal(80_000, histogram.Snapshot().Count);
    }

    [Fact]
    public void Bounds_must_ascend() =>
        Assert.Throws<ArgumentException>(() => new DurationHistogram([0.002, 0.001]));
}
