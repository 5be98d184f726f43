using System.Buffers;

namespace HighPerfInference.Protocol.Tests.Support;

/// <summary>An output that hands out spans of exactly the size asked for, so writers must chunk.</summary>
public sealed class TinyBufferWriter : IBufferWriter<byte>
{
    private byte[] _current = [];

    public List<byte> Written { get; } = [];

    public void Advance(int count)
    {
        if (count > _current.Length)
            throw new InvalidOperationException("Advanced past the span handed out.");
        Written.AddRange(_current.AsSpan(0, count));
        _current = [];
    }

    public Memory<byte> GetMemory(int sizeHint = 0) => _current = new byte[Math.Max(sizeHint, 1)];

    public Span<byte> GetSpan(int sizeHint = 0) => GetMemory(sizeHint).Span;
}
