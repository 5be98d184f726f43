namespace HighPerfInference.NativeEngine.Tests;

/// <summary>
/// Tests that replace <see cref="OrtEnvironment.Logger"/> or its level: it is process-wide, so they run
/// alone, never beside each other or other tests.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class LoggingCollection
{
    public const string Name = "OrtEnvironment logger";
}

/// <summary>Captures what reaches <see cref="OrtEnvironment.Logger"/> while it is alive, then restores the previous logger.</summary>
internal sealed class CapturedLog : IDisposable
{
    private readonly Action<OrtLogLevel, string, string>? _previous;
    private readonly OrtLogLevel _previousLevel;
    private readonly List<(OrtLogLevel Level, string Source, string Message)> _messages = [];

    public CapturedLog(OrtLogLevel minimumLevel = OrtLogLevel.Warning)
    {
        var environment = OrtEnvironment.Shared;
        _previous = environment.Logger;
        _previousLevel = environment.MinimumLevel;
        environment.MinimumLevel = minimumLevel;
        environment.Logger = (level, source, message) =>
        {
            lock (_messages)
                _messages.Add((level, source, message));
        };
    }

    public (OrtLogLevel Level, string Source, string Message)[] Messages
    {
        get
        {
            lock (_messages)
                return _messages.ToArray();
        }
    }

    public void Dispose()
    {
        OrtEnvironment.Shared.Logger = _previous;
        OrtEnvironment.Shared.MinimumLevel = _previousLevel;
    }
}
