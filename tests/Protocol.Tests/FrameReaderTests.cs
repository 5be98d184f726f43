using System.Buffers;
using HighPerfInference.Protocol.Tests.Support;

namespace HighPerfInference.Protocol.Tests;

public class FrameReaderTests
{
    public static TheoryData<string> Valid() => GoldenFrameTests.Names();

    [Theory]
    [MemberData(nameof(Valid))]
    public void Valid_frame_decodes_at_every_split_point(string name)
    {
        var frame = Find(name);
        var bytes = frame.Encode();
        var expected = frame.Describe();

        Assert.Equal(expected, Frame.Decode(new ReadOnlySequence<byte>(bytes)).Describe());
        Assert.Equal(expected, Frame.Decode(Segments.OneBytePerSegment(bytes)).Describe());
        for (var cut = 1; cut < bytes.Length; cut++)
            Assert.Equal(expected, Frame.Decode(Segments.Split(bytes, cut)).Describe());
    }

    [Theory]
    [MemberData(nameof(Valid))]
    public void Incomplete_frame_returns_false_and_consumes_nothing(string name)
    {
        var bytes = Find(name).Encode();
        for (var length = 0; length < bytes.Length; length++)
        {
            foreach (var buffer in new[] { new ReadOnlySequence<byte>(bytes, 0, length), Segments.OneBytePerSegment(bytes.AsSpan(0, length)) })
            {
                var before = buffer;
                var after = buffer;
                Assert.False(FrameReader.TryReadFrame(ref after, FrameLimits.DefaultMaxPayloadLength, out _, out _));
                Assert.Equal(before.Start, after.Start);
                Assert.Equal(before.End, after.End);
            }
        }
    }

    [Fact]
    public void Back_to_back_frames_are_read_in_order_across_any_segmentation()
    {
        var stream = new List<byte>();
        var expected = new List<string>();
        foreach (var (_, frame) in SampleFrames.All)
        {
            stream.AddRange(frame.Encode());
            expected.Add(frame.Describe());
        }
        var bytes = stream.ToArray();
        var random = new Random(7);
        foreach (var buffer in new[] { new ReadOnlySequence<byte>(bytes), Segments.OneBytePerSegment(bytes), Segments.Split(bytes, RandomCuts(random, bytes.Length, 40)) })
        {
            var rest = buffer;
            var decoded = new List<string>();
            while (FrameReader.TryReadFrame(ref rest, FrameLimits.DefaultMaxPayloadLength, out var header, out var payload))
                decoded.Add(Frame.Decode(header, payload).Describe());
            Assert.Equal(expected, decoded);
            Assert.True(rest.IsEmpty);
        }
    }

    [Fact]
    public void Payload_is_a_slice_of_the_received_buffer()
    {
        var bytes = SampleFrames.All[2].Frame.Encode();
        var buffer = new ReadOnlySequence<byte>(bytes);
        Assert.True(FrameReader.TryReadFrame(ref buffer, FrameLimits.DefaultMaxPayloadLength, out var header, out var payload));
        Assert.Equal(header.PayloadLength, (uint)payload.Length);
        Assert.True(System.Runtime.InteropServices.MemoryMarshal.TryGetArray(payload.First, out var segment));
        Assert.Same(bytes, segment.Array);
        Assert.Equal(FrameHeader.Size, segment.Offset);
    }

    public static TheoryData<string, byte[], ErrorCode> InvalidHeaders() => new()
    {
        { "bad magic", PayloadBuilder.Header(magic: 0x31495048), ErrorCode.ProtocolError },
        { "HTTP request", "GET / HTTP/1.1\r\nHost: x\r\n\r\n"u8.ToArray(), ErrorCode.ProtocolError },
        { "version 0", PayloadBuilder.Header(version: 0), ErrorCode.ProtocolError },
        { "version 2", PayloadBuilder.Header(version: 2), ErrorCode.ProtocolError },
        { "reserved not zero", PayloadBuilder.Header(reserved: 1), ErrorCode.ProtocolError },
        { "payload over the limit", PayloadBuilder.Header(payloadLength: 1025), ErrorCode.PayloadTooLarge },
        { "payload length 4 GiB - 1", PayloadBuilder.Header(payloadLength: uint.MaxValue), ErrorCode.PayloadTooLarge },
    };

    [Theory]
    [MemberData(nameof(InvalidHeaders))]
    public void Invalid_header_is_fatal_as_soon_as_the_header_is_in(string why, byte[] header, ErrorCode code)
    {
        // Only the 24 header bytes: an oversize length is refused before any payload is buffered.
        foreach (var buffer in new[] { new ReadOnlySequence<byte>(header), Segments.OneBytePerSegment(header) })
        {
            var rest = buffer;
            var error = Assert.Throws<ProtocolException>(() => FrameReader.TryReadFrame(ref rest, 1024, out _, out _));
            Assert.Equal(code, error.Code);
            Assert.True(error.IsFatal, why);
        }
    }

    [Fact]
    public void Payload_of_exactly_the_limit_is_accepted()
    {
        var bytes = new byte[FrameHeader.Size + 1024];
        new FrameHeader(MessageType.Ping, 1, 1024).Write(bytes);
        var buffer = new ReadOnlySequence<byte>(bytes);
        Assert.True(FrameReader.TryReadFrame(ref buffer, 1024, out var header, out var payload));
        Assert.Equal(1024, payload.Length);
        Assert.Equal(MessageType.Ping, header.Type);
    }

    [Fact]
    public void Unknown_message_type_and_flags_pass_the_reader_for_the_connection_to_answer()
    {
        var bytes = PayloadBuilder.Header(type: 0x7e, payloadLength: 0);
        bytes[6] = 0xff;
        var buffer = new ReadOnlySequence<byte>(bytes);
        Assert.True(FrameReader.TryReadFrame(ref buffer, 1024, out var header, out _));
        Assert.Equal((MessageType)0x7e, header.Type);
        Assert.Equal((FrameFlags)0xff, header.Flags);
    }

    internal static Frame Find(string name)
    {
        foreach (var (sampleName, frame) in SampleFrames.All)
        {
            if (sampleName == name)
                return frame;
        }
        throw new ArgumentException(name);
    }

    internal static int[] RandomCuts(Random random, int length, int count)
    {
        var cuts = new SortedSet<int>();
        while (cuts.Count < Math.Min(count, length - 1))
            cuts.Add(random.Next(1, length));
        return [.. cuts];
    }
}
