using HighPerfInference.NativeEngine.Tests.Models;

namespace HighPerfInference.NativeEngine.Tests;

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
    public void Every_numeric_type_round_trips_through_Identity_with_ORT_allocated_output(TensorElementType type)
    {
        using var session = InferenceSession.FromBytes(TestModels.Identity(type));
        Assert.Equal(type, session.Inputs[0].ElementType);
        using var buffer = Filled(type, elementCount: 6);
        using var input = OrtValue.CreateTensor(type, [2, 3], buffer.Pointer, buffer.ByteLength);

        var outputs = new OrtValue?[1];
        session.Run([input], outputs);
        using var output = outputs[0]!;

        Assert.Equal(type, output.ElementType);
        Assert.Equal([2L, 3L], output.Shape.ToArray());
        Assert.Equal(6, output.ElementCount);
        Assert.Equal(buffer.AsSpan().ToArray(), output.GetTensorBytes().ToArray());
    }

    [Theory]
    [MemberData(nameof(NumericTypes))]
    public void Every_numeric_type_round_trips_into_a_preallocated_output(TensorElementType type)
    {
        using var session = InferenceSession.FromBytes(TestModels.Identity(type));
        using var source = Filled(type, elementCount: 8);
        using var target = HostBuffer.Allocate(source.ByteLength);
        using var input = OrtValue.CreateTensor(type, [4, 2], source.Pointer, source.ByteLength);
        using var output = OrtValue.CreateTensor(type, [4, 2], target.Pointer, target.ByteLength);

        OrtValue?[] outputs = [output];
        session.Run([input], outputs);

        Assert.Same(output, outputs[0]);
        Assert.Equal(source.AsSpan().ToArray(), target.AsSpan().ToArray());
        // The output span reads the caller's buffer itself: no copy in between.
        unsafe
        {
            fixed (byte* data = output.GetTensorBytes())
                Assert.Equal(target.Pointer, (nint)data);
        }
    }

    [Fact]
    public void Typed_spans_read_half_bfloat16_and_bool_elements()
    {
        using var halves = RoundTrip(TensorElementType.Float16, [(Half)1.5f, (Half)(-2f), Half.MaxValue]);
        Assert.Equal([(Half)1.5f, (Half)(-2f), Half.MaxValue], halves.GetTensorData<Half>().ToArray());

        // bfloat16 is the upper half of a float: 1.0f is 0x3F80.
        using var bfloat16 = RoundTrip(TensorElementType.BFloat16, [(ushort)0x3F80, (ushort)0xC000, (ushort)0]);
        Assert.Equal([(ushort)0x3F80, (ushort)0xC000, (ushort)0], bfloat16.GetTensorData<ushort>().ToArray());

        using var bools = RoundTrip(TensorElementType.Bool, [true, false, true]);
        Assert.Equal([true, false, true], bools.GetTensorData<bool>().ToArray());
    }

    [Fact]
    public void Cast_converts_int32_to_float()
    {
        using var session = InferenceSession.FromBytes(TestModels.CastInt32ToFloat());
        using var buffer = HostBuffer.Allocate(4 * sizeof(int));
        int[] values = [-3, 0, 7, int.MaxValue];
        values.CopyTo(buffer.AsSpan<int>(0, 4));
        using var input = OrtValue.CreateTensor(TensorElementType.Int32, [4], buffer.Pointer, buffer.ByteLength);

        var outputs = new OrtValue?[1];
        session.Run([input], outputs);
        using var output = outputs[0]!;

        Assert.Equal([-3f, 0f, 7f, int.MaxValue], output.GetTensorData<float>().ToArray());
    }

    [Fact]
    public void A_span_of_the_wrong_element_size_is_refused()
    {
        using var buffer = HostBuffer.Allocate(16);
        using var tensor = OrtValue.CreateTensor(TensorElementType.Float, [4], buffer.Pointer, buffer.ByteLength);
        Assert.Throws<InvalidOperationException>(() => tensor.GetTensorData<double>());
        Assert.Equal(4, tensor.GetTensorData<int>().Length); // same size: reinterpretation is allowed
    }

    [Fact]
    public void A_buffer_too_small_for_the_shape_is_an_OrtException()
    {
        using var buffer = HostBuffer.Allocate(8);
        var error = Assert.Throws<OrtException>(() => OrtValue.CreateTensor(TensorElementType.Float, [4], buffer.Pointer, buffer.ByteLength));
        Assert.Equal(OrtErrorCode.InvalidArgument, error.Code);
    }

    [Fact]
    public void ORT_allocated_tensors_have_the_requested_shape_and_type()
    {
        using var tensor = OrtValue.CreateTensor(TensorElementType.Int64, [3, 5]);
        Assert.True(tensor.IsTensor);
        Assert.Equal(TensorElementType.Int64, tensor.ElementType);
        Assert.Equal([3L, 5L], tensor.GetShape());
        Assert.Equal(15, tensor.GetTensorData<long>().Length);
        Assert.Equal(15 * sizeof(long), tensor.GetTensorBytes().Length);
    }

    [Fact]
    public void A_scalar_has_rank_zero_and_one_element()
    {
        using var buffer = HostBuffer.Allocate(sizeof(double));
        buffer.AsSpan<double>(0, 1)[0] = Math.PI;
        using var scalar = OrtValue.CreateTensor(TensorElementType.Double, [], buffer.Pointer, buffer.ByteLength);
        Assert.Equal(0, scalar.Shape.Length);
        Assert.Equal(1, scalar.ElementCount);
        Assert.Equal(Math.PI, scalar.GetTensorData<double>()[0]);
    }

    [Fact]
    public void String_tensors_are_created_read_back_and_run_through_Identity()
    {
        string[] values = ["alpha", "", "ünïcödé ✓", "a much longer string than the others, to vary the offsets"];
        using var input = OrtValue.CreateStringTensor([2, 2], values);
        Assert.Equal(TensorElementType.String, input.ElementType);
        Assert.Equal(values, input.GetStrings());

        using var session = InferenceSession.FromBytes(TestModels.Identity(TensorElementType.String));
        var outputs = new OrtValue?[1];
        session.Run([input], outputs);
        using var output = outputs[0]!;

        Assert.Equal([2L, 2L], output.GetShape());
        Assert.Equal(values, output.GetStrings());
    }

    [Fact]
    public void String_elements_are_binary_safe()
    {
        byte[] binary = [0x00, 0xFF, 0x00, 0x41];
        using var tensor = OrtValue.CreateStringTensor([2]);
        tensor.SetStringElement(0, binary);
        tensor.SetStringElement(1, "text");

        Assert.Equal(4, tensor.GetStringElementByteCount(0));
        var copy = new byte[8];
        Assert.Equal(4, tensor.CopyStringElement(0, copy));
        Assert.Equal(binary, copy[..4]);
        Assert.Equal("text", tensor.GetStrings()[1]);
        Assert.Throws<ArgumentException>(() => tensor.CopyStringElement(0, new byte[2]));
    }

    [Fact]
    public void A_string_tensor_needs_one_string_per_element()
    {
        Assert.Throws<ArgumentException>(() => OrtValue.CreateStringTensor([3], ["one", "two"]));
        Assert.Throws<ArgumentException>(() => OrtValue.CreateTensor(TensorElementType.String, [1], 0, 0));
    }

    private static OrtValue RoundTrip<T>(TensorElementType type, T[] values)
        where T : unmanaged
    {
        using var session = InferenceSession.FromBytes(TestModels.Identity(type));
        using var buffer = HostBuffer.Allocate((nuint)(values.Length * System.Runtime.CompilerServices.Unsafe.SizeOf<T>()));
        values.CopyTo(buffer.AsSpan<T>(0, values.Length));
        using var input = OrtValue.CreateTensor(type, [1, values.Length], buffer.Pointer, buffer.ByteLength);
        var outputs = new OrtValue?[1];
        session.Run([input], outputs);
        return outputs[0]!;
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
