using HighPerfInference.NativeEngine.Tests.Models;

namespace HighPerfInference.NativeEngine.Tests;

/// <summary>Run, pre-allocated outputs, RunOptions and IoBinding on the add_sub model.</summary>
public sealed class RunTests : IDisposable
{
    private const int Width = 16;

    private readonly InferenceSession _session = InferenceSession.FromBytes(TestModels.AddSub());
    private readonly HostBuffer _input0 = HostBuffer.Allocate(Width * sizeof(float));
    private readonly HostBuffer _input1 = HostBuffer.Allocate(Width * sizeof(float));
    private readonly OrtValue _value0;
    private readonly OrtValue _value1;

    public RunTests()
    {
        for (int i = 0; i < Width; i++)
        {
            _input0.AsSpan<float>(0, Width)[i] = i + 1;
            _input1.AsSpan<float>(0, Width)[i] = 2 * (i + 1);
        }
        _value0 = OrtValue.CreateTensor(TensorElementType.Float, [1, Width], _input0.Pointer, _input0.ByteLength);
        _value1 = OrtValue.CreateTensor(TensorElementType.Float, [1, Width], _input1.Pointer, _input1.ByteLength);
    }

    public void Dispose()
    {
        _value0.Dispose();
        _value1.Dispose();
        _input0.Dispose();
        _input1.Dispose();
        _session.Dispose();
    }

    [Fact]
    public void Run_with_ORT_allocated_outputs_computes_sum_and_difference()
    {
        var outputs = new OrtValue?[2];
        _session.Run([_value0, _value1], outputs);
        using var sum = outputs[0]!;
        using var difference = outputs[1]!;

        AssertSumAndDifference(sum.GetTensorData<float>(), difference.GetTensorData<float>());
        Assert.Equal([1L, Width], sum.GetShape());
    }

    [Fact]
    public void Run_with_preallocated_outputs_writes_into_caller_memory()
    {
        using var sumBuffer = HostBuffer.Allocate(Width * sizeof(float));
        using var differenceBuffer = HostBuffer.Allocate(Width * sizeof(float));
        using var sum = OrtValue.CreateTensor(TensorElementType.Float, [1, Width], sumBuffer.Pointer, sumBuffer.ByteLength);
        using var difference = OrtValue.CreateTensor(TensorElementType.Float, [1, Width], differenceBuffer.Pointer, differenceBuffer.ByteLength);

        OrtValue?[] outputs = [sum, difference];
        _session.Run([_value0, _value1], outputs);

        AssertSumAndDifference(sumBuffer.AsSpan<float>(0, Width), differenceBuffer.AsSpan<float>(0, Width));
    }

    [Fact]
    public void Mixed_outputs_fill_only_the_null_slot()
    {
        using var sumBuffer = HostBuffer.Allocate(Width * sizeof(float));
        using var sum = OrtValue.CreateTensor(TensorElementType.Float, [1, Width], sumBuffer.Pointer, sumBuffer.ByteLength);

        OrtValue?[] outputs = [sum, null];
        _session.Run([_value0, _value1], outputs);
        using var difference = outputs[1]!;

        Assert.Same(sum, outputs[0]);
        AssertSumAndDifference(sumBuffer.AsSpan<float>(0, Width), difference.GetTensorData<float>());
    }

