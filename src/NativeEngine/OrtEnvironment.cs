using Microsoft.ML.OnnxRuntime;

namespace HighPerfInference.NativeEngine;

/// <summary>ORT log severities, with <see cref="OrtLoggingLevel"/>'s values.</summary>
public enum OrtLogLevel
{
    Verbose = 0,
    Info = 1,
    Warning = 2,
    Error = 3,
    Fatal = 4,
}

/// <summary>
/// The process-wide ONNX Runtime environment (ORT allows one), created with a logging function
/// (<see cref="EnvironmentCreationOptions"/>) so that ORT's own log, and NativeEngine's warnings such as a GPU
/// provider falling back to the CPU, reach <see cref="Logger"/>; the Server routes them to ILogger.
/// </summary>
/// <remarks>
/// ORT creates a default environment, without the logging function, the first time any of its types is
/// used. Every NativeEngine entry point touches <see cref="Shared"/> first; code that uses ORT's types
/// directly must too, or <see cref="Shared"/> throws.
/// </remarks>
public sealed class OrtEnvironment
{
    /// <summary>The log id of messages NativeEngine writes itself.</summary>
    public const string LogSource = "HighPerfInference.NativeEngine";

    private static readonly Lazy<OrtEnvironment> s_shared = new(() => new OrtEnvironment());

    /// <summary>Kept in a field: ORT holds a native pointer to it for the life of the process.</summary>
    private readonly DOrtLoggingFunction _callback;
    private volatile Action<OrtLogLevel, string, string>? _logger = WriteToStandardError;

    private OrtEnvironment()
    {
        _callback = OnLog;
        var options = new EnvironmentCreationOptions
        {
            logId = LogSource,
            logLevel = OrtLoggingLevel.ORT_LOGGING_LEVEL_WARNING,
            loggingFunction = _callback,
        };
        try
        {
            Env = OrtEnv.CreateInstanceWithOptions(ref options);
        }
        catch (OnnxRuntimeException e)
        {
            throw new InvalidOperationException(
                "ONNX Runtime's environment already exists, so its log cannot be routed: touch OrtEnvironment.Shared before any other ONNX Runtime type.", e);
        }
    }

    public static OrtEnvironment Shared => s_shared.Value;

    /// <summary>ORT's environment object; it lives until the process ends.</summary>
    public OrtEnv Env { get; }

    /// <summary>The loaded ONNX Runtime's version, for example "1.32.0".</summary>
    public string Version => Env.GetVersionString();

    /// <summary>
    /// Receives log messages as (severity, log id, message); the log id is the session's log id, ORT's
    /// environment id, or <see cref="LogSource"/>. Called on ORT's threads: must be thread-safe and quick.
    /// Standard error by default; null drops messages.
    /// </summary>
    public Action<OrtLogLevel, string, string>? Logger
    {
        get => _logger;
        set => _logger = value;
    }

    /// <summary>The least severe level ORT reports (Warning by default).</summary>
    public OrtLogLevel MinimumLevel
    {
        get => (OrtLogLevel)Env.EnvLogLevel;
        set => Env.EnvLogLevel = (OrtLoggingLevel)value;
    }

    /// <summary>The execution providers compiled into the loaded library; not whether they can load here (see <see cref="ExecutionProviders.UnavailableReason"/>).</summary>
    public IReadOnlyList<string> GetAvailableProviders() => Env.GetAvailableProviders();

    /// <summary>Writes a message of NativeEngine's own through the same sink as ORT's messages.</summary>
    internal void Log(OrtLogLevel level, string message)
    {
        if (level >= MinimumLevel)
            Deliver(level, LogSource, message);
    }

    private void OnLog(IntPtr param, OrtLoggingLevel severity, string category, string logId, string codeLocation, string message) =>
        Deliver((OrtLogLevel)severity, logId, message);

    private void Deliver(OrtLogLevel level, string source, string message)
    {
        try
        {
            _logger?.Invoke(level, source, message);
        }
#pragma warning disable CA1031 // a throwing logger must not unwind into ORT's native frames (that ends the process)
        catch (Exception)
#pragma warning restore CA1031
        {
        }
    }

    private static void WriteToStandardError(OrtLogLevel level, string source, string message) =>
        Console.Error.WriteLine($"[{level}] {source}: {message}");
}
