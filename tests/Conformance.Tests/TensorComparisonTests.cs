using System.Buffers.Binary;
using HighPerfInference.Conformance.Tests.Onnx;
using HighPerfInference.Conformance.Tests.Suite;

namespace HighPerfInference.Conformance.Tests;

public class TensorComparisonTests
{
    [Theory]
    [InlineData(1.0, 1.0009, true)] // within rtol
    [InlineData(1.0, 1.0011, false)]
    [InlineData(0.0, 1e-7, true)] // within atol
    [InlineData(0.0, 1e-6, false)]
    [InlineData(double.NaN, double.NaN, true)]
    [InlineData(double.NaN, 0.0, false)]
    [InlineData(0.0, double.NaN, false)]
    [InlineData(double.PositiveInfinity, double.PositiveInfinity, true)]
    [InlineData(double.PositiveInfinity, double.NegativeInfinity, false)]
    [InlineData(double.PositiveInfinity, 1e308, false)]
    public void Close_uses_the_backend_runners_tolerances(double expected, double actual, bool close) =>
        Assert.Equal(close, Tolerance.Default.Close(expected, actual));

    [Fact]
    public void Floats_within_tolerance_match()
    {
        var expected = Float([2], 100f, float.NaN);
        var actual = Float([2], 100.05f, float.NaN);

        Assert.Null(TensorComparison.Mismatch(expected, actual, Tolerance.Default));
    }

    [Fact]
    public void Floats_beyond_tolerance_are_reported_with_the_first_difference()
    {
        var expected = Float([3], 1f, 2f, 3f);
        var actual = Float([3], 1f, 2.5f, 3.5f);

        var mismatch = TensorComparison.Mismatch(expected, actual, Tolerance.Default);

        Assert.NotNull(mismatch);
        Assert.StartsWith("2 of 3 values differ", mismatch);
        Assert.Contains("first at [1]: 2.5, expected 2", mismatch);
    }

    [Fact]
    public void Integers_compare_exactly()
    {
        var expected = new ReferenceTensor { Name = "", DataType = OnnxDataType.Int64, Dims = [2], Data = [.. BitConverter.GetBytes(1000L), .. BitConverter.GetBytes(-7L)] };
        var actual = new ReferenceTensor { Name = "", DataType = OnnxDataType.Int64, Dims = [2], Data = [.. BitConverter.GetBytes(1000L), .. BitConverter.GetBytes(-6L)] };

        Assert.Equal("1 of 2 values differ; first at [1]: -6, expected -7", TensorComparison.Mismatch(expected, actual, Tolerance.Default));
    }

    [Fact]
    public void Half_precision_types_compare_as_numbers()
    {
        // bfloat16 0x3F80 = 1.0 and 0x3F81 = 1.0078125: beyond rtol 1e-3.
        var one = new ReferenceTensor { Name = "", DataType = OnnxDataType.BFloat16, Dims = [1], Data = [0x80, 0x3F] };
        var next = new ReferenceTensor { Name = "", DataType = OnnxDataType.BFloat16, Dims = [1], Data = [0x81, 0x3F] };

        Assert.Null(TensorComparison.Mismatch(one, one, Tolerance.Default));
        Assert.NotNull(TensorComparison.Mismatch(one, next, Tolerance.Default));
    }

    [Fact]
    public void Type_and_shape_must_agree()
    {
        var expected = Float([2], 1f, 2f);

        Assert.Equal("shape [1,2], expected [2]", TensorComparison.Mismatch(expected, Float([1, 2], 1f, 2f), Tolerance.Default));
        Assert.Equal("element type Int32, expected Float", TensorComparison.Mismatch(expected,
            new ReferenceTensor { Name = "", DataType = OnnxDataType.Int32, Dims = [2], Data = new byte[8] }, Tolerance.Default));
    }

    [Fact]
    public void Strings_compare_byte_for_byte()
    {
        var expected = new ReferenceTensor { Name = "", DataType = OnnxDataType.String, Dims = [2], Strings = ["a"u8.ToArray(), "b"u8.ToArray()] };
        var actual = new ReferenceTensor { Name = "", DataType = OnnxDataType.String, Dims = [2], Strings = ["a"u8.ToArray(), "B"u8.ToArray()] };

        Assert.Null(TensorComparison.Mismatch(expected, expected, Tolerance.Default));
        Assert.Equal("string [1] is \"B\", expected \"b\"", TensorComparison.Mismatch(expected, actual, Tolerance.Default));
    }

    private static ReferenceTensor Float(long[] dims, params float[] values)
    {
        var data = new byte[values.Length * 4];
        for (var i = 0; i < values.Length; i++)
            BinaryPrimitives.WriteSingleLittleEndian(data.AsSpan(i * 4), values[i]);
        return new ReferenceTensor { Name = "", DataType = OnnxDataType.Float, Dims = dims, Data = data };
    }
}
