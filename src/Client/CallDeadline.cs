using System.Diagnostics;

namespace HighPerfInference.Client;

/// <summary>The deadline of one call, retries and backoff included, started when the call starts.</summary>
internal readonly struct CallDeadline(TimeSpan timeout)
{
    private readonly long _started = Stopwatch.GetTimestamp();

    /// <summary>Time left: <see cref="Timeout.InfiniteTimeSpan"/> for no deadline, zero once it passed.</summary>
    public TimeSpan Left
    {
        get
        {
            if (timeout == Timeout.InfiniteTimeSpan)
                return timeout;
            var left = timeout - Stopwatch.GetElapsedTime(_started);
            return left > TimeSpan.Zero ? left : TimeSpan.Zero;
        }
    }
}
