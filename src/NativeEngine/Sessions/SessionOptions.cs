using HighPerfInference.NativeEngine.Interop;

namespace HighPerfInference.NativeEngine;

/// <summary>ORT graph optimization levels (<c>GraphOptimizationLevel</c>).</summary>
public enum GraphOptimizationLevel
{
    DisableAll = 0,
    Basic = 1,
    Extended = 2,
    Layout = 3,
    All = 99,
}

/// <summary>ORT execution modes (<c>ExecutionMode</c>).</summary>
public enum ExecutionMode
{
    /// <summary>Nodes run one after another; parallelism only inside operators (intra-op threads).</summary>
    Sequential = 0,
    /// <summary>Independent branches of the graph run at the same time (inter-op threads).</summary>
    Parallel = 1,
}

/// <summary>
/// How sessions are built (<c>OrtSessionOptions</c>). Each setter writes through to ORT at once; the getters
/// return what was last set (ORT's defaults until then). One instance may build many sessions.
/// </summary>
public sealed unsafe class SessionOptions : IDisposable
{
    private int _intraOpNumThreads;
    private int _interOpNumThreads;
    private GraphOptimizationLevel _graphOptimizationLevel = GraphOptimizationLevel.All;
    private ExecutionMode _executionMode = ExecutionMode.Sequential;
    private bool _enableCpuMemArena = true;
    private bool _enableMemoryPattern = true;
    private string? _optimizedModelFilePath;
    private string? _logId;

    public SessionOptions()
    {
        nint options;
        OrtStatus.Check(OrtApi.CreateSessionOptions(&options));
        Handle = new SessionOptionsHandle(options);
    }

    internal SessionOptionsHandle Handle { get; }

    internal nint Pointer => Handle.GetPointer(this);

    /// <summary>Threads inside one operator; 0 lets ORT choose (one per physical core).</summary>
    public int IntraOpNumThreads
    {
        get => _intraOpNumThreads;
        set
        {
            OrtStatus.Check(OrtApi.SetIntraOpNumThreads(Pointer, value));
            _intraOpNumThreads = value;
        }
    }

    /// <summary>Threads running independent graph branches (with <see cref="ExecutionMode.Parallel"/>); 0 lets ORT choose.</summary>
    public int InterOpNumThreads
    {
        get => _interOpNumThreads;
        set
        {
            OrtStatus.Check(OrtApi.SetInterOpNumThreads(Pointer, value));
            _interOpNumThreads = value;
        }
    }

    public GraphOptimizationLevel GraphOptimizationLevel
    {
        get => _graphOptimizationLevel;
        set
        {
            OrtStatus.Check(OrtApi.SetSessionGraphOptimizationLevel(Pointer, (int)value));
            _graphOptimizationLevel = value;
        }
    }

    public ExecutionMode ExecutionMode
    {
        get => _executionMode;
        set
        {
            OrtStatus.Check(OrtApi.SetSessionExecutionMode(Pointer, (int)value));
            _executionMode = value;
        }
    }

    /// <summary>ORT's CPU memory arena: pooled allocations for intermediate tensors (on by default).</summary>
    public bool EnableCpuMemArena
    {
        get => _enableCpuMemArena;
        set
        {
            OrtStatus.Check(value ? OrtApi.EnableCpuMemArena(Pointer) : OrtApi.DisableCpuMemArena(Pointer));
            _enableCpuMemArena = value;
        }
    }

    /// <summary>Memory pattern planning: reuses one allocation plan across runs with the same shapes (on by default).</summary>
    public bool EnableMemoryPattern
    {
        get => _enableMemoryPattern;
        set
        {
            OrtStatus.Check(value ? OrtApi.EnableMemPattern(Pointer) : OrtApi.DisableMemPattern(Pointer));
            _enableMemoryPattern = value;
        }
    }

    /// <summary>Where ORT writes the model after graph optimization, when a session is created; null writes nothing.</summary>
    public string? OptimizedModelFilePath
    {
        get => _optimizedModelFilePath;
        set
        {
            ArgumentException.ThrowIfNullOrEmpty(value);
            fixed (byte* path = Utf8.NullTerminated(value))
                OrtStatus.Check(OrtApi.SetOptimizedModelFilePath(Pointer, path));
            _optimizedModelFilePath = value;
        }
    }

    /// <summary>The log id ORT puts on this session's log messages (the second argument of <see cref="OrtEnvironment.Logger"/>).</summary>
    public string? LogId
    {
        get => _logId;
        set
        {
            ArgumentNullException.ThrowIfNull(value);
            fixed (byte* logId = Utf8.NullTerminated(value))
                OrtStatus.Check(OrtApi.SetSessionLogId(Pointer, logId));
            _logId = value;
        }
    }

    /// <summary>Sets a session configuration entry (ORT's <c>session.*</c> keys, for example "session.intra_op.allow_spinning").</summary>
    public void AddConfigEntry(string key, string value)
    {
        ArgumentException.ThrowIfNullOrEmpty(key);
        ArgumentNullException.ThrowIfNull(value);
        fixed (byte* k = Utf8.NullTerminated(key))
        fixed (byte* v = Utf8.NullTerminated(value))
            OrtStatus.Check(OrtApi.AddSessionConfigEntry(Pointer, k, v));
    }

    /// <summary>
    /// Appends an execution provider; ORT tries providers in the order appended and runs whatever they do not
    /// take on the CPU provider. Returns false when the provider was unavailable and
    /// <see cref="ExecutionProviderOptions.FallbackToCpu"/> let it be skipped (a warning is logged);
    /// otherwise an unavailable provider throws <see cref="ExecutionProviderUnavailableException"/>.
    /// </summary>
    public bool AppendExecutionProvider(ExecutionProviderOptions options) => ExecutionProviders.Append(Pointer, options);

    public void Dispose() => Handle.Dispose();
}
