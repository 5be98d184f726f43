using System.Diagnostics;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Threading.Tasks.Sources;
using HighPerfInference.Protocol;
using HighPerfInference.Server.Http.Tensors;
using HighPerfInference.Server.Scheduling;

namespace HighPerfInference.Server.Http.Inference;

/// <summary>
/// Everything one HTTP inference needs, pooled and reused: the scheduler request, the parsed input
/// tensors, the outputs copied out of the batch, the formatted response, and the awaitable the
/// endpoint waits on (a reusable <see cref="IValueTaskSource"/>, no per-request task).
/// </summary>
/// <remarks>
/// Ownership: the endpoint rents a call, fills <see cref="Request"/> and submits it; the scheduler
/// owns the request until <see cref="Complete"/>; Complete copies the outputs (their spans die when it
/// returns) and releases the waiting endpoint, which formats and writes the response and returns the
/// call to the pool.
/// </remarks>
internal sealed class InferCall : IInferenceCompletion, IValueTaskSource, IThreadPoolWorkItem
{
    private const int MaxCachedNames = 64;

    private ManualResetValueTaskSourceCore<bool> _completion;
    private int _submittingThread;
    private readonly List<(byte[] Utf8, string Name)> _names = [];
    private InputSlot[] _slots = [];
    private OutputRecord[] _outputs = new OutputRecord[4];
    private long[] _outputDims = new long[16];
    private int _outputDimCount;

    public InferCall(IInferenceScheduler scheduler)
    {
        Scheduler = scheduler;
        Request.Completion = this;
        JsonWriter = new Utf8JsonWriter(Response, new JsonWriterOptions
        {
            SkipValidation = true,
            // Valid JSON, with UTF-8 text written as is rather than \u-escaped.
            Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
        });
    }

    public IInferenceScheduler Scheduler { get; }

    public InferenceRequest Request { get; } = new();

    /// <summary>Stopwatch timestamp when the HTTP request arrived, for the server-side latency.</summary>
    public long StartTimestamp { get; set; }

    /// <summary>The request body copied here when it cannot be read in place (gzip, chunked, HTTP/2).</summary>
    public PooledBuffer Body { get; } = new();

    /// <summary>The "id" of the request, unescaped UTF-8, echoed in the response.</summary>
    public PooledBuffer Id { get; } = new();
    public bool HasId { get; set; }

    /// <summary>"binary_data_output": every output in binary unless an output says otherwise.</summary>
    public bool BinaryDataOutput { get; set; }

    /// <summary>Predict API: the request was in row format ("instances"), and the model batches.</summary>
    public bool RowFormat { get; set; }
    public bool Batched { get; set; }

    /// <summary>Per requested output (same index as <see cref="InferenceRequest.RequestedOutputs"/>): -1 unset, 0 JSON, 1 binary.</summary>
    public List<sbyte> OutputBinary { get; } = [];

    /// <summary>The formatted response (JSON header; binary outputs are written from <see cref="OutputData"/>).</summary>
    public PooledBuffer Response { get; } = new();
    public Utf8JsonWriter JsonWriter { get; }

    /// <summary>The version the body was parsed against, when the format routed before parsing (predict, a raw binary body).</summary>
    public string? RoutedVersion { get; set; }

    /// <summary>The answer, filled by <see cref="Complete"/>; <see cref="ModelVersion"/> names the version that answered or refused ("" when none was chosen).</summary>
    public ErrorCode Error { get; private set; }
    public string? ErrorMessage { get; private set; }
    public string ModelName { get; private set; } = "";
    public string ModelVersion { get; private set; } = "";
    public int OutputCount { get; private set; }
    public PooledBuffer OutputData { get; } = new();

    public ref readonly OutputRecord Output(int index) => ref _outputs[index];

    public ReadOnlySpan<long> OutputShape(in OutputRecord output) => _outputDims.AsSpan(output.DimsStart, output.Rank);

    public ReadOnlySpan<byte> OutputBytes(in OutputRecord output) => OutputData.Span(output.DataStart, output.DataLength);

    /// <summary>The parse state of input <paramref name="index"/>, created on first use and reused.</summary>
    public InputSlot Slot(int index)
    {
        if (index >= _slots.Length)
        {
            var grown = new InputSlot[Math.Max(4, index * 2)];
            _slots.CopyTo(grown, 0);
            _slots = grown;
        }
        return _slots[index] ??= new InputSlot();
    }

    /// <summary>
    /// The string for the JSON string token under the reader, from the names this call has seen
    /// before (input and output names repeat request after request), so steady state allocates none.
    /// </summary>
    public string Intern(ref Utf8JsonReader reader)
    {
        foreach (var (utf8, name) in _names)
        {
            if (reader.ValueTextEquals(utf8))
                return name;
        }
        var value = reader.GetString()!;
        if (_names.Count < MaxCachedNames)
            _names.Add((Encoding.UTF8.GetBytes(value), value));
        return value;
    }

