using System.Net;
using HighPerfInference.LoadGen.Cli;
using HighPerfInference.LoadGen.Wire;
using HighPerfInference.Protocol;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace HighPerfInference.LoadGen.Echo;

/// <summary>
/// <c>loadgen echo-server</c>: a Kestrel binary-protocol endpoint that answers the handshake and then
/// every InferRequest frame with one fixed InferResponse (the outputs' sizes, zero-filled), without
/// parsing the payload or running anything. What the load generator reaches against it is its own
/// ceiling (and the transport's), the yardstick for every server figure.
/// </summary>
public static class EchoServer
{
    public const string Usage = """
        loadgen echo-server [options]              a no-op binary-protocol server (the generator's own ceiling)
          --host H --port P                        listen address (default 127.0.0.1:8101)
          --output NAME:DATATYPE:SHAPE             an output of the fixed response (repeat; default add_sub's:
                                                   OUTPUT0 and OUTPUT1, FP32 [1,16])
          --max-in-flight N                        announced in-flight limit per connection (default 65536)
        """;

    public static async Task<int> RunAsync(IReadOnlyList<string> args)
    {
        var reader = ArgumentReader.Parse(args, ["host", "port", "output", "max-in-flight"], []);
        var address = IPAddress.TryParse(reader.String("host", "127.0.0.1"), out var parsed)
            ? parsed
            : throw new UsageException("--host: an IP address, e.g. 127.0.0.1");
        var port = reader.Int("port", 8101, min: 1);
        var outputs = new List<TensorSpec>();
        foreach (var text in reader.All("output"))
            outputs.Add(TensorSpec.Parse(text));
        if (outputs.Count == 0)
            outputs.AddRange([new TensorSpec("OUTPUT0", DataType.Fp32, [1, 16]), new TensorSpec("OUTPUT1", DataType.Fp32, [1, 16])]);
        var handler = new EchoConnectionHandler(BinaryFrames.InferResponse("echo", outputs), (uint)reader.Int("max-in-flight", 65536, min: 1));

        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.Services.AddSingleton(handler);
        builder.WebHost.ConfigureKestrel(kestrel => kestrel.Listen(address, port, listen => listen.UseConnectionHandler<EchoConnectionHandler>()));
        await using var app = builder.Build();
        await app.StartAsync().ConfigureAwait(false);
        await Console.Error.WriteLineAsync($"echo-server: binary protocol on {address}:{port}, {handler.ResponseLength}-byte responses; Ctrl+C stops").ConfigureAwait(false);
        await app.WaitForShutdownAsync().ConfigureAwait(false);
        return 0;
    }
}

/// <summary>Answers every frame of a read in one batch and flushes once, as the real transport does under load.</summary>
public sealed class EchoConnectionHandler(byte[] response, uint maxInFlight) : ConnectionHandler
{
    public int ResponseLength => response.Length;

    public override async Task OnConnectedAsync(ConnectionContext connection)
    {
        var input = connection.Transport.Input;
        var output = connection.Transport.Output;
        var maxPayload = FrameLimits.HandshakeMaxPayloadLength;
        try
        {
            while (true)
            {
                var result = await input.ReadAsync().ConfigureAwait(false);
                var buffer = result.Buffer;
                var answered = false;
                while (FrameReader.TryReadFrame(ref buffer, maxPayload, out var header, out _))
                {
                    switch (header.Type)
                    {
                        case MessageType.Hello:
                            new HelloAck(ProtocolVersion.Current, FrameLimits.DefaultMaxPayloadLength, maxInFlight, 0, "hpi-loadgen-echo", "1").Write(output);
                            maxPayload = FrameLimits.DefaultMaxPayloadLength;
                            answered = true;
                            break;
                        case MessageType.InferRequest:
                            BinaryFrames.WriteWithRequestId(output, response, MessageType.InferResponse, header.RequestId);
                            answered = true;
                            break;
                    }
                }
                input.AdvanceTo(buffer.Start, buffer.End);
                if (answered && (await output.FlushAsync().ConfigureAwait(false)).IsCompleted)
                    break;
                if (result.IsCompleted)
                    break;
            }
        }
        catch (ProtocolException)
        {
            // A broken stream: close the connection, as the real server does after its Error frame.
        }
        catch (ConnectionResetException)
        {
        }
    }
}
