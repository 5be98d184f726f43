using System.Buffers;
using HighPerfInference.NativeEngine.Interop;

namespace HighPerfInference.NativeEngine;

/// <summary>
/// A loaded model (<c>OrtSession</c>). Its inputs, outputs and metadata are read once at load. <see cref="Run"/>
/// may be called from several threads at once; <see cref="Dispose"/> must not race with them.
/// </summary>
public sealed unsafe class InferenceSession : IDisposable
{
    // Pointer arrays up to this many inputs+outputs live on the stack; larger models rent from the pool.
    private const int StackPointerLimit = 128;

    private readonly SessionHandle _handle;

    private InferenceSession(SessionHandle handle)
    {
        _handle = handle;
        try
        {
            nint session = handle.DangerousGetHandle();
            Inputs = ReadTensorInfos(session, input: true);
            Outputs = ReadTensorInfos(session, input: false);
            Metadata = ReadMetadata(session);
            handle.SetNames(NativeUtf8Array.Create(Names(Inputs)), NativeUtf8Array.Create(Names(Outputs)));
        }
        catch
        {
            handle.Dispose();
            throw;
        }
    }

    public IReadOnlyList<TensorInfo> Inputs { get; }

    public IReadOnlyList<TensorInfo> Outputs { get; }

    public OnnxModelMetadata Metadata { get; }

    /// <summary>The native <c>OrtSession*</c>, for IoBinding.</summary>
    internal SessionHandle Handle => _handle;

    /// <summary>Loads a model from an .onnx file (external data files are found relative to it).</summary>
    public static InferenceSession Load(string path, SessionOptions? options = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        nint env = OrtEnvironment.Shared.Handle;
        nint session;
        fixed (byte* modelPath = Utf8.NullTerminated(path))
            OrtStatus.Check(OrtApi.CreateSession(env, modelPath, OptionsPointer(options), &session));
        GC.KeepAlive(options);
        return new InferenceSession(new SessionHandle(session));
    }

    /// <summary>Loads a model from its serialized ModelProto bytes (ORT copies what it needs).</summary>
    public static InferenceSession FromBytes(ReadOnlySpan<byte> model, SessionOptions? options = null)
    {
        nint env = OrtEnvironment.Shared.Handle;
        nint session;
        fixed (byte* data = model)
            OrtStatus.Check(OrtApi.CreateSessionFromArray(env, data, (nuint)model.Length, OptionsPointer(options), &session));
        GC.KeepAlive(options);
        return new InferenceSession(new SessionHandle(session));
    }

    /// <summary>
    /// Runs the model. <paramref name="inputs"/> holds one value per <see cref="Inputs"/> entry and
    /// <paramref name="outputs"/> one slot per <see cref="Outputs"/> entry, both in the session's order.
    /// A null output slot is filled with a value ORT allocates (the caller disposes it); a non-null slot is
    /// a pre-allocated tensor ORT writes into. With every output pre-allocated, a Run allocates no managed
    /// memory: the names are cached as native UTF-8 and the pointer arrays live on the stack.
    /// </summary>
    public void Run(ReadOnlySpan<OrtValue> inputs, Span<OrtValue?> outputs, RunOptions? options = null)
    {
        int inputCount = Inputs.Count;
        int outputCount = Outputs.Count;
        if (inputs.Length != inputCount || outputs.Length != outputCount)
            ThrowCountMismatch(inputs.Length, outputs.Length);

        int total = inputCount + outputCount;
        nint[]? rented = null;
        Span<nint> values = total <= StackPointerLimit ? stackalloc nint[total] : (rented = ArrayPool<nint>.Shared.Rent(total));
        for (int i = 0; i < inputCount; i++)
            values[i] = (inputs[i] ?? throw new ArgumentNullException(nameof(inputs))).Pointer;
        for (int i = 0; i < outputCount; i++)
            values[inputCount + i] = outputs[i]?.Pointer ?? 0;

        nint runOptions = options?.Pointer ?? 0;
        bool added = false;
        try
        {
            _handle.DangerousAddRef(ref added);
            fixed (nint* pointers = values)
            {
                OrtStatus.Check(OrtApi.Run(_handle.DangerousGetHandle(), runOptions,
                    _handle.InputNames.Pointers, pointers, (nuint)inputCount,
                    _handle.OutputNames.Pointers, (nuint)outputCount, pointers + inputCount));
            }
            for (int i = 0; i < outputCount; i++)
                outputs[i] ??= new OrtValue(new ValueHandle(values[inputCount + i]));
        }
        finally
        {
            if (added)
                _handle.DangerousRelease();
            if (rented != null)
                ArrayPool<nint>.Shared.Return(rented);
            GC.KeepAlive(options);
        }
    }

    /// <summary>Creates an IoBinding for this session.</summary>
    public IoBinding CreateIoBinding() => new(this);

    public void Dispose() => _handle.Dispose();

    private static nint OptionsPointer(SessionOptions? options) => options?.Pointer ?? 0;