    /// <summary>Submits the request; a completion that arrives inline (a refusal) is taken without a thread hop.</summary>
    public void Submit()
    {
        Volatile.Write(ref _submittingThread, Environment.CurrentManagedThreadId);
        try
        {
            Scheduler.Submit(Request);
        }
        finally
        {
            Volatile.Write(ref _submittingThread, 0);
        }
    }

    /// <summary>Waits for <see cref="Complete"/>.</summary>
    public ValueTask WaitAsync() => new(this, _completion.Version);

    /// <summary>Client went away: the scheduler drops the request and still answers it once.</summary>
    public static void Cancel(object? state)
    {
        var call = (InferCall)state!;
        call.Scheduler.Cancel(call.Request);
    }

    public void Complete(InferenceRequest request, in InferenceResponse response)
    {
        try
        {
            Error = response.Error;
            ErrorMessage = response.ErrorMessage;
            ModelName = response.ModelName;
            ModelVersion = response.ModelVersion;
            if (response.IsSuccess)
                CopyOutputs(response.Outputs);
        }
        catch (Exception e)
        {
            Error = ErrorCode.Internal;
            ErrorMessage = "the response could not be kept: " + e.Message;
        }

        // Inline on the submitting thread nobody waits yet; from an instance thread, hand the rest
        // of the request (formatting, writing) to the thread pool instead of running it there.
        if (Volatile.Read(ref _submittingThread) == Environment.CurrentManagedThreadId)
            _completion.SetResult(true);
        else
            ThreadPool.UnsafeQueueUserWorkItem(this, preferLocal: false);
    }

    void IThreadPoolWorkItem.Execute() => _completion.SetResult(true);

    private void CopyOutputs(ReadOnlySpan<ResponseOutput> outputs)
    {
        OutputData.Clear();
        _outputDimCount = 0;
        if (outputs.Length > _outputs.Length)
            _outputs = new OutputRecord[outputs.Length];
        for (var i = 0; i < outputs.Length; i++)
        {
            ref readonly var output = ref outputs[i];
            var shape = output.Shape;
            if (_outputDimCount + shape.Length > _outputDims.Length)
                Array.Resize(ref _outputDims, Math.Max(_outputDims.Length * 2, _outputDimCount + shape.Length));
            shape.CopyTo(_outputDims, _outputDimCount);
            var data = output.Data;
            _outputs[i] = new OutputRecord(output.Name, output.DataType, _outputDimCount, shape.Length, OutputData.Length, data.Length);
            _outputDimCount += shape.Length;
            OutputData.Write(data);
        }
        OutputCount = outputs.Length;
    }

    /// <summary>Server-side time so far, in microseconds.</summary>
    public long ElapsedMicroseconds => (long)Stopwatch.GetElapsedTime(StartTimestamp).TotalMicroseconds;

    /// <summary>Makes the call ready for the next request.</summary>
    public void Reset()
    {
        Request.Reset();
        Request.Completion = this;
        _completion.Reset();
        Body.Clear();
        Id.Clear();
        HasId = false;
        BinaryDataOutput = false;
        RowFormat = false;
        Batched = false;
        OutputBinary.Clear();
        Response.Clear();
        OutputData.Clear();
        Error = ErrorCode.Ok;
        ErrorMessage = null;
        ModelName = "";
        ModelVersion = "";
        RoutedVersion = null;
        OutputCount = 0;
        _outputDimCount = 0;
        foreach (var slot in _slots)
            slot?.Clear();
    }

    void IValueTaskSource.GetResult(short token) => _completion.GetResult(token);

    ValueTaskSourceStatus IValueTaskSource.GetStatus(short token) => _completion.GetStatus(token);

    void IValueTaskSource.OnCompleted(Action<object?> continuation, object? state, short token, ValueTaskSourceOnCompletedFlags flags) =>
        _completion.OnCompleted(continuation, state, token, flags);
}

/// <summary>One output of the answer: its bytes are in <see cref="InferCall.OutputData"/>, its shape in the call's dims.</summary>
internal readonly record struct OutputRecord(string Name, DataType DataType, int DimsStart, int Rank, int DataStart, int DataLength);

/// <summary>Parse state of one input tensor: its JSON data as raw bytes, and its shape array (reused while the rank stays the same).</summary>
internal sealed class InputSlot
{
    private long[] _shape = [];

    public PooledBuffer Data { get; } = new();

    /// <summary>The input's "binary_data_size", or -1 when its values came as JSON "data".</summary>
    public long BinarySize { get; set; } = -1;

    /// <summary>Predict API: the shape of one instance's value, fixed by the first instance; <see cref="Rank"/> -1 before it.</summary>
    public long[] Dims { get; } = new long[JsonTensorReader.MaxRank];
    public int Rank { get; set; } = -1;

    /// <summary>A shape array of this rank, the previous one when the rank matches.</summary>
    public long[] ShapeOfRank(int rank)
    {
        if (_shape.Length != rank)
            _shape = rank == 0 ? [] : new long[rank];
        return _shape;
    }

    public void Clear()
    {
        Data.Clear();
        BinarySize = -1;
        Rank = -1;
    }
}
