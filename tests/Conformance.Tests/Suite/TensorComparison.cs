using System.Buffers.Binary;
using System.Globalization;
using HighPerfInference.Conformance.Tests.Onnx;

namespace HighPerfInference.Conformance.Tests.Suite;

/// <summary>
/// Compares an output with its reference the way the ONNX backend test runner does: same element
/// type and shape; floating point within |actual - expected| &lt;= atol + rtol * |expected|, NaN equal
/// to NaN and infinities equal only to themselves (numpy's assert_allclose); everything else exact.
/// </summary>
internal static class TensorComparison
{
    /// <summary>Null when <paramref name="actual"/> matches, else what differs.</summary>
    public static string? Mismatch(ReferenceTensor expected, ReferenceTensor actual, Tolerance tolerance)
    {
        if (actual.DataType != expected.DataType)
            return $"element type {actual.DataType}, expected {expected.DataType}";
        if (!actual.Dims.AsSpan().SequenceEqual(expected.Dims))
            return $"shape {actual.ShapeText}, expected {expected.ShapeText}";
        if (expected.DataType == OnnxDataType.String)
            return StringMismatch(expected.Strings, actual.Strings);
        return expected.DataType.IsFloatingPoint()
            ? FloatingPointMismatch(expected, actual, tolerance)
            : ExactMismatch(expected, actual);
    }

    private static string? FloatingPointMismatch(ReferenceTensor expected, ReferenceTensor actual, Tolerance tolerance)
    {
        // Complex values compare as their real and imaginary parts, both within tolerance.
        var scalarCount = expected.Data.Length / ScalarSize(expected.DataType);
        var mismatches = 0;
        var first = -1;
        var worst = 0.0;
        for (var i = 0; i < scalarCount; i++)
        {
            var e = Scalar(expected, i);
            var a = Scalar(actual, i);
            if (tolerance.Close(e, a))
                continue;
            mismatches++;
            if (first < 0)
                first = i;
            worst = Math.Max(worst, Math.Abs(a - e));
        }

        return mismatches == 0 ? null : string.Create(CultureInfo.InvariantCulture,
            $"{mismatches} of {scalarCount} values differ beyond {tolerance} " +
            $"(largest difference {worst:G6}); first at [{first}]: {Scalar(actual, first):R}, expected {Scalar(expected, first):R}");
    }

    private static string? ExactMismatch(ReferenceTensor expected, ReferenceTensor actual)
    {
        if (actual.Data.AsSpan().SequenceEqual(expected.Data))
            return null;

        var size = expected.DataType.ElementSize();
        var count = expected.Data.Length / size;
        var mismatches = 0;
        var first = -1;
        for (var i = 0; i < count; i++)
        {
            if (expected.Data.AsSpan(i * size, size).SequenceEqual(actual.Data.AsSpan(i * size, size)))
                continue;
            mismatches++;
            if (first < 0)
                first = i;
        }

        return $"{mismatches} of {count} values differ; first at [{first}]: {Integer(actual, first)}, expected {Integer(expected, first)}";
    }

    private static string? StringMismatch(byte[][] expected, byte[][] actual)
    {
        for (var i = 0; i < expected.Length; i++)
        {
            if (!actual[i].AsSpan().SequenceEqual(expected[i]))
                return $"string [{i}] is \"{Text(actual[i])}\", expected \"{Text(expected[i])}\"";
        }

        return null;

        static string Text(byte[] bytes) => System.Text.Encoding.UTF8.GetString(bytes);
    }

    private static int ScalarSize(OnnxDataType type) => type switch
    {
        OnnxDataType.Complex64 => 4,
        OnnxDataType.Complex128 => 8,
        _ => type.ElementSize(),
    };

    private static double Scalar(ReferenceTensor tensor, int index)
    {
        var size = ScalarSize(tensor.DataType);
        var bytes = tensor.Data.AsSpan(index * size, size);
        return tensor.DataType switch
        {
            OnnxDataType.Float or OnnxDataType.Complex64 => BinaryPrimitives.ReadSingleLittleEndian(bytes),
            OnnxDataType.Double or OnnxDataType.Complex128 => BinaryPrimitives.ReadDoubleLittleEndian(bytes),
            OnnxDataType.Float16 => (double)BinaryPrimitives.ReadHalfLittleEndian(bytes),
            OnnxDataType.BFloat16 => BitConverter.Int32BitsToSingle(BinaryPrimitives.ReadUInt16LittleEndian(bytes) << 16),
            _ => throw new ArgumentOutOfRangeException(nameof(tensor), tensor.DataType, "not a floating-point type"),
        };
    }

    private static string Integer(ReferenceTensor tensor, int index)
    {
        var size = tensor.DataType.ElementSize();
        var bytes = tensor.Data.AsSpan(index * size, size);
        return tensor.DataType switch
        {
            OnnxDataType.Bool => (bytes[0] != 0).ToString(),
            OnnxDataType.UInt8 => bytes[0].ToString(CultureInfo.InvariantCulture),
            OnnxDataType.Int8 => ((sbyte)bytes[0]).ToString(CultureInfo.InvariantCulture),
            OnnxDataType.UInt16 => BinaryPrimitives.ReadUInt16LittleEndian(bytes).ToString(CultureInfo.InvariantCulture),
            OnnxDataType.Int16 => BinaryPrimitives.ReadInt16LittleEndian(bytes).ToString(CultureInfo.InvariantCulture),
            OnnxDataType.UInt32 => BinaryPrimitives.ReadUInt32LittleEndian(bytes).ToString(CultureInfo.InvariantCulture),
            OnnxDataType.Int32 => BinaryPrimitives.ReadInt32LittleEndian(bytes).ToString(CultureInfo.InvariantCulture),
            OnnxDataType.UInt64 => BinaryPrimitives.ReadUInt64LittleEndian(bytes).ToString(CultureInfo.InvariantCulture),
            OnnxDataType.Int64 => BinaryPrimitives.ReadInt64LittleEndian(bytes).ToString(CultureInfo.InvariantCulture),
            _ => Convert.ToHexString(bytes),
        };
    }
}
