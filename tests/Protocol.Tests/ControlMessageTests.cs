using System.Buffers;
using System.Text;
using HighPerfInference.Protocol.Tests.Support;

namespace HighPerfInference.Protocol.Tests;

public class ControlMessageTests
{
    [Theory]
    [InlineData(1, 1, 1)]
    [InlineData(1, 5, 1)]
    [InlineData(0, 1, 1)]
    [InlineData(2, 5, 0)]
    [InlineData(1, 0, 0)]
    public void Version_negotiation_picks_the_highest_common_version(byte min, byte max, byte expected) =>
        Assert.Equal(expected, ProtocolVersion.Negotiate(min, max));

    [Fact]
    public void Hello_header_always_says_the_handshake_version()
    {
        var output = new ArrayBufferWriter<byte>();
        new Hello(1, 9, "future-client", "").Write(output);
        var frame = Frame.Decode(new ReadOnlySequence<byte>(output.WrittenMemory));
        Assert.Equal(ProtocolVersion.Handshake, FrameHeader.Read(output.WrittenSpan).Version);
        Assert.Equal(new Hello(1, 9, "future-client", ""), frame.Body);
    }

    [Theory]
    [InlineData(0, 1)]
    [InlineData(3, 2)]
    public void Hello_with_an_empty_version_range_is_rejected(int min, int max)
    {
        var payload = new PayloadBuilder().U8(min).U8(max).Name("c").U16(0).ToSequence();
        Assert.Equal(ErrorCode.InvalidArgument, Assert.Throws<ProtocolException>(() => Hello.Read(payload)).Code);
    }

    [Fact]
    public void Error_message_over_the_text_limit_is_cut_at_a_character_boundary()
    {
        var message = new string('a', FrameLimits.MaxTextLength - 1) + "\u00e9\u00e9";
        var output = new ArrayBufferWriter<byte>();
        ErrorMessage.Write(output, 4, ErrorCode.Internal, message);

        var error = (ErrorMessage)Frame.Decode(new ReadOnlySequence<byte>(output.WrittenMemory)).Body!;
        Assert.Equal(ErrorCode.Internal, error.Code);
        Assert.Equal(message[..(FrameLimits.MaxTextLength - 1)], error.Message);
    }

    [Fact]
    public void Error_with_a_code_this_version_does_not_know_keeps_the_number()
    {
        var error = ErrorMessage.Read(new PayloadBuilder().U16(999).U16(2).Raw("hi"u8.ToArray()).ToSequence());
        Assert.Equal((ErrorCode)999, error.Code);
        Assert.False(error.Code.IsRetryable());
        Assert.Equal("hi", error.Message);
    }

    [Fact]
    public void Writing_an_error_allocates_nothing()
    {
        var output = new ArrayBufferWriter<byte>(1024);
        ErrorMessage.Write(output, 1, ErrorCode.Overloaded, "too many requests in flight");
        var before = GC.GetAllocatedBytesForCurrentThread();
        for (var i = 0; i < 100; i++)
        {
            output.ResetWrittenCount();
            ErrorMessage.Write(output, 1, ErrorCode.Overloaded, "too many requests in flight");
            ControlFrames.WritePing(output, pong: true, 1, 42);
        }
        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
    }

    public static TheoryData<string, MessageType, byte[]> InvalidPayloads() => new()
    {
        { "ping too short", MessageType.Ping, [1, 2, 3] },
        { "ping too long", MessageType.Ping, new byte[9] },
        { "ready flag 2", MessageType.ServerReadyResponse, [2] },
        { "cancel with a payload", MessageType.Cancel, [0] },
        { "model request without a name", MessageType.ModelReadyRequest, [0, 0] },
        { "hello ack allowing nothing in flight", MessageType.HelloAck, Bytes(new PayloadBuilder().U8(1).U32(1024).U32(0).U32(0).Name("s").Name("v")) },
        { "metadata claims 65535 inputs", MessageType.ModelMetadataResponse, Bytes(new PayloadBuilder().Name("m").U16(0).Name("p").U16(65535)) },
        { "metadata dimension -2", MessageType.ModelMetadataResponse, Bytes(new PayloadBuilder().Name("m").U16(0).Name("p").U16(1).Name("x").U8(12).U8(1).I64(-2).U16(0)) },
        { "metadata datatype 99", MessageType.ModelMetadataResponse, Bytes(new PayloadBuilder().Name("m").U16(0).Name("p").U16(1).Name("x").U8(99).U8(0).U16(0)) },
        { "goaway cut short", MessageType.GoAway, [1, 2, 3, 4, 5, 6, 7, 8, 4] },
        { "error text past the end", MessageType.Error, Bytes(new PayloadBuilder().U16(1).U16(10).Raw(1)) },
    };

    [Theory]
    [MemberData(nameof(InvalidPayloads))]
    public void Malformed_control_payload_is_a_per_request_error(string why, MessageType type, byte[] payload)
    {
        var header = new FrameHeader(type, 1, (uint)payload.Length);
        var error = Assert.Throws<ProtocolException>(() => Frame.Decode(header, new ReadOnlySequence<byte>(payload)));
        Assert.Equal(ErrorCode.InvalidArgument, error.Code);
        Assert.False(error.IsFatal, why);
    }

    [Fact]
    public void Names_over_255_bytes_are_refused_by_the_writer()
    {
        var output = new ArrayBufferWriter<byte>();
        var longName = new string('\u00e9', 128);
        Assert.Throws<ArgumentException>(() => new ModelRequest(longName, "").Write(output, MessageType.ModelReadyRequest, 1));
        Assert.Equal(0, output.WrittenCount);
        Assert.Equal(256, Encoding.UTF8.GetByteCount(longName));
    }

    private static byte[] Bytes(PayloadBuilder builder) => builder.ToSequence().ToArray();
}