    [Fact]
    public void Steady_state_Run_with_preallocated_outputs_allocates_no_managed_memory()
    {
        using var sumBuffer = HostBuffer.Allocate(Width * sizeof(float));
        using var differenceBuffer = HostBuffer.Allocate(Width * sizeof(float));
        using var sum = OrtValue.CreateTensor(TensorElementType.Float, [1, Width], sumBuffer.Pointer, sumBuffer.ByteLength);
        using var difference = OrtValue.CreateTensor(TensorElementType.Float, [1, Width], differenceBuffer.Pointer, differenceBuffer.ByteLength);
        OrtValue[] inputs = [_value0, _value1];
        OrtValue?[] outputs = [sum, difference];
        using var runOptions = new RunOptions();

        for (int i = 0; i < 100; i++)
            _session.Run(inputs, outputs, runOptions);

        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 1000; i++)
            _session.Run(inputs, outputs, runOptions);
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        Assert.Equal(0, allocated);
        AssertSumAndDifference(sumBuffer.AsSpan<float>(0, Width), differenceBuffer.AsSpan<float>(0, Width));
    }

    [Fact]
    public void Run_checks_counts_and_refuses_disposed_values()
    {
        Assert.Throws<ArgumentException>(() => _session.Run([_value0], new OrtValue?[2]));
        Assert.Throws<ArgumentException>(() => _session.Run([_value0, _value1], new OrtValue?[1]));

        var disposed = OrtValue.CreateTensor(TensorElementType.Float, [1, Width], _input1.Pointer, _input1.ByteLength);
        disposed.Dispose();
        Assert.Throws<ObjectDisposedException>(() => _session.Run([_value0, disposed], new OrtValue?[2]));
    }

    [Fact]
    public void A_wrong_input_type_is_an_OrtException_with_ORT_code()
    {
        using var ints = OrtValue.CreateTensor(TensorElementType.Int32, [1, Width], _input1.Pointer, _input1.ByteLength);
        var error = Assert.Throws<OrtException>(() => _session.Run([_value0, ints], new OrtValue?[2]));
        Assert.Equal(OrtErrorCode.InvalidArgument, error.Code);
        Assert.Contains("tensor(int32)", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void RunOptions_tag_round_trips()
    {
        using var options = new RunOptions { Tag = "request-42" };
        Assert.Equal("request-42", options.Tag);
        var outputs = new OrtValue?[2];
        _session.Run([_value0, _value1], outputs, options);
        DisposeAll(outputs);
    }

    [Fact]
    public void Terminate_fails_runs_until_it_is_reset()
    {
        using var options = new RunOptions();
        options.Terminate();

        var error = Assert.Throws<OrtException>(() => _session.Run([_value0, _value1], new OrtValue?[2], options));
        Assert.Contains("terminate", error.Message, StringComparison.OrdinalIgnoreCase);

        options.ResetTerminate();
        var outputs = new OrtValue?[2];
        _session.Run([_value0, _value1], outputs, options);
        AssertSumAndDifference(outputs[0]!.GetTensorData<float>(), outputs[1]!.GetTensorData<float>());
        DisposeAll(outputs);
    }

    [Fact]
    public void IoBinding_runs_with_bound_inputs_and_a_preallocated_output_and_a_device_output()
    {
        using var sumBuffer = HostBuffer.Allocate(Width * sizeof(float));
        using var sum = OrtValue.CreateTensor(TensorElementType.Float, [1, Width], sumBuffer.Pointer, sumBuffer.ByteLength);
        using var binding = _session.CreateIoBinding();

        binding.BindInput(0, _value0);
        binding.BindInput("INPUT1", _value1);
        binding.BindOutput("OUTPUT0", sum);
        binding.BindOutput(1, OrtMemoryInfo.Cpu);
        binding.SynchronizeInputs();
        binding.Run();
        binding.SynchronizeOutputs();

        var outputs = binding.GetOutputValues();
        Assert.Equal(2, outputs.Length);
        AssertSumAndDifference(sumBuffer.AsSpan<float>(0, Width), outputs[1].GetTensorData<float>());
        Assert.Equal(outputs[0].DataPointer, sumBuffer.Pointer);
        DisposeAll(outputs);

        binding.ClearBoundOutputs();
        Assert.Empty(binding.GetOutputValues());
        binding.ClearBoundInputs();
        Assert.Throws<OrtException>(() => binding.Run());
    }

    [Fact]
    public void IoBinding_rejects_unknown_names_and_indices()
    {
        using var binding = _session.CreateIoBinding();
        Assert.Throws<ArgumentException>(() => binding.BindInput("NOPE", _value0));
        Assert.Throws<ArgumentOutOfRangeException>(() => binding.BindOutput(2, OrtMemoryInfo.Cpu));
    }

    [Fact]
    public void Memory_info_reports_its_allocator_name()
    {
        Assert.Equal("Cpu", OrtMemoryInfo.Cpu.Name);
        using var pinned = OrtMemoryInfo.Create("CudaPinned", OrtAllocatorType.Device, 0, OrtMemType.CpuOutput);
        Assert.Equal("CudaPinned", pinned.Name);
        Assert.Equal(0, pinned.DeviceId);
        var error = Assert.Throws<OrtException>(() => OrtMemoryInfo.Create("NoSuchDevice", OrtAllocatorType.Device, 0, OrtMemType.Default));
        Assert.Equal(OrtErrorCode.InvalidArgument, error.Code);
    }

    [Fact]
    public void Runs_on_several_threads_share_one_session()
    {
        Parallel.For(0, 64, new ParallelOptions { MaxDegreeOfParallelism = 4 }, _ =>
        {
            var outputs = new OrtValue?[2];
            _session.Run([_value0, _value1], outputs);
            AssertSumAndDifference(outputs[0]!.GetTensorData<float>(), outputs[1]!.GetTensorData<float>());
            DisposeAll(outputs);
        });
    }

    private static void AssertSumAndDifference(ReadOnlySpan<float> sum, ReadOnlySpan<float> difference)
    {
        Assert.Equal(Width, sum.Length);
        Assert.Equal(Width, difference.Length);
        for (int i = 0; i < Width; i++)
        {
            Assert.Equal(3f * (i + 1), sum[i]);
            Assert.Equal(-(i + 1f), difference[i]);
        }
    }

    private static void DisposeAll(OrtValue?[] values)
    {
        foreach (var value in values)
            value?.Dispose();
    }
}
