using System.Diagnostics;
using HighPerfInference.LoadGen.Cli;
using HighPerfInference.LoadGen.Scheduling;

namespace HighPerfInference.LoadGen.Tests;

// The schedule is generated and checked as numbers; nothing here waits or times anything.
public class ArrivalScheduleTests
{
    [Theory]
    [InlineData(100.0)]
    [InlineData(5_000.0)]
    [InlineData(1_000_000.0)]
    public void Poisson_gaps_have_the_mean_and_spread_of_an_exponential(double rate)
    {
        var schedule = new ArrivalSchedule(rate, ArrivalDistribution.Poisson, seed: 42, startTimestamp: 0);
        const int count = 400_000;
        double sum = 0, sumOfSquares = 0;
        var underMean = 0;
        for (var i = 0; i < count; i++)
        {
            var gap = schedule.NextGapSeconds();
            Assert.True(gap >= 0);
            sum += gap;
            sumOfSquares += gap * gap;
            if (gap < 1 / rate)
                underMean++;
        }
        var mean = sum / count;
        var deviation = Math.Sqrt((sumOfSquares / count) - (mean * mean));
        Assert.InRange(mean * rate, 0.99, 1.01);            // mean gap 1/rate
        Assert.InRange(deviation / mean, 0.98, 1.02);       // exponential: standard deviation = mean
        Assert.InRange((double)underMean / count, 0.627, 0.637);  // P(gap < mean) = 1 - 1/e = 0.632
    }

    [Fact]
    public void Poisson_counts_per_window_have_variance_equal_to_their_mean()
    {
        // 10,000 windows of 1 s at 50 requests/s: counts are Poisson(50), so variance ≈ mean ≈ 50.
        var schedule = new ArrivalSchedule(50, ArrivalDistribution.Poisson, seed: 3, startTimestamp: 0);
        var counts = new int[10_000];
        var due = schedule.NextDueTimestamp();
        while (true)
        {
            var window = due / Stopwatch.Frequency;
            if (window >= counts.Length)
                break;
            counts[window]++;
            due = schedule.NextDueTimestamp();
        }
        double mean = 0, variance = 0;
        foreach (var c in counts)
            mean += c;
        mean /= counts.Length;
        foreach (var c in counts)
            variance += (c - mean) * (c - mean);
        variance /= counts.Length - 1;
        Assert.InRange(mean, 49.5, 50.5);
        Assert.InRange(variance / mean, 0.95, 1.05);
    }

    [Fact]
    public void Constant_arrivals_are_evenly_spaced_and_do_not_drift()
    {
        var start = 1_000_000L;
        var schedule = new ArrivalSchedule(3_000, ArrivalDistribution.Constant, seed: 1, startTimestamp: start);
        long due = 0;
        for (var i = 1; i <= 3_000_000; i++)
            due = schedule.NextDueTimestamp();
        // 3,000,000 requests at 3,000/s end at exactly 1,000 s, to within a tick of rounding.
        Assert.InRange(due - start, (1_000 * Stopwatch.Frequency) - 1, (1_000 * Stopwatch.Frequency) + 1);
    }

    [Fact]
    public void The_same_seed_gives_the_same_schedule()
    {
        var a = new ArrivalSchedule(1_000, ArrivalDistribution.Poisson, seed: 9, startTimestamp: 0);
        var b = new ArrivalSchedule(1_000, ArrivalDistribution.Poisson, seed: 9, startTimestamp: 0);
        for (var i = 0; i < 1_000; i++)
            Assert.Equal(a.NextDueTimestamp(), b.NextDueTimestamp());
    }
}
