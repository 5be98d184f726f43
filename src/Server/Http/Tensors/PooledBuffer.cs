using System.Buffers;

namespace HighPerfInference.Server.Http.Tensors;

/// <summary>
/// A growable byte buffer over <see cref="ArrayPool{T}"/> arrays: the tensor bytes parsed from JSON,
/// output bytes copied out of a batch, a formatted response. Owned by one request at a time.
/// </summary>
internal sealed class PooledBuffer : IBufferWriter<byte>
{
    /// <summary>Arrays up to this size stay with the buffer between requests; larger ones go back to the pool.</summary>
    private const int RetainedCapacity = 64 * 1024;

    private byte[] _array = [];
    private int _length;

    public int Length => _length;

    public ReadOnlySpan<byte> WrittenSpan => _array.AsSpan(0, _length);

    public ReadOnlyMemory<byte> WrittenMemory => _array.AsMemory(0, _length);

    /// <summary>A view of written bytes; valid until the buffer grows or is cleared.</summary>
    public ReadOnlySequence<byte> Slice(int start, int length) => new(_array, start, length);

    public ReadOnlySpan<byte> Span(int start, int length) => _array.AsSpan(start, length);

    public void Advance(int count)
    {
        if ((uint)count > (uint)(_array.Length - _length))
            throw new ArgumentOutOfRangeException(nameof(count));
        _length += count;
    }

    public Memory<byte> GetMemory(int sizeHint = 0)
    {
        Ensure(sizeHint);
        return _array.AsMemory(_length);
    }

    public Span<byte> GetSpan(int sizeHint = 0)
    {
        Ensure(sizeHint);
        return _array.AsSpan(_length);
    }

    /// <summary>Appends bytes.</summary>
    public void Write(ReadOnlySpan<byte> bytes)
    {
        bytes.CopyTo(GetSpan(bytes.Length));
        _length += bytes.Length;
    }

    /// <summary>Forgets the content and gives a large array back to the pool.</summary>
    public void Clear()
    {
        _length = 0;
        if (_array.Length > RetainedCapacity)
        {
            ArrayPool<byte>.Shared.Return(_array);
            _array = [];
        }
    }

    private void Ensure(int sizeHint)
    {
        var needed = (long)_length + Math.Max(sizeHint, 1);
        if (needed <= _array.Length)
            return;
        if (needed > Array.MaxLength)
            throw new OutOfMemoryException("A request buffer would exceed the largest array size.");
        var size = (int)Math.Min(Array.MaxLength, Math.Max(needed, Math.Max(256L, _array.Length * 2L)));
        var grown = ArrayPool<byte>.Shared.Rent(size);
        _array.AsSpan(0, _length).CopyTo(grown);
        if (_array.Length > 0)
            ArrayPool<byte>.Shared.Return(_array);
        _array = grown;
    }
}
