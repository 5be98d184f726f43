using System.Buffers;

namespace HighPerfInference.Protocol.Tests.Support;

/// <summary>Builds multi-segment sequences, the way a Pipe hands over data that arrived in pieces.</summary>
public static class Segments
{
    /// <summary>The bytes cut at the given offsets (ascending, inside the data).</summary>
    public static ReadOnlySequence<byte> Split(ReadOnlySpan<byte> data, params int[] cuts)
    {
        if (cuts.Length == 0)
            return new ReadOnlySequence<byte>(data.ToArray());
        var first = new Segment(data[..cuts[0]].ToArray(), 0);
        var last = first;
        for (var i = 0; i < cuts.Length; i++)
        {
            var end = i + 1 < cuts.Length ? cuts[i + 1] : data.Length;
            last = last.Append(data[cuts[i]..end].ToArray());
        }
        return new ReadOnlySequence<byte>(first, 0, last, last.Memory.Length);
    }

    /// <summary>One segment per byte.</summary>
    public static ReadOnlySequence<byte> OneBytePerSegment(ReadOnlySpan<byte> data)
    {
        var cuts = new int[Math.Max(0, data.Length - 1)];
        for (var i = 0; i < cuts.Length; i++)
            cuts[i] = i + 1;
        return Split(data, cuts);
    }

    private sealed class Segment : ReadOnlySequenceSegment<byte>
    {
        public Segment(byte[] memory, long runningIndex)
        {
            Memory = memory;
            RunningIndex = runningIndex;
        }

        public Segment Append(byte[] memory)
        {
            var next = new Segment(memory, RunningIndex + Memory.Length);
            Next = next;
            return next;
        }
    }
}
