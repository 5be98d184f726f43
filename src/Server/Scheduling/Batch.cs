namespace HighPerfInference.Server.Scheduling;

/// <summary>One request's place in a batch: its rows of every input, starting at <see cref="RowStart"/>.</summary>
internal struct BatchEntry
{
    public InferenceRequest? Request;
    /// <summary>The submission the entry belongs to (see <see cref="RequestPhase"/>); written last, read first.</summary>
    public long Ticket;
    public int RowStart;
    public int Rows;
}

/// <summary>
/// A batch and its native buffers, pooled per model version. Requests join the OPEN batch of their
/// <see cref="ShapeSlot"/> without a lock: a receiving thread reserves rows and an entry with one
/// CompareExchange on <see cref="State"/>, copies its input bytes into the reserved rows, writes its
/// entry, then publishes with an Interlocked add. The batch is dispatched once it is sealed and every
/// reservation is published; whoever completes that pair (the sealer or the last publisher) hands it on.
/// </summary>
/// <remarks>
/// State word (64 bits):
/// <code>
///  63     62..48       47..32       31..16      15..0
/// +------+------------+------------+-----------+--------+
/// |sealed| generation | published  | requests  |  rows  |
/// +------+------------+------------+-----------+--------+
/// </code>
/// The generation changes every time the pooled batch is opened again, so a thread that read the
/// state of an earlier use can never complete a CompareExchange on a later one.
/// Ownership: open = shared by receiving threads through its slot; sealed = owned by whoever
/// dispatches it, then by the ready queue; running = owned by one instance thread, which returns it
/// to the pool.
/// </remarks>
internal sealed unsafe class Batch
{
    public const long RowOne = 1;
    public const long RequestOne = 1L << 16;
    public const long PublishedOne = 1L << 32;
    public const long SealedBit = long.MinValue;
    /// <summary>The most rows (and so requests) a batch can hold: the 16-bit fields of the state word.</summary>
    public const int MaxRows = 0xFFFF;

    private const int GenerationShift = 48;
    private const long GenerationMask = 0x7FFF;

    public const int PhaseIdle = 0;
    public const int PhaseOpen = 1;
    public const int PhaseSealed = 2;
    public const int PhaseRunning = 3;

    private readonly IBufferAllocator _allocator;
    private readonly nuint[] _outputRowBytes;

    public Batch(ModelSignature signature, IBufferAllocator allocator, int capacityRows, nuint[] outputRowBytes)
    {
        _allocator = allocator;
        _outputRowBytes = outputRowBytes;
        CapacityRows = capacityRows;
        Entries = new BatchEntry[capacityRows];
        InputBuffers = new NativeBuffer?[signature.Inputs.Count];
        InputShapes = new long[signature.Inputs.Count][];
        for (var i = 0; i < InputShapes.Length; i++)
            InputShapes[i] = new long[signature.Inputs[i].Shape.Length];
        InputRowBytes = new nuint[signature.Inputs.Count];
        OutputBuffers = new NativeBuffer?[signature.Outputs.Count];
        OutputShapes = new long[signature.Outputs.Count][];
        for (var o = 0; o < OutputShapes.Length; o++)
            OutputShapes[o] = (long[])signature.Outputs[o].Shape.Clone();
        State = SealedBit;
    }

    /// <summary>The packed state word; see the remarks. Changed only with Interlocked.</summary>
    public long State;

    /// <summary>Where the batch is (<see cref="PhaseIdle"/>...), for the timeout sweep.</summary>
    public int Phase;

    public int CapacityRows { get; }

    /// <summary>
    /// True for a batch of exactly one request opened with <see cref="OpenSingle"/>: its
    /// <see cref="InputRowBytes"/> hold the request's whole byte counts and its shapes are the request's own.
    /// </summary>
    public bool Single { get; private set; }
    public int Priority { get; private set; }
    public ShapeSlot? Slot { get; private set; }

    /// <summary>When the first request joined; 0 until its submitter wrote it.</summary>
    public long FirstEnqueueTicks;

    public BatchEntry[] Entries { get; }

    /// <summary>Per model input: the rows of every request, back to back.</summary>
    public NativeBuffer?[] InputBuffers { get; }
    /// <summary>Per model input: the run shape; [0] is set to the row count at run time when the model batches.</summary>
    public long[][] InputShapes { get; }
    public nuint[] InputRowBytes { get; }

    /// <summary>Per model output: a pooled buffer when the output's non-batch shape is fixed, else null (the runner allocates).</summary>
    public NativeBuffer?[] OutputBuffers { get; }
    public long[][] OutputShapes { get; }
    public nuint OutputRowBytes(int output) => _outputRowBytes[output];

    public static int Rows(long state) => (int)(state & 0xFFFF);
    public static int Requests(long state) => (int)((state >> 16) & 0xFFFF);
    public static int Published(long state) => (int)((state >> 32) & 0xFFFF);
    public static bool IsSealed(long state) => state < 0;
    public static bool IsComplete(long state) => IsSealed(state) && Published(state) == Requests(state);

