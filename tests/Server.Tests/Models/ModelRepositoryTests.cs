using HighPerfInference.Protocol;
using HighPerfInference.Server.Models;
using HighPerfInference.Server.Scheduling;
using HighPerfInference.Server.Tests.Scheduling;

namespace HighPerfInference.Server.Tests.Models;

/// <summary>Lifecycle, routing and queries of the repository, on in-memory add_sub models.</summary>
public sealed class ModelRepositoryTests : IAsyncLifetime
{
    private const string AddSubConfig = """{ "max_batch_size": 32, "dynamic_batching": {} }""";

    private readonly TestRepository _folder = new();
    private readonly FakeBackendFactory _backends = new(config => FakeBackend.AddSub(Math.Max(1, config.MaxBatchSize)));
    private ModelRepository _repository = null!;

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        if (_repository is not null)
            await _repository.DisposeAsync();
        _folder.Dispose();
    }

    private async Task<ModelRepository> StartAsync(params string[] models)
    {
        _repository = new ModelRepository(new ModelRepositoryOptions { Path = _folder.Path, Models = models }, _backends);
        await _repository.StartAsync();
        return _repository;
    }

    private static Answer Infer(ModelRepository repository, ulong id, string? version = null, string? key = null, string model = "add_sub")
    {
        var completion = new CollectingCompletion();
        var request = TestRequests.AddSub(id, completion);
        request.ModelName = model;
        request.ModelVersion = version;
        request.RoutingKey = key;
        repository.Router.Submit(request);
        return completion.Wait(id);
    }

    [Fact]
    public async Task Models_load_at_start_and_answer_with_their_version()
    {
        _folder.Add("add_sub", AddSubConfig, [1, 2]);
        var repository = await StartAsync();
        Assert.True(repository.IsReady);
        Assert.True(repository.IsModelReady("add_sub"));
        Assert.True(repository.IsModelReady("add_sub", "2"));
        Assert.False(repository.IsModelReady("add_sub", "1")); // latest policy: one version
        var answer = Infer(repository, 1);
        Assert.Equal(ErrorCode.Ok, answer.Error);
        Assert.Equal("2", answer.Version);
        Assert.Equal([new ModelIndexEntry("add_sub", "2", ModelState.Ready, "")], repository.GetIndex());
    }

    [Fact]
    public async Task Metadata_and_config_come_from_the_model_and_the_config_file()
    {
        _folder.Add("add_sub", AddSubConfig, [1]);
        var repository = await StartAsync();
        var metadata = repository.GetMetadata("add_sub");
        Assert.Equal("add_sub", metadata.Name);
        Assert.Equal(["1"], metadata.Versions);
        Assert.Equal("onnxruntime_onnx", metadata.Platform);
        Assert.Equal(["INPUT0", "INPUT1"], metadata.Inputs.Select(i => i.Name));
        Assert.Equal([-1L, 16], metadata.Inputs[0].Shape);
        Assert.Equal(DataType.Fp32, metadata.Outputs[1].DataType);
        Assert.Equal(32, repository.GetMaxBatchSize("add_sub"));
        Assert.Contains("\"max_batch_size\": 32", repository.GetConfigJson("add_sub", "1"));
        Assert.Equal(ErrorCode.NotFound, Assert.Throws<InferenceException>(() => repository.GetMetadata("nope")).Code);
        Assert.Equal(ErrorCode.NotFound, Assert.Throws<InferenceException>(() => repository.GetMetadata("add_sub", "7")).Code);
    }

    [Fact]
    public async Task Unknown_models_and_versions_are_not_found()
    {
        _folder.Add("add_sub", AddSubConfig, [1]);
        var repository = await StartAsync();
        Assert.Equal(ErrorCode.NotFound, Infer(repository, 1, model: "nope").Error);
        var answer = Infer(repository, 2, version: "9");
        Assert.Equal(ErrorCode.NotFound, answer.Error);
        Assert.Contains("unknown version 9 of model 'add_sub'", answer.Message);
    }

    [Fact]
    public async Task A_traffic_split_is_honoured_within_a_few_percent()
    {
        _folder.Add("add_sub", """{ "max_batch_size": 32, "dynamic_batching": {}, "version_policy": { "all": {} }, "traffic_split": { "1": 90, "2": 10 } }""", [1, 2]);
        var repository = await StartAsync();
        var completion = new CollectingCompletion();
        const int Requests = 10_000;
        for (ulong id = 0; id < Requests; id++)
            repository.Router.Submit(TestRequests.AddSub(id, completion, seed: 1));
        completion.WaitForCount(Requests);
        var second = completion.Answers.Values.Count(a => a.Version == "2");
        Assert.All(completion.Answers.Values, a => Assert.Equal(ErrorCode.Ok, a.Error));
        Assert.InRange(second, Requests * 8 / 100, Requests * 12 / 100);
        var statistics = repository.GetStatistics("add_sub");
        Assert.Equal(Requests, statistics.Sum(s => s.SuccessCount));
        Assert.Equal(second, statistics.Single(s => s.Version == "2").SuccessCount);
    }

    [Fact]
    public async Task A_routing_key_keeps_reaching_the_same_version()
    {
        _folder.Add("add_sub", """{ "max_batch_size": 32, "dynamic_batching": {}, "version_policy": { "all": {} }, "traffic_split": { "1": 50, "2": 50 } }""", [1, 2]);
        var repository = await StartAsync();
        var versions = new Dictionary<string, HashSet<string>>();
        ulong id = 0;
        for (var user = 0; user < 200; user++)
        {
            var key = $"user-{user}";
            versions[key] = [];
            for (var i = 0; i < 5; i++)
                versions[key].Add(Infer(repository, id++, key: key).Version);
        }
        Assert.All(versions.Values, seen => Assert.Single(seen));
        var onSecond = versions.Values.Count(seen => seen.Single() == "2");
        Assert.InRange(onSecond, 60, 140); // the hash spreads keys over both versions
        Assert.Equal(ModelRoute.StableHash("user-1"), ModelRoute.StableHash("user-1"));
    }

    [Fact]
    public async Task A_request_may_name_its_version()
    {
        _folder.Add("add_sub", """{ "max_batch_size": 32, "dynamic_batching": {}, "version_policy": { "specific": { "versions": [1, 3] } } }""", [1, 2, 3]);
        var repository = await StartAsync();
        Assert.Equal("1", Infer(repository, 1, version: "1").Version);
        Assert.Equal("3", Infer(repository, 2, version: "3").Version);
        Assert.Equal("3", Infer(repository, 3).Version);
        Assert.Equal(ErrorCode.NotFound, Infer(repository, 4, version: "2").Error);
        Assert.Equal(["3", "1"], repository.GetMetadata("add_sub").Versions);
    }

    [Fact]
    public async Task A_reload_under_load_loses_no_request_and_frees_the_old_version()
    {
        _folder.Add("add_sub", AddSubConfig, [1]);
        var repository = await StartAsync();
        var completion = new CollectingCompletion();
        using var stop = new CancellationTokenSource();
        var submitted = 0;
        var producers = Enumerable.Range(0, 2).Select(p => Task.Run(() =>
        {
            while (!stop.IsCancellationRequested)
            {
                var id = (ulong)Interlocked.Increment(ref submitted);
                repository.Router.Submit(TestRequests.AddSub(id, completion, seed: 1));
                while ((long)id - completion.Count > 256 && !stop.IsCancellationRequested)
                    Thread.Yield();
            }
        })).ToArray();
        while (Volatile.Read(ref submitted) < 2000)
            await Task.Delay(1);
        await repository.LoadAsync("add_sub");
        await repository.LoadAsync("add_sub");
        var atReload = Volatile.Read(ref submitted);
        while (Volatile.Read(ref submitted) < atReload + 2000)
            await Task.Delay(1);
        await stop.CancelAsync();
        await Task.WhenAll(producers);
        completion.WaitForCount(submitted);
        Assert.Equal(0, completion.Duplicates);
        Assert.All(completion.Answers.Values, a => Assert.Equal(ErrorCode.Ok, a.Error));
        var backends = _backends.Loaded.Select(l => l.Backend).ToArray();
        Assert.Equal(3, backends.Length);
        Assert.True(backends[0].Disposed && backends[1].Disposed && !backends[2].Disposed);
        Assert.Equal(1, backends[0].RunnersDisposed);
        Assert.Equal([new ModelIndexEntry("add_sub", "1", ModelState.Ready, "")], repository.GetIndex());
    }

    [Fact]
    public async Task Unloading_under_load_answers_every_request_once()
    {
        _folder.Add("add_sub", AddSubConfig, [1]);
        var repository = await StartAsync();
        var backend = _backends.Loaded.Single().Backend;
        var completion = new CollectingCompletion();
        backend.Gate.Reset();
        for (ulong id = 0; id < 100; id++)
            repository.Router.Submit(TestRequests.AddSub(id, completion));
        var unloaded = repository.UnloadAsync("add_sub");
        for (ulong id = 100; id < 110; id++)
            repository.Router.Submit(TestRequests.AddSub(id, completion));
        backend.Gate.Set();
        await unloaded;
        completion.WaitForCount(110);
        Assert.Equal(0, completion.Duplicates);
        Assert.All(Enumerable.Range(0, 100), id => Assert.Equal(ErrorCode.Ok, completion.Answers[(ulong)id].Error));
        Assert.All(Enumerable.Range(100, 10), id => Assert.Equal(ErrorCode.Unavailable, completion.Answers[(ulong)id].Error));
        Assert.True(backend.Disposed);
        Assert.False(repository.IsModelReady("add_sub"));
        Assert.Equal([new ModelIndexEntry("add_sub", "1", ModelState.Unavailable, "unloaded")], repository.GetIndex());
        Assert.True(repository.IsReady); // an unloaded model is no longer required
        await repository.LoadAsync("add_sub");
        Assert.Equal(ErrorCode.Ok, Infer(repository, 500).Error);
    }

    [Fact]
    public async Task A_bad_config_leaves_the_model_unavailable_with_the_reason_and_the_server_not_ready()
    {
        _folder.Add("add_sub", AddSubConfig, [1]);
        _folder.Add("broken", """{ "max_batch_size": 8, "dynamic_batching": { "max_queue_delay": 5 } }""", [1]);
        var repository = await StartAsync();
        var entry = repository.GetIndex().Single(e => e.Name == "broken");
        Assert.Equal(ModelState.Unavailable, entry.State);
        Assert.Null(entry.Version);
        Assert.Contains("broken/config.json: dynamic_batching.max_queue_delay: unknown field", entry.Reason);
        Assert.False(repository.IsReady);
        var answer = Infer(repository, 1, model: "broken");
        Assert.Equal(ErrorCode.Unavailable, answer.Error);
        Assert.Contains("unknown field", answer.Message);
        var error = await Assert.ThrowsAsync<InferenceException>(() => repository.LoadAsync("broken"));
        Assert.Equal(ErrorCode.InvalidArgument, error.Code);
        Assert.True(repository.IsModelReady("add_sub"));
    }

    [Fact]
    public async Task A_failed_reload_keeps_the_old_version_serving()
    {
        _folder.Add("add_sub", AddSubConfig, [1]);
        var repository = await StartAsync();
        File.WriteAllText(Path.Combine(_folder.Path, "add_sub", "config.json"), """{ "max_batch_size": "x" }""");
        await Assert.ThrowsAsync<InferenceException>(() => repository.LoadAsync("add_sub"));
        Assert.Equal(ErrorCode.Ok, Infer(repository, 1).Error);
    }

    [Fact]
    public async Task A_load_request_may_bring_its_own_config()
    {
        _folder.Add("add_sub", AddSubConfig, [1]);
        var repository = await StartAsync();
        await repository.LoadAsync("add_sub", """{ "max_batch_size": 4, "dynamic_batching": {} }""");
        Assert.Equal(4, repository.GetMaxBatchSize("add_sub"));
        var error = await Assert.ThrowsAsync<InferenceException>(() => repository.LoadAsync("add_sub", """{ "max_batch_size": 4, "bogus": 1 }"""));
        Assert.Contains("load request for model 'add_sub' (config parameter): bogus: unknown field", error.Message);
        await Assert.ThrowsAsync<InferenceException>(() => repository.LoadAsync("../etc"));
    }

    [Fact]
    public async Task A_config_whose_traffic_split_names_an_unloaded_version_fails_naming_the_field()
    {
        _folder.Add("add_sub", """{ "max_batch_size": 8, "traffic_split": { "1": 50, "2": 50 } }""", [1, 2]);
        var repository = await StartAsync();
        var reason = repository.GetIndex().Single().Reason;
        Assert.EndsWith("config.json: traffic_split.1: version 1 is not loaded by the version policy (loaded: 2)", reason);
    }

    [Fact]
    public async Task Polling_loads_new_versions_and_new_models_and_unloads_removed_ones()
    {
        _folder.Add("add_sub", """{ "max_batch_size": 8, "version_policy": { "latest": { "num_versions": 2 } } }""", [1]);
        var repository = await StartAsync();
        _folder.AddVersion("add_sub", 2);
        _folder.Add("other", AddSubConfig, [1]);
        await repository.PollAsync();
        Assert.Equal(["2", "1"], repository.GetMetadata("add_sub").Versions);
        Assert.True(repository.IsModelReady("other"));
        Directory.Delete(Path.Combine(_folder.Path, "other"), recursive: true);
        await repository.PollAsync();
        Assert.False(repository.IsModelReady("other"));
        Assert.True(repository.IsReady);
    }

    [Fact]
    public async Task Shutdown_answers_everything_queued()
    {
        _folder.Add("add_sub", AddSubConfig, [1]);
        var repository = await StartAsync();
        var backend = _backends.Loaded.Single().Backend;
        var completion = new CollectingCompletion();
        backend.Gate.Reset();
        for (ulong id = 0; id < 50; id++)
            repository.Router.Submit(TestRequests.AddSub(id, completion));
        Assert.True(backend.RunStarted.Wait(10_000));
        using var expired = new CancellationTokenSource();
        await expired.CancelAsync();
        var stopped = repository.StopAsync(expired.Token);
        backend.Gate.Set();
        await stopped;
        completion.WaitForCount(50);
        Assert.Equal(0, completion.Duplicates);
        Assert.Contains(completion.Answers.Values, a => a.Error == ErrorCode.Ok);
        Assert.All(completion.Answers.Values, a => Assert.True(a.Error is ErrorCode.Ok or ErrorCode.Unavailable));
        Assert.False(repository.IsReady);
        await repository.DisposeAsync(); // the host's container may dispose it once per registered service
        await repository.DisposeAsync();
    }
}
