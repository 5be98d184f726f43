using System.Numerics;

namespace HighPerfInference.LoadGen.Measurement;

/// <summary>
/// A log-linear latency histogram in the manner of HdrHistogram (which the registry here lacks):
/// values 0..2047 ns have a counter each, and every power of two above has 1024 linear
/// sub-buckets, so any recorded value is known to within 1/1024 (under 0.1%) of itself.
/// Record is a few shifts and one increment: no allocation, no lock. One instance belongs to
/// one writer (a connection loop); readers merge instances after the writers stopped.
/// </summary>
/// <remarks>
/// Layout of the counter array (value v in nanoseconds):
/// <code>
///   index 0 .. 2047           v itself                         (width 1)
///   index 2048 + 1024*k + s   v in [ (1024+s) &lt;&lt; (k+1), +2^(k+1) )  for k = 0 .. MaxExponent-11
/// </code>
/// Values at or above 2^MaxExponent ns (about 18 minutes) land in the last counter; the exact
/// maximum is kept apart.
/// </remarks>
public sealed class LatencyHistogram
{
    private const int SubBucketBits = 10;
    private const int SubBucketCount = 1 << SubBucketBits;     // linear steps per power of two
    private const int LinearLimit = SubBucketCount << 1;        // 2048: below it, one counter per value
    private const int MaxExponent = 40;                          // 2^40 ns ≈ 1,100 s
    private const int CounterCount = LinearLimit + ((MaxExponent - SubBucketBits - 1) * SubBucketCount);

    private readonly long[] _counts = new long[CounterCount];
    private long _totalCount;
    private long _min = long.MaxValue;
    private long _max;
    private double _sum;

    public long TotalCount => _totalCount;

    /// <summary>The smallest recorded value, exact; 0 when empty.</summary>
    public long Min => _totalCount == 0 ? 0 : _min;

    /// <summary>The largest recorded value, exact.</summary>
    public long Max => _max;

    public double Mean => _totalCount == 0 ? 0 : _sum / _totalCount;

    /// <summary>Counts one value (nanoseconds; negative values count as 0).</summary>
    public void Record(long value)
    {
        if (value < 0)
            value = 0;
        _counts[IndexOf(value)]++;
        _totalCount++;
        _sum += value;
        if (value < _min)
            _min = value;
        if (value > _max)
            _max = value;
    }

    /// <summary>Adds another histogram's counts into this one (workers merge after a run).</summary>
    public void Add(LatencyHistogram other)
    {
        var mine = _counts;
        var theirs = other._counts;
        for (var i = 0; i < mine.Length; i++)
            mine[i] += theirs[i];
        _totalCount += other._totalCount;
        _sum += other._sum;
        if (other._totalCount > 0)
        {
            _min = Math.Min(_min, other._min);
            _max = Math.Max(_max, other._max);
        }
    }

    public void Reset()
    {
        Array.Clear(_counts);
        _totalCount = 0;
        _sum = 0;
        _min = long.MaxValue;
        _max = 0;
    }

    /// <summary>
    /// The value at a percentile (0..100) by nearest rank: the smallest recorded value such that at
    /// least <paramref name="percentile"/>% of all values are at or below it. Reported as the highest
    /// value its counter stands for, capped by the exact maximum, so it never under-reports by more
    /// than one counter width (under 0.1%).
    /// </summary>
    public long ValueAtPercentile(double percentile)
    {
        if (_totalCount == 0)
            return 0;
        var rank = (long)Math.Ceiling(Math.Clamp(percentile, 0, 100) / 100 * _totalCount);
        if (rank < 1)
            rank = 1;
        long seen = 0;
        for (var i = 0; i < _counts.Length; i++)
        {
            seen += _counts[i];
            if (seen >= rank)
                return Math.Min(HighestValueAt(i), _max);
        }
        return _max;
    }

    internal static int IndexOf(long value)
    {
        if (value < LinearLimit)
            return (int)value;
        var exponent = 63 - BitOperations.LeadingZeroCount((ulong)value);   // >= 11
        if (exponent >= MaxExponent)
            return CounterCount - 1;
        var shift = exponent - SubBucketBits;
        var subBucket = (int)(value >> shift) - SubBucketCount;            // 0 .. 1023
        return LinearLimit + ((exponent - SubBucketBits - 1) * SubBucketCount) + subBucket;
    }

    internal static long LowestValueAt(int index)
    {
        if (index < LinearLimit)
            return index;
        var k = (index - LinearLimit) / SubBucketCount;
        var subBucket = (index - LinearLimit) % SubBucketCount;
        return (long)(SubBucketCount + subBucket) << (k + 1);
    }

    internal static long HighestValueAt(int index)
    {
        if (index < LinearLimit)
            return index;
        var k = (index - LinearLimit) / SubBucketCount;
        return index == CounterCount - 1 ? long.MaxValue : LowestValueAt(index) + (1L << (k + 1)) - 1;
    }
}
