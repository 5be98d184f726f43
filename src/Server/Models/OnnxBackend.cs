using System.Buffers.Binary;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using HighPerfInference.NativeEngine;
using HighPerfInference.NativeEngine.Gpu;
using HighPerfInference.Protocol;
using HighPerfInference.Server.Scheduling;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using SessionOptions = Microsoft.ML.OnnxRuntime.SessionOptions;

namespace HighPerfInference.Server.Models;

/// <summary>Where one model instance runs: the CPU, or a GPU with the configured provider.</summary>
public readonly record struct InstancePlacement(ExecutionProviderKind Provider, int DeviceId);

/// <summary>
/// A model version loaded through NativeEngine: one ONNX Runtime session per instance (as Triton's
/// ORT backend does), so instances never share an intra-op thread pool or a GPU stream. An instance on
/// GPU owns a CUDA stream that its session runs on (ORT's user_compute_stream), and the version's batch
/// buffers come from the pinned memory pool.
/// </summary>
public sealed partial class OnnxBackend : IModelBackend
{
    private static readonly InstancePlacement s_cpu = new(ExecutionProviderKind.Cpu, 0);

    private readonly string _path;
    private readonly ModelConfig _config;
    private readonly IReadOnlyList<InstancePlacement> _placements;
    private readonly TensorRTProfile? _tensorRTProfile;
    /// <summary>The CPU session opened at load to read the signature; the first CPU runner takes it over.</summary>
    private ModelSession? _firstSession;

    private OnnxBackend(string path, ModelConfig config, IReadOnlyList<InstancePlacement> placements, ModelSession? session,
        ModelSignature signature, TensorRTProfile? tensorRTProfile, IBufferAllocator? allocator)
    {
        _path = path;
        _config = config;
        _placements = placements;
        _firstSession = session;
        _tensorRTProfile = tensorRTProfile;
        Signature = signature;
        Allocator = allocator;
    }

    public ModelSignature Signature { get; }

    /// <summary>The pinned memory pool's allocator when an instance runs on GPU; null (host memory) otherwise.</summary>
    public IBufferAllocator? Allocator { get; }

    /// <summary>Where each instance runs, after any fallback to the CPU.</summary>
    public IReadOnlyList<InstancePlacement> Placements => _placements;

    /// <summary>
    /// Opens the model at <paramref name="path"/> for <paramref name="config"/> and checks that they
    /// agree (batch dimension, declared inputs and outputs, supported datatypes). Throws
    /// <see cref="ModelConfigException"/> for a disagreement, <see cref="OnnxRuntimeException"/> when ORT
    /// cannot load the model, <see cref="ExecutionProviderUnavailableException"/> when its execution provider cannot load, and <see cref="InferenceException"/> (Unavailable)
    /// when the config places it on a GPU this process cannot use and does not allow the CPU fallback.
    /// Models on GPU take their batch buffers from <paramref name="pinnedMemory"/>.
    /// </summary>
    public static OnnxBackend Load(string path, ModelConfig config, PinnedMemory pinnedMemory, ILogger logger)
    {
        if (!File.Exists(path))
            throw new ModelConfigException(path, "default_model_filename", "the model file does not exist");
        var placements = Place(config, logger);
        // The signature comes from a CPU session: a GPU session needs its instance's stream, and TensorRT's
        // profile is built from the signature. A CPU model keeps this session for its first instance.
        var session = Open(path, config, s_cpu);
        try
        {
            var signature = new ModelSignature(
                Specs(path, config, session.Inputs, config.Inputs, "input"),
                Specs(path, config, session.Outputs, config.Outputs, "output"),
                config.MaxBatchSize);
            TensorRTProfile? profile = null;
            IBufferAllocator? allocator = null;
            foreach (var placement in placements)
            {
                if (placement.Provider == ExecutionProviderKind.Cpu)
                    continue;
                allocator ??= pinnedMemory.Allocator(placement.DeviceId);
                if (placement.Provider == ExecutionProviderKind.TensorRT)
                    profile ??= GpuSupport.TensorRTProfile(signature.Inputs, config.MaxBatchSize, config.DynamicBatching?.PreferredBatchSizes ?? []);
            }
            var keep = placements[0].Provider == ExecutionProviderKind.Cpu;
            var backend = new OnnxBackend(path, config, placements, keep ? session : null, signature, profile, allocator);
            if (!keep)
                session.Dispose();
            return backend;
        }
        catch
        {
            session.Dispose();
            throw;
        }
    }

