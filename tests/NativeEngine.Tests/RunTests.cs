using HighPerfInference.NativeEngine.Tests.Models;

namespace HighPerfInference.NativeEngine.Tests;

/// <summary>BatchRunner on the add_sub model: buffers bound once, ORT-allocated outputs, errors, terminate.</summary>
public sealed class RunTests : IDisposable
{
    private const int Width = 16;
    private const long RowBytes = Width * sizeof(float);

    private readonly ModelSession _session = ModelSession.FromBytes(TestModels.AddSub());
    private readonly HostBuffer _input0 = HostBuffer.Allocate((nuint)(4 * RowBytes));
    private readonly HostBuffer _input1 = HostBuffer.Allocate((nuint)(4 * RowBytes));
    private readonly HostBuffer _sum = HostBuffer.Allocate((nuint)(4 * RowBytes));
    private readonly HostBuffer _difference = HostBuffer.Allocate((nuint)(4 * RowBytes));
    private readonly BatchRunner _runner;

    public RunTests()
    {
        var a = _input0.AsSpan<float>(0, 4 * Width);
        var b = _input1.AsSpan<float>(0, 4 * Width);
        for (int i = 0; i < a.Length; i++)
        {
            a[i] = i + 1;
            b[i] = 2 * (i + 1);
        }
        _runner = new BatchRunner(_session);
    }

    public void Dispose()
    {
        _runner.Dispose();
        _session.Dispose();
        _input0.Dispose();
        _input1.Dispose();
        _sum.Dispose();
        _difference.Dispose();
    }

    [Fact]
    public void Preallocated_outputs_are_written_in_the_callers_buffers()
    {
        SetInputs(rows: 1);
        SetOutputs(rows: 1);
        _runner.Run();

        AssertSumAndDifference(_sum.AsSpan<float>(0, Width), _difference.AsSpan<float>(0, Width), rows: 1);
    }

    [Fact]
    public void ORT_allocates_the_outputs_it_is_asked_to_and_they_live_until_the_next_run()
    {
        SetInputs(rows: 2);
        _runner.SetOutput(0, TensorElementType.Float, [2, Width], _sum.Pointer, 2 * RowBytes);
        _runner.SetOutputAllocated(1);
        _runner.Run();

        var difference = _runner.GetOutput(1);
        Assert.Equal([2L, Width], difference.GetTensorTypeAndShape().Shape);
        AssertSumAndDifference(_sum.AsSpan<float>(0, 2 * Width), difference.GetTensorDataAsSpan<float>(), rows: 2);
    }

    [Fact]
    public void One_binding_per_buffer_set_and_shape_and_a_steady_stream_allocates_nothing()
    {
        for (int i = 0; i < 100; i++)
        {
            SetInputs(rows: 1 + (i % 2));
            SetOutputs(rows: 1 + (i % 2));
            _runner.Run();
        }
        Assert.Equal(2, _runner.BindingCount); // batch size 1 and 2 over the same buffers

        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 1000; i++)
        {
            SetInputs(rows: 1 + (i % 2));
            SetOutputs(rows: 1 + (i % 2));
            _runner.Run();
        }
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        Assert.Equal(0, allocated);
        Assert.Equal(2, _runner.BindingCount);
        AssertSumAndDifference(_sum.AsSpan<float>(0, 2 * Width), _difference.AsSpan<float>(0, 2 * Width), rows: 2);

