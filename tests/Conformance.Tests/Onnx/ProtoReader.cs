using System.Buffers.Binary;
using System.Text;

namespace HighPerfInference.Conformance.Tests.Onnx;

/// <summary>Protobuf wire type: the low three bits of a field's tag.</summary>
internal enum WireType
{
    Varint = 0,
    Fixed64 = 1,
    LengthDelimited = 2,
    StartGroup = 3,
    EndGroup = 4,
    Fixed32 = 5,
}

/// <summary>
/// A forward-only reader of the protobuf wire format, just enough for the ONNX messages the suite
/// needs (TensorProto, ModelProto's graph signature). Callers loop on <see cref="TryReadTag"/>,
/// read the fields they know and <see cref="Skip"/> the rest.
/// </summary>
internal ref struct ProtoReader(ReadOnlySpan<byte> buffer)
{
    private readonly ReadOnlySpan<byte> _buffer = buffer;
    private int _position;

    public readonly bool End => _position >= _buffer.Length;

    public bool TryReadTag(out int field, out WireType wireType)
    {
        if (End)
        {
            field = 0;
            wireType = default;
            return false;
        }

        var tag = ReadVarint();
        field = checked((int)(tag >> 3));
        wireType = (WireType)(tag & 7);
        if (field == 0)
            throw new InvalidDataException("protobuf field number 0");
        return true;
    }

    public ulong ReadVarint()
    {
        ulong value = 0;
        for (var shift = 0; shift < 64; shift += 7)
        {
            if (_position >= _buffer.Length)
                throw new InvalidDataException("truncated protobuf varint");
            var b = _buffer[_position++];
            value |= (ulong)(b & 0x7F) << shift;
            if (b < 0x80)
                return value;
        }

        throw new InvalidDataException("protobuf varint longer than 10 bytes");
    }

    public uint ReadFixed32() => BinaryPrimitives.ReadUInt32LittleEndian(Take(4));

    public ulong ReadFixed64() => BinaryPrimitives.ReadUInt64LittleEndian(Take(8));

    public ReadOnlySpan<byte> ReadBytes() => Take(checked((int)ReadVarint()));

    public string ReadString() => Encoding.UTF8.GetString(ReadBytes());

    public void Skip(WireType wireType)
    {
        switch (wireType)
        {
            case WireType.Varint: ReadVarint(); break;
            case WireType.Fixed64: Take(8); break;
            case WireType.LengthDelimited: ReadBytes(); break;
            case WireType.Fixed32: Take(4); break;
            default: throw new InvalidDataException($"unsupported protobuf wire type {wireType}");
        }
    }

    /// <summary>
    /// Reads one occurrence of a repeated varint field, packed (a length-delimited run of varints)
    /// or not (one varint), appending every value it holds. Parsers must accept both forms.
    /// </summary>
    public void ReadRepeatedVarint(WireType wireType, List<ulong> values)
    {
        if (wireType != WireType.LengthDelimited)
        {
            values.Add(ReadVarint());
            return;
        }

        var packed = new ProtoReader(ReadBytes());
        while (!packed.End)
            values.Add(packed.ReadVarint());
    }

    /// <summary>
    /// Reads one occurrence of a repeated fixed-width field (float, double), packed or not, and
    /// appends its little-endian bytes unchanged.
    /// </summary>
    public void ReadRepeatedFixed(WireType wireType, List<byte> bytes)
    {
        var run = wireType switch
        {
            WireType.LengthDelimited => ReadBytes(),
            WireType.Fixed32 => Take(4),
            WireType.Fixed64 => Take(8),
            _ => throw new InvalidDataException($"wire type {wireType} for a fixed-width field"),
        };
        bytes.AddRange(run);
    }

    private ReadOnlySpan<byte> Take(int length)
    {
        if (length < 0 || length > _buffer.Length - _position)
            throw new InvalidDataException("truncated protobuf field");
        var span = _buffer.Slice(_position, length);
        _position += length;
        return span;
    }
}
