using System.Buffers.Binary;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using HighPerfInference.NativeEngine;
using HighPerfInference.Protocol;
using HighPerfInference.Server.Scheduling;
using SessionOptions = HighPerfInference.NativeEngine.SessionOptions;

namespace HighPerfInference.Server.Models;

/// <summary>Where one model instance runs: the CPU, or a GPU with the configured provider.</summary>
public readonly record struct InstancePlacement(ExecutionProviderKind Provider, int DeviceId);

/// <summary>
/// A model version loaded through NativeEngine: one ONNX Runtime session per instance (as Triton's
/// ORT backend does), so instances never share an intra-op thread pool or a GPU stream.
/// </summary>
public sealed class OnnxBackend : IModelBackend
{
    private readonly string _path;
    private readonly ModelConfig _config;
    private readonly IReadOnlyList<InstancePlacement> _placements;
    /// <summary>The session opened at load to read the signature; the first runner takes it over.</summary>
    private InferenceSession? _firstSession;

    private OnnxBackend(string path, ModelConfig config, IReadOnlyList<InstancePlacement> placements, InferenceSession session, ModelSignature signature)
    {
        _path = path;
        _config = config;
        _placements = placements;
        _firstSession = session;
        Signature = signature;
    }

    public ModelSignature Signature { get; }

    /// <summary>
    /// Opens the model at <paramref name="path"/> for <paramref name="config"/> and checks that they
    /// agree (batch dimension, declared inputs and outputs, supported datatypes). Throws
    /// <see cref="ModelConfigException"/> for a disagreement and <see cref="OrtException"/> when ORT
    /// cannot load the model or its execution provider.
    /// </summary>
    public static OnnxBackend Load(string path, ModelConfig config)
    {
        if (!File.Exists(path))
            throw new ModelConfigException(path, "default_model_filename", "the model file does not exist");
        var placements = config.InstancePlacements();
        var session = Open(path, config, placements.Count > 0 ? placements[0] : default);
        try
        {
            var signature = new ModelSignature(
                Specs(path, config, session.Inputs, config.Inputs, "input"),
                Specs(path, config, session.Outputs, config.Outputs, "output"),
                config.MaxBatchSize);
            return new OnnxBackend(path, config, placements, session, signature);
        }
        catch
        {
            session.Dispose();
            throw;
        }
    }

    public IModelRunner CreateRunner(int index)
    {
        var session = Interlocked.Exchange(ref _firstSession, null) ?? Open(_path, _config, _placements[index]);
        return new OnnxRunner(session, Signature);
    }

    public void Dispose() => Interlocked.Exchange(ref _firstSession, null)?.Dispose();

    private static InferenceSession Open(string path, ModelConfig config, InstancePlacement placement)
    {
        using var options = new SessionOptions
        {
            IntraOpNumThreads = config.IntraOpThreads,
            InterOpNumThreads = 1,
            ExecutionMode = ExecutionMode.Sequential,
        };
        if (placement.Provider != ExecutionProviderKind.Cpu)
        {
            options.AppendExecutionProvider(new ExecutionProviderOptions
            {
                Kind = placement.Provider,
                DeviceId = placement.DeviceId,
                Fp16 = config.ExecutionProvider.Fp16,
                EngineCachePath = config.ExecutionProvider.EngineCachePath,
                WorkspaceSize = config.ExecutionProvider.WorkspaceSize,
                FallbackToCpu = config.ExecutionProvider.FallbackToCpu,
            });
        }
        return InferenceSession.Load(path, options);
    }

