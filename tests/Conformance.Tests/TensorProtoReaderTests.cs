using System.Buffers.Binary;
using System.Text;
using HighPerfInference.Conformance.Tests.Onnx;

namespace HighPerfInference.Conformance.Tests;

public class TensorProtoReaderTests
{
    [Fact]
    public void Raw_data_is_taken_as_is()
    {
        var raw = Floats(1.5f, -2f, 3.25f, 0f, float.NaN, 6f);
        var message = new Proto().Packed(1, 2, 3).Varint(2, (ulong)OnnxDataType.Float).Text(8, "x").Bytes(9, raw);

        var tensor = TensorProtoReader.Read(message.ToArray());

        Assert.Equal("x", tensor.Name);
        Assert.Equal(OnnxDataType.Float, tensor.DataType);
        Assert.Equal([2L, 3L], tensor.Dims);
        Assert.Equal(raw, tensor.Data);
    }

    [Fact]
    public void Packed_and_unpacked_float_data_read_the_same()
    {
        var packed = new Proto().Packed(1, 2).Varint(2, (ulong)OnnxDataType.Float).Bytes(4, Floats(1f, 2f));
        var unpacked = new Proto().Varint(1, 2).Varint(2, (ulong)OnnxDataType.Float).Fixed32(4, 1f).Fixed32(4, 2f);

        Assert.Equal(Floats(1f, 2f), TensorProtoReader.Read(packed.ToArray()).Data);
        Assert.Equal(Floats(1f, 2f), TensorProtoReader.Read(unpacked.ToArray()).Data);
    }

    [Fact]
    public void Int32_data_carries_narrow_types_one_value_each()
    {
        // Negative values are sign-extended ten-byte varints; FLOAT16 travels as its bit pattern.
        var int8 = new Proto().Packed(1, 3).Varint(2, (ulong)OnnxDataType.Int8).Packed(5, unchecked((ulong)-1L), 127, unchecked((ulong)-128L));
        var fp16 = new Proto().Packed(1, 2).Varint(2, (ulong)OnnxDataType.Float16).Packed(5, 0x3C00, 0xC000);
        var boolean = new Proto().Packed(1, 2).Varint(2, (ulong)OnnxDataType.Bool).Packed(5, 1, 0);

        Assert.Equal([0xFF, 0x7F, 0x80], TensorProtoReader.Read(int8.ToArray()).Data);
        Assert.Equal([0x00, 0x3C, 0x00, 0xC0], TensorProtoReader.Read(fp16.ToArray()).Data);
        Assert.Equal([1, 0], TensorProtoReader.Read(boolean.ToArray()).Data);
    }

    [Fact]
    public void Int64_uint64_and_double_data_widen_to_their_element_size()
    {
        var int64 = new Proto().Packed(1, 1).Varint(2, (ulong)OnnxDataType.Int64).Packed(7, unchecked((ulong)-5L));
        var uint32 = new Proto().Packed(1, 1).Varint(2, (ulong)OnnxDataType.UInt32).Packed(11, uint.MaxValue);
        var dbl = new Proto().Packed(1, 1).Varint(2, (ulong)OnnxDataType.Double).Bytes(10, BitConverter.GetBytes(0.1));

        Assert.Equal(BitConverter.GetBytes(-5L), TensorProtoReader.Read(int64.ToArray()).Data);
        Assert.Equal(BitConverter.GetBytes(uint.MaxValue), TensorProtoReader.Read(uint32.ToArray()).Data);
        Assert.Equal(BitConverter.GetBytes(0.1), TensorProtoReader.Read(dbl.ToArray()).Data);
    }

    [Fact]
    public void Strings_stay_bytes_and_a_scalar_has_no_dims()
    {
        var strings = new Proto().Packed(1, 2).Varint(2, (ulong)OnnxDataType.String).Text(6, "héllo").Text(6, "");
        var scalar = new Proto().Varint(2, (ulong)OnnxDataType.Int32).Packed(5, 42);

        var tensor = TensorProtoReader.Read(strings.ToArray());
        Assert.Equal([Encoding.UTF8.GetBytes("héllo"), []], tensor.Strings);
        Assert.Equal(1, TensorProtoReader.Read(scalar.ToArray()).ElementCount);
        Assert.Equal(BitConverter.GetBytes(42), TensorProtoReader.Read(scalar.ToArray()).Data);
    }

