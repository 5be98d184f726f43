using System.Runtime.InteropServices;
using HighPerfInference.NativeEngine.Interop;

namespace HighPerfInference.NativeEngine;

/// <summary>ORT log severities (<c>OrtLoggingLevel</c>).</summary>
public enum OrtLogLevel
{
    Verbose = 0,
    Info = 1,
    Warning = 2,
    Error = 3,
    Fatal = 4,
}

/// <summary>
/// The process-wide ORT environment (<c>OrtEnv</c>: ORT allows one per process). It lives until the process
/// ends. ORT's log messages, and NativeEngine's own warnings (such as a GPU provider falling back to CPU),
/// go to <see cref="Logger"/>; NativeEngine is BCL-only, so the host routes them (the Server to ILogger).
/// </summary>
public sealed unsafe class OrtEnvironment
{
    /// <summary>The log id of messages NativeEngine writes itself.</summary>
    public const string LogSource = "HighPerfInference.NativeEngine";

    private static readonly Lazy<OrtEnvironment> s_shared = new(() => new OrtEnvironment());

    private volatile Action<OrtLogLevel, string, string>? _logger = WriteToStandardError;
    private OrtLogLevel _minimumLevel = OrtLogLevel.Warning;

    private OrtEnvironment()
    {
        nint env;
        // The callback is a static [UnmanagedCallersOnly] method: a fixed native entry point, so there is
        // no delegate the GC could collect while ORT still holds the pointer.
        fixed (byte* logId = Utf8.NullTerminated(LogSource))
            OrtStatus.Check(OrtApi.CreateEnvWithCustomLogger(&OnLog, 0, (int)_minimumLevel, logId, &env));
        Handle = env;
    }

    public static OrtEnvironment Shared => s_shared.Value;

    /// <summary>The native <c>OrtEnv*</c>. Never released: sessions may be finalized until the process exits.</summary>
    internal nint Handle { get; }

    /// <summary>The loaded ONNX Runtime's version, for example "1.29.0".</summary>
    public string Version => OrtLibrary.Version;

    /// <summary>
    /// Receives log messages as (severity, log id, message); the log id is the session's
    /// <see cref="SessionOptions.LogId"/>, ORT's environment id, or <see cref="LogSource"/>. Called on ORT's
    /// threads; must be thread-safe and should be quick. Defaults to standard error; null drops messages.
    /// </summary>
    public Action<OrtLogLevel, string, string>? Logger
    {
        get => _logger;
        set => _logger = value;
    }

    /// <summary>The least severe level ORT reports.</summary>
    public OrtLogLevel MinimumLevel
    {
        get => _minimumLevel;
        set
        {
            OrtStatus.Check(OrtApi.UpdateEnvWithCustomLogLevel(Handle, (int)value));
            _minimumLevel = value;
        }
    }

    /// <summary>The execution providers compiled into the loaded library (not whether their libraries are present).</summary>
    public IReadOnlyList<string> GetAvailableProviders()
    {
        byte** names;
        int count;
        OrtStatus.Check(OrtApi.GetAvailableProviders(&names, &count));
        var providers = new string[count];
        for (int i = 0; i < count; i++)
            providers[i] = Utf8.Read(names[i]);
        OrtStatus.Check(OrtApi.ReleaseAvailableProviders(names, count));
        return providers;
    }

    /// <summary>Writes a message of NativeEngine's own through the same sink as ORT's messages.</summary>
    internal void Log(OrtLogLevel level, string message)
    {
        if (level >= _minimumLevel)
            Deliver(level, LogSource, message);
    }

    private void Deliver(OrtLogLevel level, string source, string message)
    {
        try
        {
            _logger?.Invoke(level, source, message);
        }
#pragma warning disable CA1031 // a throwing logger must not unwind into ORT's native frames (that kills the process)
        catch (Exception)
#pragma warning restore CA1031
        {
        }
    }

    private static void WriteToStandardError(OrtLogLevel level, string source, string message) =>
        Console.Error.WriteLine($"[{level}] {source}: {message}");

    [UnmanagedCallersOnly]
    private static void OnLog(nint param, int severity, byte* category, byte* logId, byte* codeLocation, byte* message)
    {
        // ORT can log while the environment is being created, before s_shared has a value: drop those.
        if (s_shared.IsValueCreated)
            s_shared.Value.Deliver((OrtLogLevel)severity, Utf8.Read(logId), Utf8.Read(message));
    }
}
