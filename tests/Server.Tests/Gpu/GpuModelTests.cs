using System.Collections.Concurrent;
using HighPerfInference.NativeEngine;
using HighPerfInference.Protocol;
using HighPerfInference.Server.Models;
using HighPerfInference.Server.Scheduling;
using HighPerfInference.Server.Tests.Models;
using HighPerfInference.Server.Tests.Scheduling;
using Microsoft.Extensions.Logging;

namespace HighPerfInference.Server.Tests.Gpu;

/// <summary>Models whose config places them on a GPU: what happens without one, and with one ([GpuFact]).</summary>
public sealed class GpuModelTests : IDisposable
{
    private readonly TestRepository _models = new();
    private readonly PinnedMemory _pinnedMemory = new();
    private readonly CollectingLogger _logger = new();

    public void Dispose()
    {
        _pinnedMemory.Dispose();
        _models.Dispose();
    }

    private static string AddSubConfig(string provider, bool fallbackToCpu) => $$"""
        {
          "max_batch_size": 8,
          "dynamic_batching": {},
          "instance_group": [{ "count": 2, "kind": "KIND_GPU" }],
          "execution_provider": { "kind": "{{provider}}", "fallback_to_cpu": {{(fallbackToCpu ? "true" : "false")}} }
        }
        """;

    private ModelRepository Repository(string configJson)
    {
        _models.Add("add_sub", configJson, [1], onnxFrom: "add_sub");
        return new ModelRepository(new ModelRepositoryOptions { Path = _models.Path }, new OnnxBackendFactory(_pinnedMemory, _logger));
    }

    private static async Task AssertAnswersAsync(ModelRepository repository)
    {
        var completion = new CollectingCompletion();
        var requests = new InferenceRequest[16];
        for (var i = 0; i < requests.Length; i++)
            repository.Router.Submit(requests[i] = TestRequests.AddSub((ulong)i, completion, rows: 1 + (i % 4)));
        foreach (var request in requests)
            TestRequests.AssertAddSub(request, await completion.WaitAsync(request.Id));
    }

    [NoGpuFact]
    public async Task A_model_on_the_cuda_provider_fails_to_load_saying_what_is_missing()
    {
        await using var repository = Repository(AddSubConfig("cuda", fallbackToCpu: false));

        var error = await Assert.ThrowsAsync<InferenceException>(() => repository.LoadAsync("add_sub"));

        var missing = GpuSupport.UnavailableReason(ExecutionProviderKind.Cuda, 0)!;
        Assert.Equal(ErrorCode.Unavailable, error.Code);
        Assert.Contains($"the Cuda execution provider on GPU 0 is not available: {missing}", error.Message);
        Assert.Contains("execution_provider.fallback_to_cpu", error.Message);
        var entry = Assert.Single(repository.GetIndex());
        Assert.Equal(ModelState.Unavailable, entry.State);
        Assert.Contains(missing, entry.Reason);
        Assert.Null(_pinnedMemory.Pool);
    }

    [NoGpuFact]
    public async Task With_fallback_to_cpu_it_loads_on_the_cpu_with_a_warning_and_answers()
    {
        await using var repository = Repository(AddSubConfig("tensorrt", fallbackToCpu: true));

        await repository.LoadAsync("add_sub");

        await AssertAnswersAsync(repository);
        var warning = Assert.Single(_logger.Entries);
        Assert.Equal(LogLevel.Warning, warning.Level);
        Assert.Contains("the TensorRT execution provider on GPU 0 is not available", warning.Message);
        Assert.Contains("Running all 2 instances on the CPU", warning.Message);
        Assert.Null(_pinnedMemory.Pool); // batch buffers in host memory
    }

    [NoGpuFact]
    public void A_fallen_back_backend_places_every_instance_on_the_cpu_in_host_memory()
    {
        var config = ModelConfigReader.Parse("add_sub", "test", AddSubConfig("cuda", fallbackToCpu: true), yaml: false);
        using var backend = OnnxBackend.Load(Path.Combine(TestRepository.GeneratedModels, "add_sub", "1", "model.onnx"), config, _pinnedMemory, _logger);

        Assert.Equal([new(ExecutionProviderKind.Cpu, 0), new(ExecutionProviderKind.Cpu, 0)], backend.Placements);
        Assert.Null(backend.Allocator);
    }

    [GpuFact]
    [Trait("Category", "Gpu")]
    public async Task A_model_on_the_cuda_provider_runs_from_pinned_memory_on_two_instances()
    {
        await using var repository = Repository(AddSubConfig("cuda", fallbackToCpu: false));

        await repository.LoadAsync("add_sub");

        Assert.Empty(_logger.Entries);
        var pool = _pinnedMemory.Pool!;
        Assert.True(pool.IsPinned);
        await AssertAnswersAsync(repository);
        Assert.True(pool.Statistics.UsedBytes > 0); // the batch buffers, held while the model is loaded
        await repository.UnloadAsync("add_sub");
        Assert.Equal(0UL, pool.Statistics.UsedBytes);
    }

    /// <summary>What the backend factory logs.</summary>
    private sealed class CollectingLogger : ILogger<OnnxBackendFactory>
    {
        public ConcurrentQueue<(LogLevel Level, string Message)> Entries { get; } = new();

        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
            Entries.Enqueue((logLevel, formatter(state, exception)));
    }
}
