using HighPerfInference.Protocol;

namespace HighPerfInference.Server.Scheduling;

/// <summary>
/// A tensor handed to or returned by a runner: native memory plus its shape. For outputs the
/// scheduler may pre-fill <see cref="Data"/> with a pooled buffer (runner writes into it) or leave it
/// zero (runner allocates and sets Data, ByteLength and Shape, valid until the next Run).
/// </summary>
public struct TensorView
{
    public nint Data;
    public nuint ByteLength;
    public DataType DataType;
    /// <summary>Full shape; the array belongs to whoever filled the view and is reused between runs.</summary>
    public long[] Shape;
}

/// <summary>
/// Executes batches for one model instance. Each instance has its own runner (its own session, its
/// own thread); a runner is only ever called from its instance's thread, one Run at a time.
/// </summary>
public interface IModelRunner : IDisposable
{
    /// <summary>
    /// Runs the model. <paramref name="inputs"/> are in the signature's input order and stay valid
    /// for the call. <paramref name="outputs"/> are in the signature's output order; each is either a
    /// pre-allocated buffer of the right shape (Data != 0) to fill, or empty for the runner to fill
    /// with memory it owns until its next Run or Dispose. Throws on a model failure.
    /// </summary>
    void Run(ReadOnlySpan<TensorView> inputs, Span<TensorView> outputs);
}

/// <summary>A loaded model version: its signature and a factory for per-instance runners.</summary>
public interface IModelBackend : IDisposable
{
    ModelSignature Signature { get; }

    /// <summary>Where this version's batch buffers come from (pinned memory on GPU); null = the scheduler's default.</summary>
    IBufferAllocator? Allocator => null;

    /// <summary>Creates the runner of instance <paramref name="index"/> (0-based, in instance_group order).</summary>
    IModelRunner CreateRunner(int index);
}
