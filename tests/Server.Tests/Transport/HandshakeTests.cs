using HighPerfInference.Protocol;
using HighPerfInference.Server.Tests.Transport.Support;
using HighPerfInference.Server.Transport;

namespace HighPerfInference.Server.Tests.Transport;

public sealed class HandshakeTests(TransportFixture fixture) : IClassFixture<TransportFixture>
{
    [Fact]
    public async Task Hello_is_answered_with_the_configured_limits()
    {
        await using var connection = await RawConnection.OpenAsync(fixture.Host.EndPoint);
        await connection.SendAsync(Frames.Hello());

        var frame = await connection.ReadAsync();

        Assert.Equal((MessageType.HelloAck, 0ul), (frame!.Type, frame.Id));
        var ack = HelloAck.Read(new(frame.Payload));
        Assert.Equal(ProtocolVersion.Current, ack.Version);
        Assert.Equal(FrameLimits.DefaultMaxPayloadLength, ack.MaxPayloadLength);
        Assert.Equal(256u, ack.MaxInFlight);
        Assert.Equal(120_000u, ack.IdleTimeoutMilliseconds);
        Assert.Equal("HighPerfInference", ack.ServerName);
    }

    [Fact]
    public async Task Requests_sent_right_behind_the_Hello_are_served()
    {
        await using var connection = await RawConnection.OpenAsync(fixture.Host.EndPoint);
        await connection.SendAsync(Frames.Concat(Frames.Hello(), Frames.AddSub(1, 1), Frames.AddSub(2, 2)));

        Assert.Equal(MessageType.HelloAck, (await connection.ReadAsync())!.Type);
        var answers = (await connection.ReadAsync(2)).ToDictionary(frame => frame.Id);
        Frames.AssertAddSub(answers[1], 1);
        Frames.AssertAddSub(answers[2], 2);
    }

    [Fact]
    public async Task A_client_offering_only_newer_versions_is_refused_with_Unsupported()
    {
        await using var connection = await RawConnection.OpenAsync(fixture.Host.EndPoint);
        await connection.SendAsync(Frames.Hello(min: ProtocolVersion.Max + 1, max: ProtocolVersion.Max + 3));

        var error = await connection.ExpectErrorAsync(0, ErrorCode.Unsupported);

        Assert.Contains("versions 1..1", error.Message);
        await connection.ExpectClosedAsync();
    }

    [Fact]
    public async Task A_range_reaching_past_ours_settles_on_our_highest_version()
    {
        await using var connection = await RawConnection.OpenAsync(fixture.Host.EndPoint);
        await connection.SendAsync(Frames.Hello(min: 1, max: 9));

        var frame = await connection.ReadAsync();

        Assert.Equal(ProtocolVersion.Max, HelloAck.Read(new(frame!.Payload)).Version);
    }

    [Fact]
    public async Task A_first_frame_other_than_Hello_is_a_protocol_error()
    {
        await using var connection = await RawConnection.OpenAsync(fixture.Host.EndPoint);
        await connection.SendAsync(Frames.Ping(1, 42));

        await connection.ExpectErrorAsync(0, ErrorCode.ProtocolError);
        await connection.ExpectClosedAsync();
    }

    [Fact]
    public async Task A_malformed_Hello_is_a_protocol_error()
    {
        await using var connection = await RawConnection.OpenAsync(fixture.Host.EndPoint);
        await connection.SendAsync(Frames.Raw(MessageType.Hello, 0, [1]));

        await connection.ExpectErrorAsync(0, ErrorCode.ProtocolError);
        await connection.ExpectClosedAsync();
    }

    [Fact]
    public async Task A_second_Hello_is_a_protocol_error()
    {
        await using var connection = await RawConnection.OpenReadyAsync(fixture.Host.EndPoint);
        await connection.SendAsync(Frames.Hello());

        await connection.ExpectErrorAsync(0, ErrorCode.ProtocolError);
        await connection.ExpectClosedAsync();
    }

    [Fact]
    public async Task A_Hello_larger_than_the_handshake_limit_is_refused_before_its_payload_arrives()
    {
        await using var connection = await RawConnection.OpenAsync(fixture.Host.EndPoint);
        await connection.SendAsync(Frames.Raw(MessageType.Hello, 0, [], payloadLength: FrameLimits.HandshakeMaxPayloadLength + 1));

        await connection.ExpectErrorAsync(0, ErrorCode.PayloadTooLarge);
        await connection.ExpectClosedAsync();
    }
}

public sealed class ApiKeyTests : IAsyncLifetime
{
    private readonly TestRepository _repository = new();
    private TransportHost? _host;

    public async Task InitializeAsync() =>
        _host = await TransportHost.StartAsync(_repository, new BinaryTransportOptions { ApiKey = "s3cret" });

    public async Task DisposeAsync()
    {
        await _host!.DisposeAsync();
        _repository.Dispose();
    }

    [Theory]
    [InlineData("")]
    [InlineData("wrong")]
    [InlineData("s3cret ")]
    public async Task A_missing_or_wrong_key_is_refused_with_Unauthenticated(string key)
    {
        await using var connection = await RawConnection.OpenAsync(_host!.EndPoint);
        await connection.SendAsync(Frames.Hello(apiKey: key));

        await connection.ExpectErrorAsync(0, ErrorCode.Unauthenticated);
        await connection.ExpectClosedAsync();
    }

    [Fact]
    public async Task The_right_key_opens_the_connection()
    {
        await using var connection = await RawConnection.OpenReadyAsync(_host!.EndPoint, apiKey: "s3cret");
        await connection.SendAsync(Frames.AddSub(1, 3));

        Frames.AssertAddSub((await connection.ReadAsync())!, 3);
    }
}
