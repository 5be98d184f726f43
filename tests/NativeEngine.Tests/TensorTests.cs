using HighPerfInference.NativeEngine.Tests.Models;

namespace HighPerfInference.NativeEngine.Tests;

/// <summary>Every element type the server carries, through Identity with BatchRunner: into the caller's buffer and into ORT's.</summary>
public sealed class TensorTests
{
    public static TheoryData<TensorElementType> NumericTypes() =>
    [
        TensorElementType.Float, TensorElementType.UInt8, TensorElementType.Int8, TensorElementType.UInt16,
        TensorElementType.Int16, TensorElementType.Int32, TensorElementType.Int64, TensorElementType.Bool,
        TensorElementType.Float16, TensorElementType.Double, TensorElementType.UInt32, TensorElementType.UInt64,
        TensorElementType.BFloat16,
    ];

    [Theory]
    [MemberData(nameof(NumericTypes))]
    public void Every_numeric_type_round_trips_into_a_preallocated_and_an_ORT_allocated_output(TensorElementType type)
    {
        using var session = ModelSession.FromBytes(TestModels.Identity(type));
        Assert.Equal(type, session.Inputs[0].ElementType);
        using var runner = new BatchRunner(session);
        using var source = Filled(type, elementCount: 6);
        using var target = HostBuffer.Allocate(source.ByteLength);

        runner.SetInput(0, type, [2, 3], source.Pointer, (long)source.ByteLength);
        runner.SetOutput(0, type, [2, 3], target.Pointer, (long)target.ByteLength);
        runner.Run();
        Assert.Equal(source.AsSpan().ToArray(), target.AsSpan().ToArray());

        runner.SetInput(0, type, [2, 3], source.Pointer, (long)source.ByteLength);
        runner.SetOutputAllocated(0);
        runner.Run();
        var output = runner.GetOutput(0);
        var info = output.GetTensorTypeAndShape();
        Assert.Equal(type, info.ElementDataType);
        Assert.Equal([2L, 3L], info.Shape);
        Assert.Equal(source.AsSpan().ToArray(), output.GetTensorDataAsSpan<byte>().ToArray());
    }

    [Fact]
    public void Half_bfloat16_and_bool_values_survive()
    {
        Assert.Equal([(Half)1.5f, (Half)(-2f), Half.MaxValue], RoundTrip(TensorElementType.Float16, [(Half)1.5f, (Half)(-2f), Half.MaxValue]));
        // bfloat16 is the upper half of a float: 1.0f is 0x3F80.
        Assert.Equal([(ushort)0x3F80, (ushort)0xC000, (ushort)0], RoundTrip(TensorElementType.BFloat16, [(ushort)0x3F80, (ushort)0xC000, (ushort)0]));
        Assert.Equal([true, false, true], RoundTrip(TensorElementType.Bool, [true, false, true]));
    }

    [Fact]
    public void Cast_converts_int32_to_float()
    {
        using var session = ModelSession.FromBytes(TestModels.CastInt32ToFloat());
        using var runner = new BatchRunner(session);
        int[] values = [-3, 0, 7, int.MaxValue];
        using var input = new PinnedArray<int>(values);
        runner.SetInput(0, TensorElementType.Int32, [4], input.Pointer, input.ByteLength);
        runner.SetOutputAllocated(0);
        runner.Run();

        Assert.Equal([-3f, 0f, 7f, int.MaxValue], runner.GetOutput(0).GetTensorDataAsSpan<float>().ToArray());
    }

    [Fact]
    public void String_tensors_are_binary_safe_through_Identity()
    {
        byte[][] values = ["alpha"u8.ToArray(), [], "ünïcödé ✓"u8.ToArray(), [0x00, 0xFF, 0x00, 0x41]];
        using var session = ModelSession.FromBytes(TestModels.Identity(TensorElementType.String));
        using var runner = new BatchRunner(session);
        using var input = OrtValue.CreateTensorWithEmptyStrings(OrtAllocator.DefaultInstance, [2, 2]);
        for (int i = 0; i < values.Length; i++)
            input.StringTensorSetElementAt(values[i], i);

        runner.SetInput(0, input);
        runner.SetOutputAllocated(0);
        runner.Run();

        var output = runner.GetOutput(0);
        Assert.Equal([2L, 2L], output.GetTensorTypeAndShape().Shape);
        for (int i = 0; i < values.Length; i++)
            Assert.Equal(values[i], output.GetStringElementAsSpan(i).ToArray());
    }

    private static T[] RoundTrip<T>(TensorElementType type, T[] values)
        where T : unmanaged
    {
        using var session = ModelSession.FromBytes(TestModels.Identity(type));
        using var runner = new BatchRunner(session);
        var result = new T[values.Length];
        using var input = new PinnedArray<T>(values);
        using var output = new PinnedArray<T>(result);
        runner.SetInput(0, type, [1, values.Length], input.Pointer, input.ByteLength);
        runner.SetOutput(0, type, [1, values.Length], output.Pointer, output.ByteLength);
        runner.Run();
        return result;
    }

    /// <summary>A buffer of distinct bytes (0/1 for Bool, whose elements must be booleans).</summary>
    private static HostBuffer Filled(TensorElementType type, int elementCount)
    {
        var buffer = HostBuffer.Allocate((nuint)(elementCount * type.SizeOf()));
        var bytes = buffer.AsSpan();
        for (int i = 0; i < bytes.Length; i++)
            bytes[i] = type == TensorElementType.Bool ? (byte)(i % 2) : (byte)(i * 37 + 11);
        return buffer;
    }
}