    public IModelRunner CreateRunner(int index)
    {
        var placement = _placements[index];
        if (placement.Provider == ExecutionProviderKind.Cpu)
            return new OnnxRunner(Interlocked.Exchange(ref _firstSession, null) ?? Open(_path, _config, placement), Signature, stream: null);
        var stream = CudaStream.Create(placement.DeviceId);
        try
        {
            return new OnnxRunner(Open(_path, _config, placement, stream.NativeHandle, _tensorRTProfile), Signature, stream);
        }
        catch
        {
            stream.Dispose();
            throw;
        }
    }

    public void Dispose() => Interlocked.Exchange(ref _firstSession, null)?.Dispose();

    [LoggerMessage(Level = LogLevel.Warning, Message = "Model {Model}: {Problem} Running all {Count} instances on the CPU (execution_provider.fallback_to_cpu).")]
    private static partial void LogFallback(ILogger logger, string model, string problem, int count);

    /// <summary>
    /// The configured placements when every GPU they name can run its provider; otherwise all on the CPU with a
    /// warning when execution_provider.fallback_to_cpu allows it, else an Unavailable error that says what is missing.
    /// </summary>
    private static IReadOnlyList<InstancePlacement> Place(ModelConfig config, ILogger logger)
    {
        var placements = config.InstancePlacements();
        foreach (var placement in placements)
        {
            if (placement.Provider == ExecutionProviderKind.Cpu || GpuSupport.UnavailableReason(placement.Provider, placement.DeviceId) is not { } reason)
                continue;
            var problem = $"the {placement.Provider} execution provider on GPU {placement.DeviceId} is not available: {reason}";
            if (!config.ExecutionProvider.FallbackToCpu)
                throw new InferenceException(ErrorCode.Unavailable, $"{problem} Set execution_provider.fallback_to_cpu to run the model on the CPU instead.");
            LogFallback(logger, config.Name, problem, placements.Count);
            var cpu = new InstancePlacement[placements.Count];
            Array.Fill(cpu, s_cpu);
            return cpu;
        }
        return placements;
    }

    private static ModelSession Open(string path, ModelConfig config, InstancePlacement placement, nint stream = 0, TensorRTProfile? profile = null)
    {
        _ = OrtEnvironment.Shared; // before any ORT type, so that ORT's log is routed
        using var options = new SessionOptions
        {
            IntraOpNumThreads = config.IntraOpThreads,
            InterOpNumThreads = 1,
            ExecutionMode = ExecutionMode.ORT_SEQUENTIAL,
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
                MemoryLimit = config.ExecutionProvider.MemoryLimit,
                UserComputeStream = stream,
                ProfileMinShapes = profile?.MinShapes,
                ProfileOptShapes = profile?.OptShapes,
                ProfileMaxShapes = profile?.MaxShapes,
                FallbackToCpu = config.ExecutionProvider.FallbackToCpu,
            });
        }
        return ModelSession.Load(path, options);
    }

    /// <summary>The model's inputs or outputs as tensor specs, checked against the config's max_batch_size and declared tensors.</summary>
    private static TensorSpec[] Specs(string path, ModelConfig config, IReadOnlyList<TensorInfo> infos, IReadOnlyList<TensorConfig> declared, string kind)
    {
        var source = config.Source;
        var specs = new TensorSpec[infos.Count];
        for (var i = 0; i < specs.Length; i++)
        {
            var info = infos[i];
            if (!info.IsTensor)
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
        _ => throw new ArgumentOutOfRangeException(nameof(type), type, "no ONNX element type"),
    };
}

/// <summary>
/// Runs batches on one session through NativeEngine's <see cref="BatchRunner"/>: every pooled batch buffer, at
/// each batch size, is bound once as OrtValues over the buffer, so a steady stream of batches creates no
/// OrtValue and allocates nothing. Outputs of unknown shape are allocated by ORT and kept until the next run.
/// BYTES tensors are converted: inputs from length-prefixed elements to an ORT string tensor, string outputs
/// back into length-prefixed elements in a buffer of the runner's. A runner on GPU owns its session's CUDA stream.
/// </summary>
internal sealed unsafe class OnnxRunner(ModelSession session, ModelSignature signature, CudaStream? stream) : IModelRunner
{
    private readonly BatchRunner _runner = new(session);
    private readonly long[][] _outputShapes = new long[signature.Outputs.Count][];
    private readonly byte[]?[] _stringOutputs = new byte[]?[signature.Outputs.Count];
    private readonly OrtValue?[] _stringInputs = new OrtValue?[signature.Inputs.Count];

