using HighPerfInference.Protocol;
using HighPerfInference.Server.Models;
using HighPerfInference.Server.Tests.Scheduling;
using Xunit.Abstractions;

namespace HighPerfInference.Server.Tests.Models;

/// <summary>Every request answered exactly once through cancellations, deadlines and a reload.</summary>
public sealed class ChaosTests(ITestOutputHelper output)
{
    private const string Config = """
        { "max_batch_size": 128, "dynamic_batching": { "default_queue_policy": { "max_queue_size": 8192 } }, "instance_group": [{ "count": 2, "kind": "KIND_CPU" }] }
        """;

    [Fact]
    public async Task A_million_requests_with_cancellations_timeouts_and_a_reload_are_each_answered_once()
    {
        using var folder = new TestRepository().Add("add_sub", Config, [1]);
        var backends = new FakeBackendFactory(config => FakeBackend.AddSub(config.MaxBatchSize));
        await using var repository = new ModelRepository(new ModelRepositoryOptions { Path = folder.Path }, backends);
        await repository.StartAsync();

        var harness = new ChaosHarness(repository.Router, "add_sub", requests: 1_000_000, inFlight: 4096);
        await harness.RunAsync(producers: 2, cancelShare: 0.01, timeoutShare: 0.01, () => repository.LoadAsync("add_sub"));

        Report(harness);
        Assert.Empty(harness.Anomalies());
        Assert.Equal(0, harness.WrongResults);
        Assert.Equal(harness.Requests, harness.Count(ErrorCode.Ok) + harness.Count(ErrorCode.Cancelled) + harness.Count(ErrorCode.Timeout));
        Assert.True(harness.Count(ErrorCode.Cancelled) > 0 && harness.Count(ErrorCode.Timeout) > 0);
        Assert.Equal(2, backends.Loaded.Count);
        Assert.True(backends.Loaded.First().Backend.Disposed);
    }

    [Fact]
    public async Task The_same_holds_on_the_real_add_sub_model_through_onnx_runtime()
    {
        using var folder = new TestRepository().Add("add_sub", Config, [1], onnxFrom: "add_sub");
        await using var repository = new ModelRepository(new ModelRepositoryOptions { Path = folder.Path });
        await repository.StartAsync();
        Assert.True(repository.IsReady);

        var harness = new ChaosHarness(repository.Router, "add_sub", requests: 1_000_000, inFlight: 1024);
        await harness.RunAsync(producers: 2, cancelShare: 0.01, timeoutShare: 0.01, () => repository.LoadAsync("add_sub"));

        Report(harness);
        Assert.Empty(harness.Anomalies());
        Assert.Equal(0, harness.WrongResults);
        Assert.Equal(harness.Requests, harness.Count(ErrorCode.Ok) + harness.Count(ErrorCode.Cancelled) + harness.Count(ErrorCode.Timeout));
        var statistics = repository.GetStatistics("add_sub").Single();
        Assert.True(statistics.InferenceCount >= statistics.ExecutionCount);
    }

    private void Report(ChaosHarness harness) =>
        output.WriteLine($"ok {harness.Count(ErrorCode.Ok)}, cancelled {harness.Count(ErrorCode.Cancelled)}, timeout {harness.Count(ErrorCode.Timeout)}, other {harness.Requests - harness.Count(ErrorCode.Ok) - harness.Count(ErrorCode.Cancelled) - harness.Count(ErrorCode.Timeout)}");
}