    /// <summary>The model's inputs or outputs as tensor specs, checked against the config's max_batch_size and declared tensors.</summary>
    private static TensorSpec[] Specs(string path, ModelConfig config, IReadOnlyList<TensorInfo> infos, IReadOnlyList<TensorConfig> declared, string kind)
    {
        var source = config.Source;
        var specs = new TensorSpec[infos.Count];
        for (var i = 0; i < specs.Length; i++)
        {
            var info = infos[i];
            if (info.ValueType != OnnxValueType.Tensor)
                throw new ModelConfigException(path, kind, $"{kind} '{info.Name}' is a {info.ValueType}, not a tensor; only tensors are supported");
            var dataType = ToDataType(info.ElementType);
            if (dataType == DataType.Invalid)
                throw new ModelConfigException(path, kind, $"{kind} '{info.Name}' has element type {info.ElementType}, which the server does not support");
            if (config.MaxBatchSize > 0 && (info.Shape.Length == 0 || info.Shape[0] >= 0))
            {
                throw new ModelConfigException(source, "max_batch_size",
                    $"is {config.MaxBatchSize}, but {kind} '{info.Name}' of the model has no variable first (batch) dimension (shape [{string.Join(",", info.Shape)}]); set max_batch_size to 0");
            }
            specs[i] = new TensorSpec(info.Name, dataType, info.Shape);
        }
        foreach (var tensor in declared)
        {
            var spec = Array.Find(specs, s => s.Name == tensor.Name)
                ?? throw new ModelConfigException(source, kind, $"declares '{tensor.Name}', which the model does not have (it has {string.Join(", ", Array.ConvertAll(specs, s => s.Name))})");
            var dims = config.MaxBatchSize > 0 ? spec.Shape[1..] : spec.Shape;
            if (tensor.DataType != spec.DataType || !tensor.Dims.AsSpan().SequenceEqual(dims))
            {
                throw new ModelConfigException(source, kind,
                    $"declares '{tensor.Name}' as {ModelConfigJson.TritonTypeName(tensor.DataType)} [{string.Join(",", tensor.Dims)}], the model has {ModelConfigJson.TritonTypeName(spec.DataType)} [{string.Join(",", dims)}]");
            }
        }
        return specs;
    }

    internal static DataType ToDataType(TensorElementType type) => type switch
    {
        TensorElementType.Bool => DataType.Bool,
        TensorElementType.UInt8 => DataType.UInt8,
        TensorElementType.UInt16 => DataType.UInt16,
        TensorElementType.UInt32 => DataType.UInt32,
        TensorElementType.UInt64 => DataType.UInt64,
        TensorElementType.Int8 => DataType.Int8,
        TensorElementType.Int16 => DataType.Int16,
        TensorElementType.Int32 => DataType.Int32,
        TensorElementType.Int64 => DataType.Int64,
        TensorElementType.Float16 => DataType.Fp16,
        TensorElementType.BFloat16 => DataType.Bf16,
        TensorElementType.Float => DataType.Fp32,
        TensorElementType.Double => DataType.Fp64,
        TensorElementType.String => DataType.Bytes,
        _ => DataType.Invalid,
    };

    internal static TensorElementType ToElementType(DataType type) => type switch
    {
        DataType.Bool => TensorElementType.Bool,
        DataType.UInt8 => TensorElementType.UInt8,
        DataType.UInt16 => TensorElementType.UInt16,
        DataType.UInt32 => TensorElementType.UInt32,
        DataType.UInt64 => TensorElementType.UInt64,
        DataType.Int8 => TensorElementType.Int8,
        DataType.Int16 => TensorElementType.Int16,
        DataType.Int32 => TensorElementType.Int32,
        DataType.Int64 => TensorElementType.Int64,
        DataType.Fp16 => TensorElementType.Float16,
        DataType.Bf16 => TensorElementType.BFloat16,
        DataType.Fp32 => TensorElementType.Float,
        DataType.Fp64 => TensorElementType.Double,
        DataType.Bytes => TensorElementType.String,
        _ => TensorElementType.Undefined,
    };
}

/// <summary>
/// Runs batches on one session. Tensors over the batch buffers are cached by address and length
/// (and checked by shape), so a steady stream of batches creates no new OrtValue; outputs of
/// unknown shape are allocated by ORT and kept until the next run. BYTES tensors are converted:
/// inputs from length-prefixed elements to an ORT string tensor, string outputs back into
/// length-prefixed elements in a buffer of the runner's.
/// </summary>
internal sealed unsafe class OnnxRunner(InferenceSession session, ModelSignature signature) : IModelRunner
{
    /// <summary>Cached tensors before the cache is emptied; enough for a few pooled batches at every batch size.</summary>
    private const int CacheLimit = 4096;

    private readonly OrtValue[] _inputs = new OrtValue[signature.Inputs.Count];
    private readonly OrtValue?[] _outputs = new OrtValue?[signature.Outputs.Count];
    private readonly bool[] _ortOwned = new bool[signature.Outputs.Count];
    private readonly long[][] _outputShapes = new long[signature.Outputs.Count][];
    private readonly byte[]?[] _stringOutputs = new byte[]?[signature.Outputs.Count];
    private readonly Dictionary<(nint Data, nuint ByteLength), CachedTensor> _cache = [];

