using System.Diagnostics;
using HighPerfInference.LoadGen.Cli;

namespace HighPerfInference.LoadGen.Scheduling;

/// <summary>
/// When each open-loop request is due. Poisson arrivals (exponential gaps) model many independent
/// clients; constant gaps model a metronome. Times accumulate in seconds from the start, so rounding
/// never drifts the rate. Each latency is measured from the due time, not the actual send: a
/// generator or server that falls behind shows the queueing it caused instead of hiding it
/// (coordinated omission). Constant arrivals are computed as n × gap, so they never drift.
/// </summary>
public sealed class ArrivalSchedule
{
    private readonly double _meanGapSeconds;
    private readonly ArrivalDistribution _distribution;
    private readonly Random _random;
    private readonly long _startTimestamp;
    private double _elapsedSeconds;
    private long _count;

    public ArrivalSchedule(double requestsPerSecond, ArrivalDistribution distribution, int seed, long startTimestamp)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(requestsPerSecond);
        _meanGapSeconds = 1.0 / requestsPerSecond;
        _distribution = distribution;
        _random = new Random(seed);
        _startTimestamp = startTimestamp;
    }

    /// <summary>The gap before the next request, in seconds.</summary>
    public double NextGapSeconds() => _distribution switch
    {
        // Inverse transform of the exponential distribution; 1 - U lies in (0, 1], so the log is finite.
        ArrivalDistribution.Poisson => -Math.Log(1.0 - _random.NextDouble()) * _meanGapSeconds,
        _ => _meanGapSeconds,
    };

    /// <summary>The Stopwatch timestamp at which the next request is due.</summary>
    public long NextDueTimestamp()
    {
        _count++;
        _elapsedSeconds = _distribution == ArrivalDistribution.Constant ? _count * _meanGapSeconds : _elapsedSeconds + NextGapSeconds();
        return _startTimestamp + (long)(_elapsedSeconds * Stopwatch.Frequency);
    }
}
