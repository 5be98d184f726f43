using System.Buffers;

namespace HighPerfInference.Protocol;

/// <summary>
/// A growable buffer writer over <see cref="ArrayPool{T}"/> arrays. It keeps a small array between
/// uses and gives a large one back when cleared, so a burst does not pin memory for good.
/// </summary>
internal sealed class PooledBufferWriter : IBufferWriter<byte>
{
    private const int InitialSize = 4096;
    private const int RetainedSize = 64 * 1024;

    private byte[] _buffer = [];
    private int _written;

    public int WrittenCount => _written;

    public ReadOnlySpan<byte> WrittenSpan => _buffer.AsSpan(0, _written);

    public void Advance(int count)
    {
        if ((uint)count > (uint)(_buffer.Length - _written))
            throw new ArgumentOutOfRangeException(nameof(count));
        _written += count;
    }

    public Memory<byte> GetMemory(int sizeHint = 0)
    {
        Ensure(sizeHint);
        return _buffer.AsMemory(_written);
    }

    public Span<byte> GetSpan(int sizeHint = 0)
    {
        Ensure(sizeHint);
        return _buffer.AsSpan(_written);
    }

    public void Clear()
    {
        _written = 0;
        if (_buffer.Length > RetainedSize)
        {
            ArrayPool<byte>.Shared.Return(_buffer);
            _buffer = [];
        }
    }

    private void Ensure(int sizeHint)
    {
        var needed = _written + Math.Max(sizeHint, 1);
        if (needed <= _buffer.Length)
            return;
        var grown = ArrayPool<byte>.Shared.Rent(Math.Max(needed, Math.Max(InitialSize, _buffer.Length * 2)));
        _buffer.AsSpan(0, _written).CopyTo(grown);
        if (_buffer.Length != 0)
            ArrayPool<byte>.Shared.Return(_buffer);
        _buffer = grown;
    }
}
