using BenchmarkDotNet.Attributes;
using HdrHistogram;
using HighPerfInference.LoadGen.Measurement;

namespace HighPerfInference.Benchmarks;

/// <summary>
/// The load generator's latency histogram against HdrHistogram 2.5.0's LongHistogram at the same resolution
/// (3 significant digits, values up to 2^40 ns): recording one value, and reading the p99 of a million.
/// The values are a fixed pseudo-random spread of 10 µs to 10 ms latencies, in nanoseconds.
/// </summary>
[MemoryDiagnoser]
public class LatencyHistogramBenchmarks
{
    private const int Values = 1 << 16;
    private readonly long[] _values = new long[Values];
    private readonly LatencyHistogram _ours = new();
    private readonly LongHistogram _hdr = new(1L << 40, 3);
    private int _next;

    [GlobalSetup]
    public void Setup()
    {
        var random = new Random(42);
        for (var i = 0; i < Values; i++)
            _values[i] = (long)(10_000 * Math.Pow(1000, random.NextDouble()));
        for (var i = 0; i < 1_000_000; i++)
        {
            _ours.Record(_values[i & (Values - 1)]);
            _hdr.RecordValue(_values[i & (Values - 1)]);
        }
    }

    [Benchmark(Baseline = true)]
    public void RecordOurs() => _ours.Record(_values[_next++ & (Values - 1)]);

    [Benchmark]
    public void RecordHdrHistogram() => _hdr.RecordValue(_values[_next++ & (Values - 1)]);

    [Benchmark]
    public long P99Ours() => _ours.ValueAtPercentile(99);

    [Benchmark]
    public long P99HdrHistogram() => _hdr.GetValueAtPercentile(99);
}
