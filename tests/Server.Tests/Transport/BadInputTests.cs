using HighPerfInference.Protocol;
using HighPerfInference.Server.Tests.Transport.Support;

namespace HighPerfInference.Server.Tests.Transport;

/// <summary>
/// docs/protocol.md §5: a bad payload behind a valid header costs only its request (Error with its
/// id, connection kept); a stream that cannot be resynchronised gets Error id 0, then the close.
/// </summary>
public sealed class BadInputTests(TransportFixture fixture) : IClassFixture<TransportFixture>
{
    public static TheoryData<string, byte[], ErrorCode> PerRequestErrors => new()
    {
        { "truncated infer payload", Frames.Raw(MessageType.InferRequest, 7, [7, (byte)'a', (byte)'d', (byte)'d']), ErrorCode.InvalidArgument },
        { "trailing bytes after the last tensor", Frames.WithPayloadLength([.. Frames.AddSub(7, 1), 0], (uint)(Frames.AddSub(7, 1).Length - FrameHeader.Size + 1)), ErrorCode.InvalidArgument },
        { "empty model name", InferWithModel(7, ""), ErrorCode.InvalidArgument },
        { "unknown message type", Frames.Raw((MessageType)0x7f, 7, [1, 2, 3]), ErrorCode.Unsupported },
        { "a client-bound message", Frames.Raw(MessageType.InferResponse, 7, []), ErrorCode.Unsupported },
        { "malformed ping", Frames.Raw(MessageType.Ping, 7, [1, 2]), ErrorCode.InvalidArgument },
        { "cancel with a payload", Frames.Raw(MessageType.Cancel, 7, [1]), ErrorCode.InvalidArgument },
        { "malformed model query", Frames.Raw(MessageType.ModelMetadataRequest, 7, [200]), ErrorCode.InvalidArgument },
    };

    [Theory]
    [MemberData(nameof(PerRequestErrors))]
    public async Task A_malformed_message_is_answered_for_its_id_and_the_connection_stays_usable(string _, byte[] frame, ErrorCode code)
    {
        await using var connection = await RawConnection.OpenReadyAsync(fixture.Host.EndPoint);
        await connection.SendAsync(Frames.Concat(frame, Frames.AddSub(8, 8)));

        await connection.ExpectErrorAsync(7, code);
        Frames.AssertAddSub((await connection.ReadAsync())!, 8);
    }

    public static TheoryData<string, byte[], ErrorCode> FatalErrors => new()
    {
        { "bad magic", [.. "XPIB"u8, .. Frames.AddSub(1, 1).AsSpan(4)], ErrorCode.ProtocolError },
        { "reserved field not zero", SetByte(Frames.AddSub(1, 1), 20, 1), ErrorCode.ProtocolError },
        { "unsupported version", SetByte(Frames.AddSub(1, 1), 4, 2), ErrorCode.ProtocolError },
        { "payload over the announced maximum", Frames.Raw(MessageType.InferRequest, 1, [], payloadLength: FrameLimits.DefaultMaxPayloadLength + 1), ErrorCode.PayloadTooLarge },
        { "an infer request with id 0", Frames.AddSub(0, 1), ErrorCode.ProtocolError },
        { "a cancel with id 0", Frames.Empty(MessageType.Cancel, 0), ErrorCode.ProtocolError },
        { "a malformed ping with id 0", Frames.Raw(MessageType.Ping, 0, [1]), ErrorCode.ProtocolError },
        { "an unknown type with id 0", Frames.Raw((MessageType)0x7f, 0, []), ErrorCode.ProtocolError },
    };

    [Theory]
    [MemberData(nameof(FatalErrors))]
    public async Task A_stream_that_cannot_be_trusted_gets_a_fatal_error_then_the_close(string _, byte[] frame, ErrorCode code)
    {
        await using var connection = await RawConnection.OpenReadyAsync(fixture.Host.EndPoint);
        await connection.SendAsync(Frames.Concat(Frames.AddSub(9, 9), frame));

        // The request before the bad frame may be answered first; then the fatal Error, then the close.
        var next = await connection.ReadAsync();
        if (next!.Id == 9)
        {
            Frames.AssertAddSub(next, 9);
            next = await connection.ReadAsync();
        }
        Assert.Equal((MessageType.Error, 0ul, code), (next!.Type, next.Id, next.Error.Code));
        await connection.ExpectClosedAsync();
    }

    [Fact]
    public async Task An_oversize_frame_is_refused_as_soon_as_its_header_arrives()
    {
        await using var connection = await RawConnection.OpenReadyAsync(fixture.Host.EndPoint);
        // Only the header: the server must not wait for 64 MiB of payload to refuse it.
        await connection.SendAsync(Frames.Raw(MessageType.InferRequest, 1, [], payloadLength: uint.MaxValue));

        await connection.ExpectErrorAsync(0, ErrorCode.PayloadTooLarge);
        await connection.ExpectClosedAsync();
    }

    [Fact]
    public async Task Bad_frames_on_one_connection_leave_the_others_alone()
    {
        await using var good = await RawConnection.OpenReadyAsync(fixture.Host.EndPoint);
        await using var bad = await RawConnection.OpenReadyAsync(fixture.Host.EndPoint);
        await good.SendAsync(Frames.AddSub(1, 1));
        await bad.SendAsync(SetByte(Frames.AddSub(1, 1), 0, 0));

        await bad.ExpectErrorAsync(0, ErrorCode.ProtocolError);
        Frames.AssertAddSub((await good.ReadAsync())!, 1);
        await good.SendAsync(Frames.AddSub(2, 2));
        Frames.AssertAddSub((await good.ReadAsync())!, 2);
    }

    [Fact]
    public async Task Tensors_that_do_not_fit_the_model_are_the_model_s_error()
    {
        await using var connection = await RawConnection.OpenReadyAsync(fixture.Host.EndPoint);
        await connection.SendAsync(Frames.Concat(
            Frames.Infer(1, "add_sub", 0, ("INPUT0", [1, 4], new float[4]), ("INPUT1", [1, 4], new float[4])),
            Frames.Infer(2, "add_sub", 0, ("INPUT0", [1, 16], new float[16])),
            Frames.AddSub(3, 3)));

        var answers = (await connection.ReadAsync(3)).ToDictionary(frame => frame.Id);

        Assert.Equal(ErrorCode.InvalidArgument, answers[1].Error.Code);
        Assert.Equal(ErrorCode.InvalidArgument, answers[2].Error.Code);
        Frames.AssertAddSub(answers[3], 3);
    }

    private static byte[] InferWithModel(ulong id, string model) =>
        Frames.Raw(MessageType.InferRequest, id, [(byte)model.Length, .. System.Text.Encoding.UTF8.GetBytes(model), 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]);

    private static byte[] SetByte(byte[] frame, int offset, byte value)
    {
        frame[offset] = value;
        return frame;
    }
}
