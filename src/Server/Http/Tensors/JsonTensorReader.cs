using System.Buffers;
using System.Buffers.Text;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json;
using HighPerfInference.Protocol;

namespace HighPerfInference.Server.Http.Tensors;

/// <summary>
/// Reads a tensor written as JSON (a value, or arrays nested to any depth) straight from the
/// <see cref="Utf8JsonReader"/> into the tensor's raw little-endian bytes, element by element: no
/// object model, no intermediate numbers array. BYTES elements are strings (or TensorFlow's
/// {"b64": "..."}) and become a 4-byte length prefix followed by the UTF-8 bytes. FP16 and BF16
/// elements are JSON numbers, converted. Floating-point elements may also be the strings "NaN",
/// "Infinity" and "-Infinity", as the response writer writes them.
/// </summary>
/// <remarks>The machine is little-endian (x64, arm64), so an element's bytes are its memory bytes.</remarks>
internal static class JsonTensorReader
{
    public const int MaxRank = 16;

    /// <summary>
    /// Reads one JSON tensor value. The reader is on its first token and is left on its last.
    /// Nested arrays must be rectangular; their lengths go to <paramref name="shape"/> (at least
    /// <see cref="MaxRank"/> long) and the nesting depth to <paramref name="rank"/>. <paramref name="field"/>
    /// names the value in error messages.
    /// </summary>
    /// <returns>The number of elements read.</returns>
    public static long Read(ref Utf8JsonReader reader, DataType type, PooledBuffer destination, scoped Span<long> shape, out int rank, TensorField field)
    {
        Span<long> counts = stackalloc long[MaxRank];
        shape[..MaxRank].Fill(-1);
        rank = -1;
        var depth = 0;
        var maxDepth = 0;
        long elements = 0;
        do
        {
            switch (reader.TokenType)
            {
                case JsonTokenType.StartArray:
                    if (depth > 0)
                        counts[depth - 1]++;
                    if (rank >= 0 && depth >= rank)
                        throw Ragged(field);
                    if (depth == MaxRank)
                        throw new InferenceException(ErrorCode.InvalidArgument, $"{field} nests arrays deeper than {MaxRank} levels");
                    depth++;
                    maxDepth = Math.Max(maxDepth, depth);
                    break;
                case JsonTokenType.EndArray:
                    var level = depth - 1;
                    if (shape[level] < 0)
                        shape[level] = counts[level];
                    else if (shape[level] != counts[level])
                        throw Ragged(field);
                    counts[level] = 0;
                    depth--;
                    break;
                default:
                    if (depth > 0)
                        counts[depth - 1]++;
                    if (rank < 0)
                        rank = depth;
                    else if (depth != rank)
                        throw Ragged(field);
                    ReadElement(ref reader, type, destination, elements, field);
                    elements++;
                    break;
            }
        }
        while (depth > 0 && reader.Read());

        if (rank < 0)
            rank = maxDepth; // only empty arrays: [] is shape [0], [[], []] is [2, 0]
        for (var i = 0; i < rank; i++)
        {
            if (shape[i] < 0)
                shape[i] = 0;
        }
        return elements;
    }

    private static void ReadElement(ref Utf8JsonReader reader, DataType type, PooledBuffer destination, long index, TensorField field)
    {
        var token = reader.TokenType;
        var ok = type switch
        {
            DataType.Bool => token is JsonTokenType.True or JsonTokenType.False && Put(destination, (byte)(token == JsonTokenType.True ? 1 : 0)),
            DataType.UInt8 => token == JsonTokenType.Number && reader.TryGetByte(out var u8) && Put(destination, u8),
            DataType.UInt16 => token == JsonTokenType.Number && reader.TryGetUInt16(out var u16) && Put(destination, u16),
            DataType.UInt32 => token == JsonTokenType.Number && reader.TryGetUInt32(out var u32) && Put(destination, u32),
            DataType.UInt64 => token == JsonTokenType.Number && reader.TryGetUInt64(out var u64) && Put(destination, u64),
            DataType.Int8 => token == JsonTokenType.Number && reader.TryGetSByte(out var i8) && Put(destination, i8),
            DataType.Int16 => token == JsonTokenType.Number && reader.TryGetInt16(out var i16) && Put(destination, i16),
            DataType.Int32 => token == JsonTokenType.Number && reader.TryGetInt32(out var i32) && Put(destination, i32),
            DataType.Int64 => token == JsonTokenType.Number && reader.TryGetInt64(out var i64) && Put(destination, i64),
            DataType.Fp16 => TryGetDouble(ref reader, out var h) && Put(destination, BitConverter.HalfToUInt16Bits((Half)h)),
            DataType.Bf16 => TryGetDouble(ref reader, out var b) && Put(destination, BFloat16Bits.FromSingle((float)b)),
            DataType.Fp32 => TryGetSingle(ref reader, out var f) && Put(destination, f),
            DataType.Fp64 => TryGetDouble(ref reader, out var d) && Put(destination, d),
            DataType.Bytes => TryReadBytes(ref reader, destination),
            _ => throw new InferenceException(ErrorCode.Unsupported, $"{field}: datatype {type.WireName()} cannot be read from JSON"),
        };
        if (!ok)
            throw new InferenceException(ErrorCode.InvalidArgument, $"{field}: element {index} is {Describe(ref reader)}, not a valid {type.WireName()}");
    }