    /// <summary>Prepares a batch of a slot (batching models): buffers sized for its row shape, a new generation, open.</summary>
    public void Open(ShapeSlot slot)
    {
        Slot = slot;
        Single = false;
        Priority = slot.Priority;
        for (var i = 0; i < InputBuffers.Length; i++)
        {
            InputRowBytes[i] = slot.RowBytes[i];
            EnsureCapacity(ref InputBuffers[i], slot.RowBytes[i] * (nuint)CapacityRows);
            slot.RowShapes[i].CopyTo(InputShapes[i].AsSpan(1));
        }
        for (var o = 0; o < OutputBuffers.Length; o++)
        {
            if (_outputRowBytes[o] != 0)
                EnsureCapacity(ref OutputBuffers[o], _outputRowBytes[o] * (nuint)CapacityRows);
        }
        FirstEnqueueTicks = 0;
        Volatile.Write(ref Phase, PhaseOpen);
        Volatile.Write(ref State, NextGeneration());
    }

    /// <summary>
    /// Prepares a batch for exactly one request (a model without a batch dimension, dynamic batching
    /// off, or BYTES tensors): input buffers of the request's byte counts, output buffers for its
    /// <paramref name="rows"/>; the caller copies the request's shapes into <see cref="InputShapes"/>.
    /// </summary>
    public void OpenSingle(int priority, ReadOnlySpan<nuint> inputBytes, int rows)
    {
        Slot = null;
        Single = true;
        Priority = priority;
        for (var i = 0; i < InputBuffers.Length; i++)
        {
            InputRowBytes[i] = inputBytes[i];
            EnsureCapacity(ref InputBuffers[i], inputBytes[i]);
        }
        for (var o = 0; o < OutputBuffers.Length; o++)
        {
            if (_outputRowBytes[o] != 0)
                EnsureCapacity(ref OutputBuffers[o], _outputRowBytes[o] * (nuint)rows);
        }
        FirstEnqueueTicks = 0;
        Volatile.Write(ref Phase, PhaseOpen);
        Volatile.Write(ref State, NextGeneration());
    }

    /// <summary>Takes back a batch that was opened but never installed in a slot.</summary>
    public void Abandon()
    {
        Interlocked.Or(ref State, SealedBit);
        Volatile.Write(ref Phase, PhaseIdle);
        Slot = null;
    }

    /// <summary>Forgets the requests so the pool holds no references to them; stays sealed while pooled.</summary>
    public void Clear(int entries)
    {
        Volatile.Write(ref Phase, PhaseIdle);
        Array.Clear(Entries, 0, entries);
        Slot = null;
    }

    public Span<byte> InputRows(int input, int rowStart, int rows) =>
        InputBuffers[input]!.AsSpan(InputRowBytes[input] * (nuint)rowStart, checked((int)(InputRowBytes[input] * (nuint)rows)));

    /// <summary>Moves rows inside every input buffer (compaction after dropped requests); the ranges may overlap.</summary>
    public void MoveRows(int fromRow, int toRow, int rows)
    {
        for (var i = 0; i < InputBuffers.Length; i++)
        {
            var rowBytes = InputRowBytes[i];
            var buffer = (byte*)InputBuffers[i]!.Pointer;
            Buffer.MemoryCopy(buffer + rowBytes * (nuint)fromRow, buffer + rowBytes * (nuint)toRow, rowBytes * (nuint)rows, rowBytes * (nuint)rows);
        }
    }

    public void Dispose()
    {
        for (var i = 0; i < InputBuffers.Length; i++)
            InputBuffers[i]?.Dispose();
        for (var o = 0; o < OutputBuffers.Length; o++)
            OutputBuffers[o]?.Dispose();
    }

    private long NextGeneration()
    {
        var generation = (((Volatile.Read(ref State) >> GenerationShift) & GenerationMask) + 1) & GenerationMask;
        return generation << GenerationShift;
    }

    private void EnsureCapacity(ref NativeBuffer? buffer, nuint byteLength)
    {
        if (buffer is not null && buffer.ByteLength >= byteLength)
            return;
        buffer?.Dispose();
        buffer = _allocator.Allocate(byteLength == 0 ? 1 : byteLength);
    }
}

/// <summary>
/// Where requests of one priority level and one non-batch shape meet: it points at the open batch
/// (or null until the next request opens one). Requests whose non-batch dimensions differ never
/// share a slot, so they never share a batch.
/// </summary>
internal sealed class ShapeSlot(int priority, long[][] rowShapes, nuint[] rowBytes, long hash)
{
    /// <summary>The open batch; read with Volatile, replaced only with CompareExchange.</summary>
    public Batch? Open;

    public int Priority { get; } = priority;
    /// <summary>Per model input: the non-batch dimensions every request in this slot has.</summary>
    public long[][] RowShapes { get; } = rowShapes;
    /// <summary>Per model input: bytes of one row.</summary>
    public nuint[] RowBytes { get; } = rowBytes;
    /// <summary>Hash of <see cref="RowShapes"/>, compared before the shapes themselves.</summary>
    public long Hash { get; } = hash;
}
