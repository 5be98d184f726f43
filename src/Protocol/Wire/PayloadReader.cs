using System.Buffers;
using System.Buffers.Binary;
using System.Text;

namespace HighPerfInference.Protocol;

/// <summary>
/// Reads the fields of one complete payload. Running out of bytes is a malformed payload, not
/// incomplete input, so every read throws a per-request <see cref="ProtocolException"/> instead of
/// returning false. A payload in one buffer segment (the common case) is read straight from its
/// span; one that straddles segments goes through a <see cref="SequenceReader{T}"/>.
/// </summary>
internal ref struct PayloadReader
{
    private readonly ReadOnlySequence<byte> _payload;
    private readonly ReadOnlySpan<byte> _span;
    private readonly bool _isSingleSegment;
    private int _offset;
    private SequenceReader<byte> _reader;

    public PayloadReader(ReadOnlySequence<byte> payload)
    {
        _payload = payload;
        _isSingleSegment = payload.IsSingleSegment;
        if (_isSingleSegment)
            _span = payload.FirstSpan;
        else
            _reader = new SequenceReader<byte>(payload);
    }

    public readonly long Consumed => _isSingleSegment ? _offset : _reader.Consumed;
    public readonly long Remaining => _isSingleSegment ? _span.Length - _offset : _reader.Remaining;

    public byte ReadU8()
    {
        if (_isSingleSegment)
            return Take(1)[0];
        if (!_reader.TryRead(out var value))
            ThrowHelper.ThrowTruncatedPayload();
        return value;
    }

    public ushort ReadU16()
    {
        if (_isSingleSegment)
            return BinaryPrimitives.ReadUInt16LittleEndian(Take(2));
        if (!_reader.TryReadLittleEndian(out short value))
            ThrowHelper.ThrowTruncatedPayload();
        return (ushort)value;
    }

    public uint ReadU32()
    {
        if (_isSingleSegment)
            return BinaryPrimitives.ReadUInt32LittleEndian(Take(4));
        if (!_reader.TryReadLittleEndian(out int value))
            ThrowHelper.ThrowTruncatedPayload();
        return (uint)value;
    }

    public long ReadI64()
    {
        if (_isSingleSegment)
            return BinaryPrimitives.ReadInt64LittleEndian(Take(8));
        if (!_reader.TryReadLittleEndian(out long value))
            ThrowHelper.ThrowTruncatedPayload();
        return value;
    }

    public ulong ReadU64() => (ulong)ReadI64();

    /// <summary>A name: u8 length, UTF-8 bytes. A span into the payload, or into <paramref name="slot"/> when it straddles segments.</summary>
    public ReadOnlySpan<byte> ReadName(Span<byte> slot) => ReadBytes(ReadU8(), slot);

    public string ReadNameString() => ReadString(ReadU8());

    public string ReadTextString() => ReadString(ReadU16());

    /// <summary>The next <paramref name="length"/> bytes as a slice of the payload (no copy).</summary>
    public ReadOnlySequence<byte> ReadSlice(long length)
    {
        if (length > Remaining)
            ThrowHelper.ThrowTruncatedPayload();
        if (_isSingleSegment)
        {
            var slice = _payload.Slice(_offset, length);
            _offset += (int)length;
            return slice;
        }
        var sliced = _reader.UnreadSequence.Slice(0, length);
        _reader.Advance(length);
        return sliced;
    }

    public void Skip(int count)
    {
        if (count > Remaining)
            ThrowHelper.ThrowTruncatedPayload();
        if (_isSingleSegment)
            _offset += count;
        else
            _reader.Advance(count);
    }

    /// <summary>Trailing bytes mean sender and receiver disagree about the layout.</summary>
    public readonly void EnsureEnd()
    {
        if (Remaining != 0)
            ThrowHelper.ThrowInvalid("Payload has bytes after its last field.");
    }

    private ReadOnlySpan<byte> Take(int count)
    {
        if ((uint)count > (uint)(_span.Length - _offset))
            ThrowHelper.ThrowTruncatedPayload();
        var bytes = _span.Slice(_offset, count);
        _offset += count;
        return bytes;
    }

    private ReadOnlySpan<byte> ReadBytes(int length, Span<byte> slot)
    {
        if (_isSingleSegment)
            return Take(length);
        var unread = _reader.UnreadSpan;
        if (unread.Length >= length)
        {
            _reader.Advance(length);
            return unread[..length];
        }
        var copy = slot[..length];
        if (!_reader.TryCopyTo(copy))
            ThrowHelper.ThrowTruncatedPayload();
        _reader.Advance(length);
        return copy;
    }

    private string ReadString(int length)
    {
        if (_isSingleSegment)
            return Encoding.UTF8.GetString(Take(length));
        if (_reader.Remaining < length)
            ThrowHelper.ThrowTruncatedPayload();
        var bytes = _reader.UnreadSequence.Slice(0, length);
        _reader.Advance(length);
        return Encoding.UTF8.GetString(bytes);
    }
}
