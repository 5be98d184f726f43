using System.Buffers;
using System.Text;

namespace HighPerfInference.Protocol;

/// <summary>
/// Reads the fields of one complete payload. Running out of bytes is a malformed payload, not
/// incomplete input, so every read throws a per-request <see cref="ProtocolException"/> instead of
/// returning false.
/// </summary>
internal ref struct PayloadReader(ReadOnlySequence<byte> payload)
{
    private SequenceReader<byte> _reader = new(payload);

    public readonly long Consumed => _reader.Consumed;
    public readonly long Remaining => _reader.Remaining;

    public byte ReadU8()
    {
        if (!_reader.TryRead(out var value))
            ThrowHelper.ThrowTruncatedPayload();
        return value;
    }

    public ushort ReadU16()
    {
        if (!_reader.TryReadLittleEndian(out short value))
            ThrowHelper.ThrowTruncatedPayload();
        return (ushort)value;
    }

    public uint ReadU32()
    {
        if (!_reader.TryReadLittleEndian(out int value))
            ThrowHelper.ThrowTruncatedPayload();
        return (uint)value;
    }

    public long ReadI64()
    {
        if (!_reader.TryReadLittleEndian(out long value))
            ThrowHelper.ThrowTruncatedPayload();
        return value;
    }

    public ulong ReadU64() => (ulong)ReadI64();

    /// <summary>A name: u8 length, UTF-8 bytes. A span into the payload, or into <paramref name="slot"/> when it straddles segments.</summary>
    public ReadOnlySpan<byte> ReadName(Span<byte> slot) => ReadBytes(ReadU8(), slot);

    /// <summary>A text: u16 length, UTF-8 bytes, as a span like <see cref="ReadName"/>.</summary>
    public ReadOnlySpan<byte> ReadText(Span<byte> slot) => ReadBytes(ReadU16(), slot);

    public string ReadNameString() => ReadString(ReadU8());

    public string ReadTextString() => ReadString(ReadU16());

    public ReadOnlySequence<byte> ReadSlice(long length)
    {
        if (_reader.Remaining < length)
            ThrowHelper.ThrowTruncatedPayload();
        var slice = _reader.Sequence.Slice(_reader.Position, length);
        _reader.Advance(length);
        return slice;
    }

    public void Skip(int count)
    {
        if (_reader.Remaining < count)
            ThrowHelper.ThrowTruncatedPayload();
        _reader.Advance(count);
    }

    /// <summary>Trailing bytes mean sender and receiver disagree about the layout.</summary>
    public readonly void EnsureEnd()
    {
        if (!_reader.End)
            ThrowHelper.ThrowInvalid("Payload has bytes after its last field.");
    }

    private ReadOnlySpan<byte> ReadBytes(int length, Span<byte> slot)
    {
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
        if (_reader.Remaining < length)
            ThrowHelper.ThrowTruncatedPayload();
        var bytes = _reader.UnreadSequence.Slice(0, length);
        _reader.Advance(length);
        return Encoding.UTF8.GetString(bytes);
    }
}
