using System.Runtime.InteropServices;
using HighPerfInference.Client.Tests.Support;
using HighPerfInference.Protocol;
using HighPerfInference.Server.Tests.TestSupport;

namespace HighPerfInference.Client.Tests;

/// <summary>The binary client against the real server: Program.Build, the ONNX models, the real scheduler.</summary>
[Collection(ServerCollection.Name)]
public sealed class LiveServerTests(ServerFixture fixture) : IAsyncLifetime
{
    private InferenceClient _client = null!;

    public Task InitializeAsync()
    {
        _client = new InferenceClient(fixture.Server.BinaryEndPoint!, new InferenceClientOptions { Connections = 4 });
        return _client.ConnectAsync();
    }

    public async Task DisposeAsync() => await _client.DisposeAsync();

    [Fact]
    public async Task Add_sub_returns_sum_and_difference_read_in_place()
    {
        using var result = await _client.InferAsync(AddSub.Request(seed: 5));

        AddSub.AssertResult(result, seed: 5);
        Assert.Equal(("add_sub", "1", 2), (result.ModelName, result.ModelVersion, result.OutputCount));
        Assert.Equal("OUTPUT0", result[0].Name);
    }

    [Fact]
    public async Task Thousands_of_concurrent_callers_sharing_one_client_all_get_their_own_answers()
    {
        const int callers = 4000;
        const int callsEach = 5;
        var requests = Enumerable.Range(0, callers).Select(caller => AddSub.Request(seed: caller)).ToArray();

        await Task.WhenAll(Enumerable.Range(0, callers).Select(caller => Task.Run(async () =>
        {
            for (var call = 0; call < callsEach; call++)
            {
                using var result = await _client.InferAsync(requests[caller]);
                AddSub.AssertResult(result, seed: caller);
            }
        })));
    }

    [Fact]
    public async Task Requested_outputs_and_batched_rows_are_honoured()
    {
        var request = AddSub.Request(seed: 1, rows: 3).AddRequestedOutput("OUTPUT1");

        using var result = await _client.InferAsync(request);

        Assert.Equal(1, result.OutputCount);
        Assert.False(result.TryGetOutput("OUTPUT0", out _));
        Assert.Equal([3L, 16], result["OUTPUT1"].Shape.ToArray());
    }

    [Fact]
    public async Task A_large_tensor_makes_the_round_trip()
    {
        const int width = 1 << 20;
        var data = new float[width];
        for (var i = 0; i < width; i++)
            data[i] = i;

        using var result = await _client.InferAsync(new InferRequest("identity_fp32").AddInput("INPUT0", [1, width], data));

        Assert.True(result["OUTPUT0"].AsSpan<float>().SequenceEqual(data));
    }

    [Fact]
    public async Task Typed_arrays_and_raw_bytes_are_both_inputs()
    {
        var request = new InferRequest("add_sub_int32")
            .AddInput("INPUT0", [1, 16], Enumerable.Range(0, 16).ToArray())
            .AddInput("INPUT1", DataType.Int32, [1, 16], MemoryMarshal.AsBytes(Enumerable.Repeat(1, 16).ToArray().AsSpan()).ToArray());

        using var result = await _client.InferAsync(request);

        Assert.Equal(Enumerable.Range(1, 16), result["OUTPUT0"].AsSpan<int>().ToArray());
        Assert.Throws<InvalidOperationException>(() => result["OUTPUT0"].AsSpan<float>().Length);
    }

    [Fact]
    public async Task Model_errors_come_back_with_their_code_and_are_not_retried()
    {
        var missing = await Assert.ThrowsAsync<InferenceException>(() => _client.InferAsync(new InferRequest("no_such_model").AddInput("X", [1], new float[1])).AsTask());
        var misfit = await Assert.ThrowsAsync<InferenceException>(() => _client.InferAsync(new InferRequest("add_sub").AddInput("INPUT0", [1, 4], new float[4])).AsTask());

        Assert.Equal(ErrorCode.NotFound, missing.Code);
        Assert.Equal(ErrorCode.InvalidArgument, misfit.Code);
    }

    [Fact]
    public async Task Metadata_readiness_and_ping()
    {
        var metadata = await _client.GetModelMetadataAsync("add_sub");

        Assert.Equal(("add_sub", "INPUT0", DataType.Fp32), (metadata.Name, metadata.Inputs[0].Name, metadata.Inputs[0].DataType));
        Assert.Equal([-1L, 16], metadata.Inputs[0].Shape);
        Assert.Equal(["OUTPUT0", "OUTPUT1"], metadata.Outputs.Select(output => output.Name));
        Assert.True(await _client.IsServerReadyAsync());
        Assert.True(await _client.IsModelReadyAsync("add_sub"));
        Assert.True(await _client.IsModelReadyAsync("add_sub", "1"));
        Assert.False(await _client.IsModelReadyAsync("no_such_model"));
        Assert.Equal(ErrorCode.NotFound, (await Assert.ThrowsAsync<InferenceException>(() => _client.GetModelMetadataAsync("no_such_model"))).Code);
        Assert.True(await _client.PingAsync() > TimeSpan.Zero);
        Assert.Equal(FrameLimits.DefaultMaxPayloadLength, _client.Server!.MaxPayloadLength);
    }
}
