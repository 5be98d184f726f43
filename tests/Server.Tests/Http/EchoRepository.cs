using System.Collections.Concurrent;
using System.Runtime.InteropServices;
using HighPerfInference.Protocol;
using HighPerfInference.Server.Models;
using HighPerfInference.Server.Scheduling;
using Microsoft.Extensions.DependencyInjection;

namespace HighPerfInference.Server.Tests.Http;

/// <summary>
/// A stand-in repository for the HTTP layer's own tests, put in place of the real one through
/// Program.Build's configure hook. Model "echo" has an input IN_&lt;T&gt; and an output OUT_&lt;T&gt; for
/// every datatype (BYTES included) and answers each input as its output, from another thread as a
/// model instance would. Requests can instead be refused with a chosen error, or held until cancelled.
/// </summary>
internal sealed class EchoRepository : IModelRepository, IInferenceScheduler
{
    public const string Model = "echo";

    private static readonly DataType[] s_types =
        [DataType.Bool, DataType.UInt8, DataType.UInt16, DataType.UInt32, DataType.UInt64, DataType.Int8, DataType.Int16,
         DataType.Int32, DataType.Int64, DataType.Fp16, DataType.Bf16, DataType.Fp32, DataType.Fp64, DataType.Bytes];

    private static readonly ModelMetadata s_metadata = new(
        Model, ["1"], "echo",
        [.. s_types.Select(t => new TensorMetadata("IN_" + t.WireName(), t, [-1, -1]))],
        [.. s_types.Select(t => new TensorMetadata("OUT_" + t.WireName(), t, [-1, -1]))]);

    private static readonly ModelSignature s_signature = new(
        [.. s_types.Select(t => new TensorSpec("IN_" + t.WireName(), t, [-1, -1]))],
        [.. s_types.Select(t => new TensorSpec("OUT_" + t.WireName(), t, [-1, -1]))], maxBatchSize: 8);

    /// <summary>Registers the stand-in as both the repository and the scheduler the front doors talk to.</summary>
    public void AddTo(IServiceCollection services)
    {
        services.AddSingleton<IModelRepository>(this);
        services.AddSingleton<IInferenceScheduler>(this);
    }

    /// <summary>When set, every request is answered with this error instead.</summary>
    public (ErrorCode Code, string Message)? Refuse { get; set; }

    /// <summary>When true, requests wait here until <see cref="Cancel"/> or <see cref="ReleaseHeld"/>.</summary>
    public bool Hold { get; set; }

    public ConcurrentQueue<InferenceRequest> Held { get; } = new();

    public TaskCompletionSource<InferenceRequest> FirstHeld { get; private set; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public TaskCompletionSource<InferenceRequest> FirstCancelled { get; private set; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public void ResetSignals()
    {
        FirstHeld = new(TaskCreationOptions.RunContinuationsAsynchronously);
        FirstCancelled = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }

    public void Submit(InferenceRequest request)
    {
        if (request.ModelName != Model)
        {
            request.Completion!.Complete(request, InferenceResponse.Failure(ErrorCode.NotFound, $"unknown model '{request.ModelName}'"));
            return;
        }
        if (Refuse is { } refusal)
        {
            request.Completion!.Complete(request, InferenceResponse.Failure(refusal.Code, refusal.Message));
            return;
        }
        if (Hold)
        {
            Held.Enqueue(request);
            FirstHeld.TrySetResult(request);
            return;
        }

        // Copy the inputs now (they live only during Submit) and answer from the thread pool.
        var outputs = new List<(string Name, DataType Type, long[] Shape, byte[] Data)>();
        for (var i = 0; i < request.InputCount; i++)
        {
            ref var input = ref request.Input(i);
            var name = "OUT_" + input.Name["IN_".Length..];
            if (request.RequestedOutputs.Count == 0 || request.RequestedOutputs.Contains(name))
                outputs.Add((name, input.DataType, [.. input.Shape], System.Buffers.BuffersExtensions.ToArray(input.Data)));
        }
        foreach (var requested in request.RequestedOutputs)
        {
            if (!outputs.Any(o => o.Name == requested))
            {
                request.Completion!.Complete(request, InferenceResponse.Failure(ErrorCode.NotFound, $"model 'echo' has no output '{requested}'"));
                return;
            }
        }
        ThreadPool.QueueUserWorkItem(_ => Answer(request, outputs), null);
    }

    private static unsafe void Answer(InferenceRequest request, List<(string Name, DataType Type, long[] Shape, byte[] Data)> outputs)
    {
        var handles = outputs.Select(o => GCHandle.Alloc(o.Data, GCHandleType.Pinned)).ToArray();
        try
        {
            var views = new ResponseOutput[outputs.Count];
            for (var i = 0; i < views.Length; i++)
                views[i] = new ResponseOutput(outputs[i].Name, outputs[i].Type, outputs[i].Shape, (byte*)handles[i].AddrOfPinnedObject(), outputs[i].Data.Length);
            request.Completion!.Complete(request, new InferenceResponse(Model, "1", views, 0, 0));
        }
        finally
        {
            foreach (var handle in handles)
                handle.Free();
        }
    }

    public RoutedModel Route(InferenceRequest request) =>
        request.ModelName == Model ? new RoutedModel("1", s_signature) : throw new InferenceException(ErrorCode.NotFound, $"unknown model '{request.ModelName}'");

    public void Cancel(InferenceRequest request)
    {
        FirstCancelled.TrySetResult(request);
        request.Completion!.Complete(request, InferenceResponse.Failure(ErrorCode.Cancelled, "cancelled"));
    }

    /// <summary>Answers every held request with an empty success.</summary>
    public void ReleaseHeld()
    {
        while (Held.TryDequeue(out var request))
            request.Completion!.Complete(request, new InferenceResponse(Model, "1", [], 0, 0));
    }

    public bool IsReady => true;

    public bool IsModelReady(string name, string? version = null) => name == Model;

    public IReadOnlyList<ModelIndexEntry> GetIndex(bool readyOnly = false) => [new ModelIndexEntry(Model, "1", ModelState.Ready, "")];

    public ModelMetadata GetMetadata(string name, string? version = null) =>
        name == Model ? s_metadata : throw new InferenceException(ErrorCode.NotFound, $"unknown model '{name}'");

    public int GetMaxBatchSize(string name, string? version = null) => 8;

    public string GetConfigJson(string name, string? version = null) => "{}";

    public Task LoadAsync(string name, string? configJson = null, CancellationToken cancellationToken = default) => Task.CompletedTask;

    public Task UnloadAsync(string name, CancellationToken cancellationToken = default) => Task.CompletedTask;

    public IReadOnlyList<ModelStatistics> GetStatistics(string? name = null, string? version = null) => [];
}
