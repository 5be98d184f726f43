using System.Buffers;
using System.Buffers.Binary;
using System.Text;

namespace HighPerfInference.Protocol;

/// <summary>
/// Writes little-endian fields into an <see cref="IBufferWriter{T}"/>, caching the span it was
/// given and advancing the output once per span, as Kestrel's BufferWriter does.
/// Call <see cref="Commit"/> when done.
/// </summary>
internal ref struct WireWriter(IBufferWriter<byte> output)
{
    private readonly IBufferWriter<byte> _output = output;
    private Span<byte> _span;
    private int _buffered;
    private long _committed;

    /// <summary>Bytes written so far (committed or buffered).</summary>
    public readonly long Written => _committed + _buffered;

    public void WriteHeader(in FrameHeader header)
    {
        Ensure(FrameHeader.Size);
        header.Write(_span[_buffered..]);
        _buffered += FrameHeader.Size;
    }

    public void WriteU8(byte value)
    {
        Ensure(1);
        _span[_buffered++] = value;
    }

    public void WriteU16(ushort value)
    {
        Ensure(2);
        BinaryPrimitives.WriteUInt16LittleEndian(_span[_buffered..], value);
        _buffered += 2;
    }

    public void WriteU32(uint value)
    {
        Ensure(4);
        BinaryPrimitives.WriteUInt32LittleEndian(_span[_buffered..], value);
        _buffered += 4;
    }

    public void WriteI64(long value)
    {
        Ensure(8);
        BinaryPrimitives.WriteInt64LittleEndian(_span[_buffered..], value);
        _buffered += 8;
    }

    public void WriteU64(ulong value) => WriteI64((long)value);

    /// <summary>A name: u8 length, then the UTF-8 bytes.</summary>
    public void WriteName(ReadOnlySpan<byte> utf8)
    {
        WriteU8(checked((byte)utf8.Length));
        WriteBytes(utf8);
    }

    /// <summary>A name given as a string, encoded straight into the output; over 255 UTF-8 bytes throws.</summary>
    public void WriteName(string value)
    {
        var length = Encoding.UTF8.GetByteCount(value);
        if (length > FrameLimits.MaxNameLength)
            throw new ArgumentException($"A name is at most {FrameLimits.MaxNameLength} UTF-8 bytes.", nameof(value));
        WriteU8((byte)length);
        WriteUtf8(value, length);
    }

    /// <summary>A text: u16 length, then the UTF-8 bytes, cut at a character boundary when too long.</summary>
    public void WriteText(ReadOnlySpan<char> value)
    {
        var length = Encoding.UTF8.GetByteCount(value);
        if (length > FrameLimits.MaxTextLength)
        {
            value = TruncateUtf8(value, FrameLimits.MaxTextLength);
            length = Encoding.UTF8.GetByteCount(value);
        }
        WriteU16((ushort)length);
        WriteUtf8(value, length);
    }

    public void WriteZeros(int count)
    {
        Ensure(count);
        _span.Slice(_buffered, count).Clear();
        _buffered += count;
    }

    /// <summary>Copies bytes of any length, spanning as many output buffers as needed.</summary>
    public void WriteBytes(ReadOnlySpan<byte> source)
    {
        while (true)
        {
            var free = _span.Length - _buffered;
            if (source.Length <= free)
            {
                source.CopyTo(_span[_buffered..]);
                _buffered += source.Length;
                return;
            }
            source[..free].CopyTo(_span[_buffered..]);
            _buffered += free;
            source = source[free..];
            Ensure(1);
        }
    }

    public void Commit()
    {
        if (_buffered == 0)
            return;
        _output.Advance(_buffered);
        _committed += _buffered;
        _buffered = 0;
        _span = default;
    }

    private void Ensure(int count)
    {
        if (_span.Length - _buffered >= count)
            return;
        Commit();
        _span = _output.GetSpan(count);
    }

    private void WriteUtf8(ReadOnlySpan<char> value, int length)
    {
        Ensure(length);
        _buffered += Encoding.UTF8.GetBytes(value, _span[_buffered..]);
    }

    /// <summary>The longest prefix of whole characters whose UTF-8 form fits <paramref name="maxBytes"/>.</summary>
    internal static ReadOnlySpan<char> TruncateUtf8(ReadOnlySpan<char> value, int maxBytes)
    {
        var bytes = 0;
        var i = 0;
        while (i < value.Length)
        {
            var status = System.Text.Rune.DecodeFromUtf16(value[i..], out var rune, out var consumed);
            var size = status == OperationStatus.Done ? rune.Utf8SequenceLength : 3;
            if (bytes + size > maxBytes)
                break;
            bytes += size;
            i += consumed;
        }
        return value[..i];
    }
}