        _runner.ReleaseBindings();
        Assert.Equal(0, _runner.BindingCount);
    }

    [Fact]
    public void Another_buffer_at_the_same_shape_gets_its_own_binding_and_its_own_answer()
    {
        SetInputs(rows: 1);
        SetOutputs(rows: 1);
        _runner.Run();

        // Row 3 of the inputs as a batch of one: a different address, so a different binding.
        _runner.SetInput(0, TensorElementType.Float, [1, Width], _input0.Pointer + (nint)(3 * RowBytes), RowBytes);
        _runner.SetInput(1, TensorElementType.Float, [1, Width], _input1.Pointer + (nint)(3 * RowBytes), RowBytes);
        SetOutputs(rows: 1);
        _runner.Run();

        Assert.Equal(2, _runner.BindingCount);
        var sum = _sum.AsSpan<float>(0, Width);
        for (int i = 0; i < Width; i++)
            Assert.Equal(3f * (3 * Width + i + 1), sum[i]);
    }

    [Fact]
    public void What_was_set_is_forgotten_after_a_run()
    {
        SetInputs(rows: 1);
        SetOutputs(rows: 1);
        _runner.Run();

        _runner.SetInput(0, TensorElementType.Float, [1, Width], _input0.Pointer, RowBytes);
        var error = Assert.Throws<InvalidOperationException>(_runner.Run);
        Assert.Contains("INPUT1", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_wrong_input_type_is_ORT_error_naming_the_type()
    {
        _runner.SetInput(0, TensorElementType.Float, [1, Width], _input0.Pointer, RowBytes);
        _runner.SetInput(1, TensorElementType.Int32, [1, Width], _input1.Pointer, RowBytes);
        SetOutputs(rows: 1);

        var error = Assert.Throws<OnnxRuntimeException>(_runner.Run);
        Assert.Contains("tensor(int32)", error.Message, StringComparison.Ordinal);

        // The runner is still usable.
        SetInputs(rows: 1);
        SetOutputs(rows: 1);
        _runner.Run();
        AssertSumAndDifference(_sum.AsSpan<float>(0, Width), _difference.AsSpan<float>(0, Width), rows: 1);
    }

    [Fact]
    public void A_buffer_too_small_for_its_shape_is_refused()
    {
        _runner.SetInput(0, TensorElementType.Float, [2, Width], _input0.Pointer, RowBytes);
        _runner.SetInput(1, TensorElementType.Float, [2, Width], _input1.Pointer, RowBytes);
        SetOutputs(rows: 2);
        Assert.Throws<OnnxRuntimeException>(_runner.Run);
    }

    [Fact]
    public void Terminate_fails_runs_until_it_is_reset()
    {
        _runner.Terminate();
        SetInputs(rows: 1);
        SetOutputs(rows: 1);
        var error = Assert.Throws<OnnxRuntimeException>(_runner.Run);
        Assert.Contains("terminate", error.Message, StringComparison.OrdinalIgnoreCase);

        _runner.ResetTerminate();
        SetInputs(rows: 1);
        SetOutputs(rows: 1);
        _runner.Run();
        AssertSumAndDifference(_sum.AsSpan<float>(0, Width), _difference.AsSpan<float>(0, Width), rows: 1);
    }

    [Fact]
    public void GetOutput_needs_an_output_ORT_allocated()
    {
        SetInputs(rows: 1);
        SetOutputs(rows: 1);
        _runner.Run();
        Assert.Throws<InvalidOperationException>(() => _runner.GetOutput(0));
    }

    private void SetInputs(int rows)
    {
        _runner.SetInput(0, TensorElementType.Float, [rows, Width], _input0.Pointer, rows * RowBytes);
        _runner.SetInput(1, TensorElementType.Float, [rows, Width], _input1.Pointer, rows * RowBytes);
    }

    private void SetOutputs(int rows)
    {
        _runner.SetOutput(0, TensorElementType.Float, [rows, Width], _sum.Pointer, rows * RowBytes);
        _runner.SetOutput(1, TensorElementType.Float, [rows, Width], _difference.Pointer, rows * RowBytes);
    }

    private static void AssertSumAndDifference(ReadOnlySpan<float> sum, ReadOnlySpan<float> difference, int rows)
    {
        Assert.Equal(rows * Width, sum.Length);
        Assert.Equal(rows * Width, difference.Length);
        for (int i = 0; i < sum.Length; i++)
        {
            Assert.Equal(3f * (i + 1), sum[i]);
            Assert.Equal(-(i + 1f), difference[i]);
        }
    }
}