    public void Run(ReadOnlySpan<TensorView> inputs, Span<TensorView> outputs)
    {
        try
        {
            for (var i = 0; i < inputs.Length; i++)
            {
                ref readonly var input = ref inputs[i];
                if (input.DataType == DataType.Bytes)
                    _runner.SetInput(i, _stringInputs[i] = StringTensor(input));
                else
                    _runner.SetInput(i, OnnxBackend.ToElementType(input.DataType), input.Shape, input.Data, (long)input.ByteLength);
            }
            for (var o = 0; o < outputs.Length; o++)
            {
                ref readonly var output = ref outputs[o];
                if (output.Data == 0)
                    _runner.SetOutputAllocated(o);
                else
                    _runner.SetOutput(o, OnnxBackend.ToElementType(output.DataType), output.Shape, output.Data, (long)output.ByteLength);
            }
            _runner.Run();
        }
        finally
        {
            for (var i = 0; i < _stringInputs.Length; i++)
            {
                _stringInputs[i]?.Dispose();
                _stringInputs[i] = null;
            }
        }

        for (var o = 0; o < outputs.Length; o++)
        {
            ref var view = ref outputs[o];
            if (view.Data != 0)
                continue;
            var value = _runner.GetOutput(o);
            _outputShapes[o] = value.GetTensorTypeAndShape().Shape;
            view.Shape = _outputShapes[o];
            if (signature.Outputs[o].DataType == DataType.Bytes)
            {
                var length = WriteStrings(value, o);
                view.Data = (nint)Unsafe.AsPointer(ref MemoryMarshal.GetArrayDataReference(_stringOutputs[o]!));
                view.ByteLength = (nuint)length;
            }
            else
            {
                var data = value.GetTensorMutableRawData();
                view.Data = (nint)Unsafe.AsPointer(ref MemoryMarshal.GetReference(data));
                view.ByteLength = (nuint)data.Length;
            }
        }
    }

    public void Dispose()
    {
        _runner.Dispose();
        session.Dispose();
        stream?.Dispose(); // after the session, which may still have work queued on it
    }

    /// <summary>An ORT string tensor from length-prefixed elements (checked by the scheduler when the request arrived).</summary>
    private static OrtValue StringTensor(in TensorView view)
    {
        var tensor = OrtValue.CreateTensorWithEmptyStrings(OrtAllocator.DefaultInstance, view.Shape);
        try
        {
            var data = new ReadOnlySpan<byte>((void*)view.Data, checked((int)view.ByteLength));
            var count = ElementCount(view.Shape);
            for (var i = 0; i < count; i++)
            {
                var length = BinaryPrimitives.ReadInt32LittleEndian(data);
                tensor.StringTensorSetElementAt(data.Slice(sizeof(int), length), i);
                data = data[(sizeof(int) + length)..];
            }
            return tensor;
        }
        catch
        {
            tensor.Dispose();
            throw;
        }
    }

    /// <summary>Writes a string output as length-prefixed elements into a pinned buffer of the runner's; returns the byte count.</summary>
    private int WriteStrings(OrtValue value, int output)
    {
        var count = ElementCount(_outputShapes[output]);
        var total = 0;
        for (var i = 0; i < count; i++)
            total += sizeof(int) + value.GetStringElementAsSpan(i).Length;
        ref var buffer = ref _stringOutputs[output];
        if (buffer is null || buffer.Length < total)
            buffer = GC.AllocateUninitializedArray<byte>(Math.Max(total, 64), pinned: true);
        var destination = buffer.AsSpan(0, total);
        for (var i = 0; i < count; i++)
        {
            var element = value.GetStringElementAsSpan(i);
            BinaryPrimitives.WriteInt32LittleEndian(destination, element.Length);
            element.CopyTo(destination[sizeof(int)..]);
            destination = destination[(sizeof(int) + element.Length)..];
        }
        return total;
    }

    private static int ElementCount(long[] shape)
    {
        long count = 1;
        foreach (var dim in shape)
            count *= dim;
        return checked((int)count);
    }
}
