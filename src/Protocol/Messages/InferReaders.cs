using System.Buffers;
using System.Runtime.InteropServices;

namespace HighPerfInference.Protocol;

/// <summary>
/// Where readers put names that straddle buffer segments and the dims of the current tensor.
/// The caller provides it (stackalloc or a per-connection array) so reading allocates nothing.
/// </summary>
public static class InferScratch
{
    /// <summary>Bytes a reader's scratch must have.</summary>
    public const int Size = (4 * NameSlot) + (FrameLimits.MaxRank * sizeof(long));

    private const int NameSlot = 256;

    internal static Span<byte> Name(Span<byte> scratch, int slot) => scratch.Slice(slot * NameSlot, NameSlot);

    internal static Span<long> Shape(Span<byte> scratch) => MemoryMarshal.Cast<byte, long>(scratch.Slice(4 * NameSlot, FrameLimits.MaxRank * sizeof(long)));

    internal static void Check(Span<byte> scratch)
    {
        if (scratch.Length < Size)
            throw new ArgumentException($"The scratch needs {Size} bytes.", nameof(scratch));
    }
}

/// <summary>
/// Reads an infer request payload in order: the head (read by the constructor), the requested
/// output names, then the input tensors. Throws a per-request <see cref="ProtocolException"/>
/// (InvalidArgument) on a malformed payload: answer an Error frame and keep the connection.
/// </summary>
public ref struct InferRequestReader
{
    private PayloadReader _payload;
    private readonly Span<byte> _scratch;
    private int _outputsLeft;
    private int _inputsLeft;

    /// <param name="payload">The frame payload from <see cref="FrameReader.TryReadFrame"/>.</param>
    /// <param name="scratch">At least <see cref="InferScratch.Size"/> bytes.</param>
    public InferRequestReader(ReadOnlySequence<byte> payload, Span<byte> scratch)
    {
        InferScratch.Check(scratch);
        _scratch = scratch;
        _payload = new PayloadReader(payload);
        var model = _payload.ReadName(InferScratch.Name(scratch, 0));
        if (model.IsEmpty)
            ThrowHelper.ThrowInvalid("The model name is empty.");
        var version = _payload.ReadName(InferScratch.Name(scratch, 1));
        var timeout = _payload.ReadU32();
        var priority = _payload.ReadU8();
        var routingKey = _payload.ReadName(InferScratch.Name(scratch, 2));
        _outputsLeft = _payload.ReadU16();
        _inputsLeft = _payload.ReadU16();
        Head = new InferRequestHead(model, version, timeout, priority, routingKey, _outputsLeft, _inputsLeft);
    }

    public InferRequestHead Head { get; }

    /// <summary>The next requested output name; false when all are read.</summary>
    public bool TryReadRequestedOutput(out ReadOnlySpan<byte> name)
    {
        if (_outputsLeft == 0)
        {
            name = default;
            return false;
        }
        _outputsLeft--;
        name = _payload.ReadName(InferScratch.Name(_scratch, 3));
        if (name.IsEmpty)
            ThrowHelper.ThrowInvalid("A requested output name is empty.");
        return true;
    }

    /// <summary>
    /// The next input tensor (skipping requested output names not read yet); false when all are
    /// read, after checking that nothing follows the last one.
    /// </summary>
    public bool TryReadInput(out WireTensor tensor)
    {
        while (TryReadRequestedOutput(out _))
        {
        }
        if (_inputsLeft == 0)
        {
            _payload.EnsureEnd();
            tensor = default;
            return false;
        }
        _inputsLeft--;
        tensor = TensorCodec.Read(ref _payload, InferScratch.Name(_scratch, 3), InferScratch.Shape(_scratch));
        return true;
    }
}

/// <summary>
/// Reads an infer response payload: the head (read by the constructor), then the output tensors.
/// </summary>
public ref struct InferResponseReader
{
    private PayloadReader _payload;
    private readonly Span<byte> _scratch;
    private int _outputsLeft;

    /// <param name="payload">The frame payload from <see cref="FrameReader.TryReadFrame"/>.</param>
    /// <param name="scratch">At least <see cref="InferScratch.Size"/> bytes.</param>
    public InferResponseReader(ReadOnlySequence<byte> payload, Span<byte> scratch)
    {
        InferScratch.Check(scratch);
        _scratch = scratch;
        _payload = new PayloadReader(payload);
        var model = _payload.ReadName(InferScratch.Name(scratch, 0));
        var version = _payload.ReadName(InferScratch.Name(scratch, 1));
        var queue = _payload.ReadU32();
        var compute = _payload.ReadU32();
        _outputsLeft = _payload.ReadU16();
        Head = new InferResponseHead(model, version, queue, compute, _outputsLeft);
    }

    public InferResponseHead Head { get; }

    /// <summary>The next output tensor; false when all are read, after checking nothing follows.</summary>
    public bool TryReadOutput(out WireTensor tensor)
    {
        if (_outputsLeft == 0)
        {
            _payload.EnsureEnd();
            tensor = default;
            return false;
        }
        _outputsLeft--;
        tensor = TensorCodec.Read(ref _payload, InferScratch.Name(_scratch, 3), InferScratch.Shape(_scratch));
        return true;
    }
}
