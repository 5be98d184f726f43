using System.Diagnostics;

namespace HighPerfInference.Server.Scheduling;

/// <summary>
/// Durations counted in fixed buckets, the shape of a Prometheus histogram. Any thread may record:
/// a short search and two Interlocked adds, no allocation.
/// </summary>
public sealed class DurationHistogram
{
    /// <summary>
    /// Upper bounds in seconds: fine between 10 µs and 2 ms, where batches and answers of small
    /// models land (a p99 read from them is off by at most one bucket's width), coarser up to 10 s.
    /// </summary>
    public static readonly IReadOnlyList<double> DefaultBounds =
    [
        0.00001, 0.000025, 0.00005, 0.0001, 0.0002, 0.0003, 0.0004, 0.0005, 0.00075, 0.001, 0.00125, 0.0015, 0.002, 0.003,
        0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10,
    ];

    private readonly IReadOnlyList<double> _bounds;
    private readonly long[] _boundTicks;
    // One more than the bounds: the last counts what is above every bound.
    private readonly long[] _counts;
    private long _sumTicks;

    public DurationHistogram(IReadOnlyList<double>? bounds = null)
    {
        _bounds = bounds ?? DefaultBounds;
        _boundTicks = new long[_bounds.Count];
        for (var b = 0; b < _boundTicks.Length; b++)
        {
            if (b > 0 && _bounds[b] <= _bounds[b - 1])
                throw new ArgumentException("bucket bounds must ascend", nameof(bounds));
            _boundTicks[b] = (long)Math.Ceiling(_bounds[b] * Stopwatch.Frequency);
        }
        _counts = new long[_bounds.Count + 1];
    }

    /// <summary>Counts one duration of <paramref name="ticks"/> (<see cref="Stopwatch"/> ticks).</summary>
    public void Record(long ticks)
    {
        var bucket = 0;
        while (bucket < _boundTicks.Length && ticks > _boundTicks[bucket])
            bucket++;
        Interlocked.Increment(ref _counts[bucket]);
        Interlocked.Add(ref _sumTicks, ticks);
    }

    /// <summary>The sum of every duration recorded, in <see cref="Stopwatch"/> ticks.</summary>
    public long SumTicks => Volatile.Read(ref _sumTicks);

    public DurationHistogramSnapshot Snapshot()
    {
        var counts = new long[_counts.Length];
        for (var b = 0; b < counts.Length; b++)
            counts[b] = Volatile.Read(ref _counts[b]);
        return new DurationHistogramSnapshot(_bounds, counts, (double)SumTicks / Stopwatch.Frequency);
    }
}

/// <summary>
/// A histogram read at one moment: <see cref="Counts"/> per bucket (not cumulative), the last one
/// above every bound; <see cref="SumSeconds"/> of everything recorded.
/// </summary>
public sealed record DurationHistogramSnapshot(IReadOnlyList<double> Bounds, IReadOnlyList<long> Counts, double SumSeconds)
{
    public long Count
    {
        get
        {
            long count = 0;
            foreach (var c in Counts)
                count += c;
            return count;
        }
    }
}