    public void Run(ReadOnlySpan<TensorView> inputs, Span<TensorView> outputs)
    {
        ReleaseOrtOutputs();
        if (_cache.Count + inputs.Length + outputs.Length > CacheLimit)
            ClearCache();
        try
        {
            for (var i = 0; i < inputs.Length; i++)
                _inputs[i] = inputs[i].DataType == DataType.Bytes ? StringTensor(inputs[i]) : Tensor(inputs[i]);
            for (var o = 0; o < outputs.Length; o++)
            {
                _ortOwned[o] = outputs[o].Data == 0;
                _outputs[o] = _ortOwned[o] ? null : Tensor(outputs[o]);
            }

            session.Run(_inputs, _outputs);
        }
        finally
        {
            for (var i = 0; i < inputs.Length; i++)
            {
                if (inputs[i].DataType == DataType.Bytes)
                    _inputs[i]?.Dispose();
            }
        }

        for (var o = 0; o < outputs.Length; o++)
        {
            if (!_ortOwned[o])
                continue;
            var value = _outputs[o]!;
            var shape = value.Shape;
            if (_outputShapes[o]?.Length != shape.Length)
                _outputShapes[o] = new long[shape.Length];
            shape.CopyTo(_outputShapes[o]);
            ref var view = ref outputs[o];
            view.Shape = _outputShapes[o];
            if (signature.Outputs[o].DataType == DataType.Bytes)
            {
                var length = WriteStrings(value, o);
                view.Data = (nint)Unsafe.AsPointer(ref MemoryMarshal.GetArrayDataReference(_stringOutputs[o]!));
                view.ByteLength = (nuint)length;
            }
            else
            {
                view.Data = value.DataPointer;
                view.ByteLength = (nuint)(value.ElementCount * signature.Outputs[o].DataType.ElementSize());
            }
        }
    }

    public void Dispose()
    {
        ReleaseOrtOutputs();
        ClearCache();
        session.Dispose();
    }

    private OrtValue Tensor(in TensorView view)
    {
        var key = (view.Data, view.ByteLength);
        if (_cache.TryGetValue(key, out var cached))
        {
            if (cached.Shape.AsSpan().SequenceEqual(view.Shape))
                return cached.Value;
            cached.Value.Dispose();
        }
        var value = OrtValue.CreateTensor(OnnxBackend.ToElementType(view.DataType), view.Shape, view.Data, view.ByteLength);
        _cache[key] = new CachedTensor((long[])view.Shape.Clone(), value);
        return value;
    }

    /// <summary>An ORT string tensor from length-prefixed elements (checked by the scheduler when the request arrived).</summary>
    private static OrtValue StringTensor(in TensorView view)
    {
        var tensor = OrtValue.CreateStringTensor(view.Shape);
        var data = new ReadOnlySpan<byte>((void*)view.Data, checked((int)view.ByteLength));
        var count = tensor.ElementCount;
        for (long i = 0; i < count; i++)
        {
            var length = BinaryPrimitives.ReadInt32LittleEndian(data);
            tensor.SetStringElement(i, data.Slice(sizeof(int), length));
            data = data[(sizeof(int) + length)..];
        }
        return tensor;
    }

    /// <summary>Writes a string output as length-prefixed elements into the output's pinned buffer; returns the byte count.</summary>
    private int WriteStrings(OrtValue value, int output)
    {
        var count = value.ElementCount;
        var total = 0;
        for (long i = 0; i < count; i++)
            total += sizeof(int) + value.GetStringElementByteCount(i);
        ref var buffer = ref _stringOutputs[output];
        if (buffer is null || buffer.Length < total)
            buffer = GC.AllocateUninitializedArray<byte>(Math.Max(total, 64), pinned: true);
        var destination = buffer.AsSpan(0, total);
        for (long i = 0; i < count; i++)
        {
            var length = value.CopyStringElement(i, destination[sizeof(int)..]);
            BinaryPrimitives.WriteInt32LittleEndian(destination, length);
            destination = destination[(sizeof(int) + length)..];
        }
        return total;
    }

    private void ClearCache()
    {
        foreach (var cached in _cache.Values)
            cached.Value.Dispose();
        _cache.Clear();
    }

    private void ReleaseOrtOutputs()
    {
        for (var o = 0; o < _outputs.Length; o++)
        {
            if (_ortOwned[o])
                _outputs[o]?.Dispose();
            _outputs[o] = null;
            _ortOwned[o] = false;
        }
    }

    private readonly record struct CachedTensor(long[] Shape, OrtValue Value);
}
