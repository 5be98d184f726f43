using HighPerfInference.Protocol;

namespace HighPerfInference.Client;

/// <summary>
/// When and how often a failed call is sent again. A call is retried only when its error is
/// retryable (<see cref="ErrorCodes.IsRetryable"/>, or <see cref="RetryOn"/> when set), attempts
/// remain, and the call's deadline leaves room for the backoff. Inference is a pure function of
/// its inputs, so sending a request twice is safe.
/// </summary>
public sealed record RetryPolicy
{
    /// <summary>No retries: every error reaches the caller.</summary>
    public static RetryPolicy None { get; } = new() { MaxAttempts = 1 };

    /// <summary>Four attempts, exponential backoff from 10 ms to 1 s with full jitter.</summary>
    public static RetryPolicy Default { get; } = new();

    /// <summary>Attempts in total, the first included. 1 disables retries.</summary>
    public int MaxAttempts { get; init; } = 4;

    /// <summary>The delay before the second attempt; later ones grow by <see cref="BackoffMultiplier"/>.</summary>
    public TimeSpan InitialBackoff { get; init; } = TimeSpan.FromMilliseconds(10);

    public TimeSpan MaxBackoff { get; init; } = TimeSpan.FromSeconds(1);

    public double BackoffMultiplier { get; init; } = 2;

    /// <summary>
    /// Full jitter (a uniform delay between zero and the backoff) so that thousands of callers
    /// refused together do not come back together.
    /// </summary>
    public bool Jitter { get; init; } = true;

    /// <summary>Overrides which codes are retried; null uses <see cref="ErrorCodes.IsRetryable"/>.</summary>
    public Func<ErrorCode, bool>? RetryOn { get; init; }

    /// <summary>True when a call that failed with <paramref name="code"/> on attempt <paramref name="attempt"/> (1-based) may go again.</summary>
    public bool ShouldRetry(ErrorCode code, int attempt) =>
        attempt < MaxAttempts && (RetryOn is { } retryOn ? retryOn(code) : code.IsRetryable());

    /// <summary>
    /// Whether a call that failed with <paramref name="code"/> on attempt <paramref name="attempt"/>
    /// goes again, and after what delay: only when the policy allows it and the delay ends before the
    /// call's deadline (<paramref name="timeLeft"/>; infinite for none).
    /// </summary>
    public bool TryGetBackoff(ErrorCode code, int attempt, TimeSpan timeLeft, out TimeSpan delay)
    {
        delay = ShouldRetry(code, attempt) ? Backoff(attempt) : TimeSpan.Zero;
        return ShouldRetry(code, attempt) && (timeLeft == Timeout.InfiniteTimeSpan || delay < timeLeft);
    }

    /// <summary>The delay before attempt <paramref name="attempt"/> + 1.</summary>
    public TimeSpan Backoff(int attempt)
    {
        var ceiling = Math.Min(
            InitialBackoff.TotalMilliseconds * Math.Pow(BackoffMultiplier, attempt - 1),
            MaxBackoff.TotalMilliseconds);
        return TimeSpan.FromMilliseconds(Jitter ? Random.Shared.NextDouble() * ceiling : ceiling);
    }
}