    private void ThrowCountMismatch(int inputs, int outputs) =>
        throw new ArgumentException($"The model takes {Inputs.Count} inputs and {Outputs.Count} outputs; Run got {inputs} and {outputs}.");

    private static string[] Names(IReadOnlyList<TensorInfo> infos)
    {
        var names = new string[infos.Count];
        for (int i = 0; i < names.Length; i++)
            names[i] = infos[i].Name;
        return names;
    }

    private static TensorInfo[] ReadTensorInfos(nint session, bool input)
    {
        nuint count;
        OrtStatus.Check(input ? OrtApi.SessionGetInputCount(session, &count) : OrtApi.SessionGetOutputCount(session, &count));
        var infos = new TensorInfo[(int)count];
        for (nuint i = 0; i < count; i++)
        {
            byte* name;
            nint typeInfo;
            OrtStatus.Check(input
                ? OrtApi.SessionGetInputName(session, i, OrtAllocator.Default, &name)
                : OrtApi.SessionGetOutputName(session, i, OrtAllocator.Default, &name));
            string nameString = OrtAllocator.TakeString(name);
            OrtStatus.Check(input
                ? OrtApi.SessionGetInputTypeInfo(session, i, &typeInfo)
                : OrtApi.SessionGetOutputTypeInfo(session, i, &typeInfo));
            using var typeInfoHandle = new TypeInfoHandle(typeInfo);
            infos[(int)i] = ReadTensorInfo(nameString, typeInfo);
        }
        return infos;
    }

    private static TensorInfo ReadTensorInfo(string name, nint typeInfo)
    {
        int valueType;
        OrtStatus.Check(OrtApi.GetOnnxTypeFromTypeInfo(typeInfo, &valueType));
        if ((OnnxValueType)valueType != OnnxValueType.Tensor)
            return new TensorInfo(name, (OnnxValueType)valueType, TensorElementType.Undefined, [], []);

        nint tensorInfo; // owned by typeInfo
        int elementType;
        nuint rank;
        OrtStatus.Check(OrtApi.CastTypeInfoToTensorInfo(typeInfo, &tensorInfo));
        OrtStatus.Check(OrtApi.GetTensorElementType(tensorInfo, &elementType));
        OrtStatus.Check(OrtApi.GetDimensionsCount(tensorInfo, &rank));

        var shape = new long[(int)rank];
        var symbolic = new string[(int)rank];
        var dimNames = new nint[(int)rank];
        fixed (long* dims = shape)
            OrtStatus.Check(OrtApi.GetDimensions(tensorInfo, dims, rank));
        fixed (nint* names = dimNames)
            OrtStatus.Check(OrtApi.GetSymbolicDimensions(tensorInfo, (byte**)names, rank));
        for (int d = 0; d < symbolic.Length; d++)
            symbolic[d] = Utf8.Read((byte*)dimNames[d]);
        return new TensorInfo(name, OnnxValueType.Tensor, (TensorElementType)elementType, shape, symbolic);
    }

    private static OnnxModelMetadata ReadMetadata(nint session)
    {
        nint metadata;
        OrtStatus.Check(OrtApi.SessionGetModelMetadata(session, &metadata));
        using var handle = new ModelMetadataHandle(metadata);

        byte** keys;
        long keyCount;
        OrtStatus.Check(OrtApi.ModelMetadataGetCustomMetadataMapKeys(metadata, OrtAllocator.Default, &keys, &keyCount));
        var custom = new Dictionary<string, string>((int)keyCount, StringComparer.Ordinal);
        try
        {
            for (long i = 0; i < keyCount; i++)
            {
                byte* value;
                OrtStatus.Check(OrtApi.ModelMetadataLookupCustomMetadataMap(metadata, OrtAllocator.Default, keys[i], &value));
                custom[Utf8.Read(keys[i])] = OrtAllocator.TakeString(value);
            }
        }
        finally
        {
            if (keys != null)
            {
                for (long i = 0; i < keyCount; i++)
                    OrtAllocator.Free(keys[i]);
                OrtAllocator.Free(keys);
            }
        }

        long version;
        OrtStatus.Check(OrtApi.ModelMetadataGetVersion(metadata, &version));
        return new OnnxModelMetadata(
            producerName: ReadString(metadata, OrtApi.ModelMetadataGetProducerName),
            graphName: ReadString(metadata, OrtApi.ModelMetadataGetGraphName),
            graphDescription: ReadString(metadata, OrtApi.ModelMetadataGetGraphDescription),
            domain: ReadString(metadata, OrtApi.ModelMetadataGetDomain),
            description: ReadString(metadata, OrtApi.ModelMetadataGetDescription),
            version: version,
            customMetadata: custom);
    }

    private static string ReadString(nint metadata, delegate* unmanaged<nint, nint, byte**, nint> getter)
    {
        byte* value;
        OrtStatus.Check(getter(metadata, OrtAllocator.Default, &value));
        return OrtAllocator.TakeString(value);
    }
}
