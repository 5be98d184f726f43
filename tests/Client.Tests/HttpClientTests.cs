using HighPerfInference.Client.Http;
using HighPerfInference.Client.Tests.Support;
using HighPerfInference.Protocol;
using HighPerfInference.Server.Tests.TestSupport;

namespace HighPerfInference.Client.Tests;

/// <summary>The HTTP (V2) client against the real server, with binary tensors and with JSON data.</summary>
[Collection(ServerCollection.Name)]
public sealed class HttpClientTests(ServerFixture fixture)
{
    private HttpInferenceClient Client(bool binary) =>
        new(fixture.Server.BaseAddress, new HttpInferenceClientOptions { BinaryData = binary, Retry = RetryPolicy.None });

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task Add_sub_gives_the_same_result_as_over_the_binary_protocol(bool binary)
    {
        using var client = Client(binary);

        using var result = await client.InferAsync(AddSub.Request(seed: 4, rows: 2));

        AddSub.AssertResult(result, seed: 4, rows: 2);
        Assert.Equal(("add_sub", "1"), (result.ModelName, result.ModelVersion));
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task Integer_tensors_and_requested_outputs(bool binary)
    {
        using var client = Client(binary);
        var request = new InferRequest("add_sub_int32")
            .AddInput("INPUT0", [1, 16], Enumerable.Range(0, 16).ToArray())
            .AddInput("INPUT1", [1, 16], Enumerable.Repeat(-3, 16).ToArray())
            .AddRequestedOutput("OUTPUT1");

        using var result = await client.InferAsync(request);

        Assert.Equal(1, result.OutputCount);
        Assert.Equal(Enumerable.Range(3, 16), result["OUTPUT1"].AsSpan<int>().ToArray());
    }

    [Fact]
    public async Task Errors_carry_the_code_of_their_HTTP_status()
    {
        using var client = Client(binary: true);

        var missing = await Assert.ThrowsAsync<InferenceException>(() => client.InferAsync(new InferRequest("no_such_model").AddInput("X", [1], new float[1])));
        var misfit = await Assert.ThrowsAsync<InferenceException>(() => client.InferAsync(new InferRequest("add_sub").AddInput("INPUT0", [1, 4], new float[4])));

        Assert.Equal(ErrorCode.NotFound, missing.Code);
        Assert.Equal(ErrorCode.InvalidArgument, misfit.Code);
        Assert.NotEmpty(misfit.Message);
    }

    [Fact]
    public async Task Health_readiness_and_metadata()
    {
        using var client = Client(binary: true);

        Assert.True(await client.IsServerLiveAsync());
        Assert.True(await client.IsServerReadyAsync());
        Assert.True(await client.IsModelReadyAsync("add_sub"));
        Assert.False(await client.IsModelReadyAsync("no_such_model"));
        var metadata = await client.GetModelMetadataAsync("add_sub", "1");
        Assert.Equal(("add_sub", DataType.Fp32), (metadata.Name, metadata.Outputs[1].DataType));
        Assert.Equal([-1L, 16], metadata.Outputs[1].Shape);
        Assert.Equal(ErrorCode.NotFound, (await Assert.ThrowsAsync<InferenceException>(() => client.GetModelMetadataAsync("no_such_model"))).Code);
    }
}
