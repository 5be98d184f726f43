namespace HighPerfInference.LoadGen.Load;

public enum Phase
{
    /// <summary>Requests flow, nothing is recorded.</summary>
    Warmup,
    /// <summary>Answers arriving now are counted.</summary>
    Measure,
    /// <summary>No new requests; outstanding ones drain uncounted.</summary>
    Stop,
}

/// <summary>The phase of the running step, written by the runner and read by every connection.</summary>
public sealed class LoadPhase
{
    private volatile Phase _current;

    public Phase Current
    {
        get => _current;
        set => _current = value;
    }
}