    private static bool Put<T>(PooledBuffer destination, T value)
        where T : unmanaged
    {
        var size = Unsafe.SizeOf<T>();
        MemoryMarshal.Write(destination.GetSpan(size), in value);
        destination.Advance(size);
        return true;
    }

    private static bool TryGetSingle(ref Utf8JsonReader reader, out float value)
    {
        if (reader.TokenType == JsonTokenType.Number)
            return reader.TryGetSingle(out value);
        var ok = TryGetNamedLiteral(ref reader, out var d);
        value = (float)d;
        return ok;
    }

    private static bool TryGetDouble(ref Utf8JsonReader reader, out double value) =>
        reader.TokenType == JsonTokenType.Number ? reader.TryGetDouble(out value) : TryGetNamedLiteral(ref reader, out value);

    /// <summary>"NaN", "Infinity", "-Infinity": how non-finite floats travel in JSON (System.Text.Json's convention).</summary>
    private static bool TryGetNamedLiteral(ref Utf8JsonReader reader, out double value)
    {
        value = reader.TokenType != JsonTokenType.String ? 0
            : reader.ValueTextEquals("NaN"u8) ? double.NaN
            : reader.ValueTextEquals("Infinity"u8) ? double.PositiveInfinity
            : reader.ValueTextEquals("-Infinity"u8) ? double.NegativeInfinity
            : 0;
        return value != 0;
    }

    /// <summary>A string element, or TensorFlow Serving's {"b64": "..."} for arbitrary bytes.</summary>
    private static bool TryReadBytes(ref Utf8JsonReader reader, PooledBuffer destination)
    {
        if (reader.TokenType == JsonTokenType.String)
        {
            var span = destination.GetSpan(4 + EscapedLength(ref reader));
            var length = reader.CopyString(span[4..]);
            MemoryMarshal.Write(span, (uint)length);
            destination.Advance(4 + length);
            return true;
        }
        if (reader.TokenType != JsonTokenType.StartObject
            || !reader.Read() || !reader.ValueTextEquals("b64"u8)
            || !reader.Read() || reader.TokenType != JsonTokenType.String)
            return false;

        var text = ArrayPool<byte>.Shared.Rent(EscapedLength(ref reader));
        try
        {
            var textLength = reader.CopyString(text);
            var span = destination.GetSpan(4 + Base64.GetMaxDecodedFromUtf8Length(textLength));
            if (Base64.DecodeFromUtf8(text.AsSpan(0, textLength), span[4..], out _, out var length) != OperationStatus.Done)
                return false;
            MemoryMarshal.Write(span, (uint)length);
            destination.Advance(4 + length);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(text);
        }
        return reader.Read() && reader.TokenType == JsonTokenType.EndObject;
    }

    private static int EscapedLength(ref Utf8JsonReader reader) =>
        reader.HasValueSequence ? checked((int)reader.ValueSequence.Length) : reader.ValueSpan.Length;

    /// <summary>The offending token, for an error message.</summary>
    private static string Describe(ref Utf8JsonReader reader) => reader.TokenType switch
    {
        JsonTokenType.Number => reader.HasValueSequence ? Encoding.UTF8.GetString(reader.ValueSequence) : Encoding.UTF8.GetString(reader.ValueSpan),
        JsonTokenType.String => "a string",
        JsonTokenType.True => "true",
        JsonTokenType.False => "false",
        JsonTokenType.Null => "null",
        JsonTokenType.StartObject or JsonTokenType.PropertyName or JsonTokenType.EndObject => "an object",
        _ => reader.TokenType.ToString(),
    };

    private static InferenceException Ragged(TensorField field) =>
        new(ErrorCode.InvalidArgument, $"{field}: nested arrays are ragged (every array at one depth must have the same length, and values must all sit at the same depth)");
}