    [Fact]
    public void Unknown_fields_are_skipped()
    {
        var message = new Proto().Text(12, "doc").Packed(1, 1).Varint(2, (ulong)OnnxDataType.Float).Fixed32(4, 7f).Varint(99, 1);

        Assert.Equal(Floats(7f), TensorProtoReader.Read(message.ToArray()).Data);
    }

    [Fact]
    public void Data_that_does_not_fill_the_shape_is_rejected()
    {
        var message = new Proto().Packed(1, 2, 2).Varint(2, (ulong)OnnxDataType.Float).Bytes(9, Floats(1f, 2f, 3f));

        var error = Assert.Throws<InvalidDataException>(() => TensorProtoReader.Read(message.ToArray()));
        Assert.Contains("expected 16", error.Message);
    }

    [Fact]
    public void Truncated_messages_are_rejected()
    {
        var message = new Proto().Packed(1, 4).Varint(2, (ulong)OnnxDataType.Float).Bytes(9, Floats(1f, 2f, 3f, 4f)).ToArray();

        Assert.Throws<InvalidDataException>(() => TensorProtoReader.Read(message.AsSpan(0, message.Length - 1)));
    }

    [Fact]
    public void A_backend_test_file_parses()
    {
        Assert.True(Suite.TestData.Installed, Suite.TestData.NotInstalled);

        // test_abs: x = float32[3, 4, 5] -> y = abs(x).
        var dataSet = Path.Combine(Suite.TestData.Root, "node", "test_abs", "test_data_set_0");
        var input = TensorProtoReader.Read(Path.Combine(dataSet, "input_0.pb"));
        var output = TensorProtoReader.Read(Path.Combine(dataSet, "output_0.pb"));

        Assert.Equal("x", input.Name);
        Assert.Equal([3L, 4L, 5L], input.Dims);
        Assert.Equal(OnnxDataType.Float, output.DataType);
        for (var i = 0; i < 60; i++)
        {
            Assert.Equal(
                MathF.Abs(BinaryPrimitives.ReadSingleLittleEndian(input.Data.AsSpan(i * 4))),
                BinaryPrimitives.ReadSingleLittleEndian(output.Data.AsSpan(i * 4)));
        }
    }

    private static byte[] Floats(params float[] values)
    {
        var bytes = new byte[values.Length * 4];
        for (var i = 0; i < values.Length; i++)
            BinaryPrimitives.WriteSingleLittleEndian(bytes.AsSpan(i * 4), values[i]);
        return bytes;
    }

    /// <summary>Writes protobuf fields, to build TensorProto messages by hand.</summary>
    private sealed class Proto
    {
        private readonly List<byte> _bytes = [];

        public byte[] ToArray() => [.. _bytes];

        public Proto Varint(int field, ulong value)
        {
            Tag(field, WireType.Varint);
            Raw(value);
            return this;
        }

        public Proto Fixed32(int field, float value)
        {
            Tag(field, WireType.Fixed32);
            _bytes.AddRange(Floats(value));
            return this;
        }

        public Proto Bytes(int field, byte[] value)
        {
            Tag(field, WireType.LengthDelimited);
            Raw((ulong)value.Length);
            _bytes.AddRange(value);
            return this;
        }

        public Proto Text(int field, string value) => Bytes(field, Encoding.UTF8.GetBytes(value));

        public Proto Packed(int field, params ulong[] values)
        {
            var run = new Proto();
            foreach (var value in values)
                run.Raw(value);
            return Bytes(field, run.ToArray());
        }

        private void Tag(int field, WireType wire) => Raw(((ulong)field << 3) | (ulong)wire);

        private void Raw(ulong value)
        {
            for (; value >= 0x80; value >>= 7)
                _bytes.Add((byte)(value | 0x80));
            _bytes.Add((byte)value);
        }
    }
}
