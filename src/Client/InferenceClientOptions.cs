namespace HighPerfInference.Client;

/// <summary>Settings of an <see cref="InferenceClient"/>.</summary>
public sealed record InferenceClientOptions
{
    /// <summary>
    /// TCP connections to the server. Calls are spread over them round-robin (a full one is skipped
    /// for one with room); each carries up to the server's in-flight limit.
    /// </summary>
    public int Connections { get; init; } = 1;

    /// <summary>Sent in the Hello when the server requires one.</summary>
    public string ApiKey { get; init; } = "";

    /// <summary>Announced in the Hello; servers log it.</summary>
    public string ClientName { get; init; } = "HighPerfInference.Client";

    /// <summary>
    /// Default deadline of a call, retries and backoff included; <see cref="Timeout.InfiniteTimeSpan"/>
    /// for none. The time left is also sent to the server, which drops a request whose caller gave up.
    /// </summary>
    public TimeSpan Timeout { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>Time to open a connection and complete its handshake.</summary>
    public TimeSpan ConnectTimeout { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>When and how failed calls are sent again.</summary>
    public RetryPolicy Retry { get; init; } = RetryPolicy.Default;

    /// <summary>Caps requests in flight per connection below the server's announced limit.</summary>
    public int MaxInFlightPerConnection { get; init; } = int.MaxValue;

    internal void Validate()
    {
        if (Connections < 1)
            throw new ArgumentOutOfRangeException(nameof(Connections), "At least one connection.");
        if (MaxInFlightPerConnection < 1)
            throw new ArgumentOutOfRangeException(nameof(MaxInFlightPerConnection), "At least one request in flight.");
        if (Retry.MaxAttempts < 1)
            throw new ArgumentOutOfRangeException(nameof(Retry), "At least one attempt.");
    }
}
