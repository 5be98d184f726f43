using System.Buffers;
using System.Buffers.Binary;
using System.Text;

namespace HighPerfInference.Protocol.Tests.Support;

/// <summary>Hand-builds payloads field by field, to make the malformed ones the writer refuses to make.</summary>
public sealed class PayloadBuilder
{
    private readonly List<byte> _bytes = [];

    public int Length => _bytes.Count;

    public PayloadBuilder U8(int value)
    {
        _bytes.Add((byte)value);
        return this;
    }

    public PayloadBuilder U16(int value) => Raw(BitConverter.GetBytes((ushort)value));

    public PayloadBuilder U32(uint value) => Raw(BitConverter.GetBytes(value));

    public PayloadBuilder I64(long value) => Raw(BitConverter.GetBytes(value));

    public PayloadBuilder Name(string value) => U8(Encoding.UTF8.GetByteCount(value)).Raw(Encoding.UTF8.GetBytes(value));

    public PayloadBuilder Raw(params byte[] bytes)
    {
        _bytes.AddRange(bytes);
        return this;
    }

    /// <summary>Zero bytes up to the next multiple of 8.</summary>
    public PayloadBuilder Pad() => Raw(new byte[(8 - (_bytes.Count % 8)) % 8]);

    /// <summary>A request head with the given counts and no options.</summary>
    public static PayloadBuilder RequestHead(string model, int outputs, int inputs) =>
        new PayloadBuilder().Name(model).Name("").U32(0).U8(0).Name("").U16(outputs).U16(inputs);

    /// <summary>A tensor descriptor, pad included (the pad assumes the builder holds the whole payload).</summary>
    public PayloadBuilder Tensor(string name, int dataType, long[] shape, uint byteLength)
    {
        Name(name).U8(dataType).U8(shape.Length);
        foreach (var dim in shape)
            I64(dim);
        return U32(byteLength).Pad();
    }

    public ReadOnlySequence<byte> ToSequence() => new([.. _bytes]);

    /// <summary>The payload behind a valid header.</summary>
    public byte[] ToFrame(MessageType type, ulong requestId)
    {
        var frame = new byte[FrameHeader.Size + _bytes.Count];
        new FrameHeader(type, requestId, (uint)_bytes.Count).Write(frame);
        _bytes.CopyTo(frame, FrameHeader.Size);
        return frame;
    }

    /// <summary>A header with every field given, valid or not.</summary>
    public static byte[] Header(uint magic = FrameHeader.Magic, byte version = 1, byte type = 0x03, ulong requestId = 1, uint payloadLength = 8, uint reserved = 0)
    {
        var header = new byte[FrameHeader.Size];
        BinaryPrimitives.WriteUInt32LittleEndian(header, magic);
        header[4] = version;
        header[5] = type;
        BinaryPrimitives.WriteUInt64LittleEndian(header.AsSpan(8), requestId);
        BinaryPrimitives.WriteUInt32LittleEndian(header.AsSpan(16), payloadLength);
        BinaryPrimitives.WriteUInt32LittleEndian(header.AsSpan(20), reserved);
        return header;
    }
}
