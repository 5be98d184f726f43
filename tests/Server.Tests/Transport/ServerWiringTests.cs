using HighPerfInference.Client;
using HighPerfInference.Protocol;
using HighPerfInference.Server.Tests.TestSupport;

namespace HighPerfInference.Server.Tests.Transport;

/// <summary>The transport as Program registers it: its own port beside HTTP, settings from the BinaryProtocol section.</summary>
public sealed class ServerWiringTests
{
    [Fact]
    public async Task The_binary_port_serves_the_loaded_models_with_the_configured_limits()
    {
        await using var server = await RunningServer.StartAsync(["add_sub"], ["--BinaryProtocol:MaxInFlight", "7", "--BinaryProtocol:ApiKey", "k3y"]);
        Assert.NotEqual(server.HttpEndPoint.Port, server.BinaryEndPoint!.Port);

        await using (var refused = new InferenceClient(server.BinaryEndPoint, new InferenceClientOptions { Retry = RetryPolicy.None }))
            Assert.Equal(ErrorCode.Unauthenticated, (await Assert.ThrowsAsync<InferenceException>(() => refused.IsServerReadyAsync())).Code);

        await using var client = new InferenceClient(server.BinaryEndPoint, new InferenceClientOptions { ApiKey = "k3y" });
        Assert.True(await client.IsModelReadyAsync("add_sub"));
        Assert.Equal(7u, client.Server!.MaxInFlight);
        using var result = await client.InferAsync(new InferRequest("add_sub").AddInput("INPUT0", [1, 16], new float[16]).AddInput("INPUT1", [1, 16], new float[16]));
        Assert.Equal(16, result["OUTPUT0"].AsSpan<float>().Length);
    }
}
