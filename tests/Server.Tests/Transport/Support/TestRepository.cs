using HighPerfInference.Protocol;
using HighPerfInference.Server.Models;
using HighPerfInference.Server.Scheduling;
using HighPerfInference.Server.Tests.Scheduling;

namespace HighPerfInference.Server.Tests.Transport.Support;

/// <summary>
/// The real scheduler (one <see cref="DynamicBatcher"/> per model) over the in-memory fake models,
/// behind the <see cref="IModelRepository"/> the transport talks to: add_sub and identity_fp32,
/// version "1". The fakes' gates let a test hold runs to keep requests queued.
/// </summary>
internal sealed class TestRepository : IModelRepository, IInferenceScheduler, IDisposable
{
    private readonly Dictionary<string, (DynamicBatcher Batcher, FakeBackend Backend)> _models = [];
    private int _submitted;

    public TestRepository(SchedulerOptions? options = null)
    {
        options ??= new SchedulerOptions();
        Add("add_sub", FakeBackend.AddSub(), options);
        Add("identity_fp32", FakeBackend.Identity(), options);
    }

    /// <summary>Requests submitted so far.</summary>
    public int Submitted => Volatile.Read(ref _submitted);

    public FakeBackend Backend(string model) => _models[model].Backend;

    public ModelStatistics Statistics(string model) => _models[model].Batcher.GetStatistics();

    private void Add(string name, FakeBackend backend, SchedulerOptions options)
    {
        var batcher = new DynamicBatcher(name, "1", backend, options);
        batcher.Start();
        _models[name] = (batcher, backend);
    }

    public void Submit(InferenceRequest request)
    {
        Interlocked.Increment(ref _submitted);
        if (!_models.TryGetValue(request.ModelName, out var model) || request.ModelVersion is not (null or "1"))
            request.Completion!.Complete(request, InferenceResponse.Failure(ErrorCode.NotFound, $"unknown model '{request.ModelName}'"));
        else if (!model.Batcher.TrySubmit(request))
            request.Completion!.Complete(request, InferenceResponse.Failure(ErrorCode.Unavailable, "the model is unloading"));
    }

    public RoutedModel Route(InferenceRequest request) =>
        _models.TryGetValue(request.ModelName, out var model) && request.ModelVersion is null or "1"
            ? new RoutedModel("1", model.Batcher.Signature)
            : throw new InferenceException(ErrorCode.NotFound, $"unknown model '{request.ModelName}'");

    public void Cancel(InferenceRequest request)
    {
        if (_models.TryGetValue(request.ModelName, out var model))
            model.Batcher.Cancel(request);
    }

    public bool IsReady => true;

    public bool IsModelReady(string name, string? version = null) => _models.ContainsKey(name) && version is null or "1";

    public ModelMetadata GetMetadata(string name, string? version = null)
    {
        if (!IsModelReady(name, version))
            throw new InferenceException(ErrorCode.NotFound, $"unknown model '{name}'");
        var signature = _models[name].Backend.Signature;
        return new ModelMetadata(name, ["1"], "fake", Tensors(signature.Inputs), Tensors(signature.Outputs));
    }

    private static TensorMetadata[] Tensors(IReadOnlyList<TensorSpec> specs)
    {
        var tensors = new TensorMetadata[specs.Count];
        for (var i = 0; i < tensors.Length; i++)
            tensors[i] = new TensorMetadata(specs[i].Name, specs[i].DataType, specs[i].Shape);
        return tensors;
    }

    public int GetMaxBatchSize(string name, string? version = null) => _models[name].Backend.Signature.MaxBatchSize;

    public IReadOnlyList<ModelIndexEntry> GetIndex(bool readyOnly = false) => throw new NotSupportedException();
    public string GetConfigJson(string name, string? version = null) => throw new NotSupportedException();
    public Task LoadAsync(string name, string? configJson = null, CancellationToken cancellationToken = default) => throw new NotSupportedException();
    public Task UnloadAsync(string name, CancellationToken cancellationToken = default) => throw new NotSupportedException();
    public IReadOnlyList<ModelStatistics> GetStatistics(string? name = null, string? version = null) => throw new NotSupportedException();

    public void Dispose()
    {
        foreach (var (batcher, backend) in _models.Values)
        {
            backend.Gate.Set();
            batcher.Dispose();
        }
    }
}
