using System.Buffers;
using System.Collections.Concurrent;
using System.Runtime.InteropServices;
using HighPerfInference.Protocol;
using HighPerfInference.Server.Scheduling;

namespace HighPerfInference.Server.Tests.Scheduling;

/// <summary>An answer as a test sees it: error or the outputs copied out during Complete.</summary>
internal sealed record Answer(ulong Id, ErrorCode Error, string? Message, string Version, Dictionary<string, (long[] Shape, float[] Data)> Outputs)
{
    /// <summary>Each output's bytes as they were handed over.</summary>
    public Dictionary<string, byte[]> Raw { get; } = [];
}

/// <summary>Records every answer by request id; counts duplicates; lets a test wait for N answers.</summary>
internal sealed class CollectingCompletion : IInferenceCompletion
{
    private readonly ConcurrentDictionary<ulong, TaskCompletionSource<Answer>> _waiters = new();
    private int _count;

    public ConcurrentDictionary<ulong, Answer> Answers { get; } = new();
    public int Duplicates;

    public int Count => Volatile.Read(ref _count);

    public void Complete(InferenceRequest request, in InferenceResponse response)
    {
        var outputs = new Dictionary<string, (long[], float[])>();
        foreach (var output in response.Outputs)
            outputs[output.Name] = ((long[])output.Shape.Clone(), MemoryMarshal.Cast<byte, float>(output.Data).ToArray());
        var answer = new Answer(request.Id, response.Error, response.ErrorMessage, response.ModelVersion, outputs);
        foreach (var output in response.Outputs)
            answer.Raw[output.Name] = output.Data.ToArray();
        if (!Answers.TryAdd(request.Id, answer))
            Interlocked.Increment(ref Duplicates);
        Interlocked.Increment(ref _count);
        Waiter(request.Id).TrySetResult(answer);
    }

    /// <summary>Completes with the answer of <paramref name="id"/>, for callers that keep one request in flight.</summary>
    public Task<Answer> WaitAsync(ulong id) => Waiter(id).Task;

    private TaskCompletionSource<Answer> Waiter(ulong id) =>
        _waiters.GetOrAdd(id, static _ => new TaskCompletionSource<Answer>(TaskCreationOptions.RunContinuationsAsynchronously));

    public Answer Wait(ulong id, int timeoutMs = 30_000)
    {
        var spin = new SpinWait();
        var deadline = Environment.TickCount64 + timeoutMs;
        while (!Answers.ContainsKey(id))
        {
            if (Environment.TickCount64 > deadline)
                throw new TimeoutException($"request {id} was not answered");
            spin.SpinOnce(sleep1Threshold: 20);
        }
        return Answers[id];
    }

    public void WaitForCount(int count, int timeoutMs = 60_000)
    {
        var spin = new SpinWait();
        var deadline = Environment.TickCount64 + timeoutMs;
        while (Count < count)
        {
            if (Environment.TickCount64 > deadline)
                throw new TimeoutException($"{Count} of {count} requests answered");
            spin.SpinOnce(sleep1Threshold: 20);
        }
    }
}

internal static class TestRequests
{
    public static InferenceRequest Create(ulong id, string model, IInferenceCompletion completion, params (string Name, long[] Shape, float[] Data)[] inputs)
    {
        var request = new InferenceRequest { Id = id, ModelName = model, Completion = completion };
        foreach (var (name, shape, data) in inputs)
        {
            ref var input = ref request.AddInput();
            input.Name = name;
            input.DataType = DataType.Fp32;
            input.Shape = shape;
            input.Data = new ReadOnlySequence<byte>(MemoryMarshal.AsBytes(data.AsSpan()).ToArray());
        }
        return request;
    }

    /// <summary>An add_sub request of <paramref name="rows"/> rows; INPUT0's first value of each row is <paramref name="tag"/>.</summary>
    public static InferenceRequest AddSub(ulong id, IInferenceCompletion completion, int rows = 1, float tag = 0, int seed = 0)
    {
        var random = new Random(seed == 0 ? (int)id : seed);
        var a = new float[rows * 16];
        var b = new float[rows * 16];
        for (var i = 0; i < a.Length; i++)
        {
            a[i] = random.Next(-1000, 1000) / 8f;
            b[i] = random.Next(-1000, 1000) / 8f;
        }
        for (var r = 0; r < rows; r++)
            a[r * 16] = tag;
        return Create(id, "add_sub", completion, ("INPUT0", [rows, 16], a), ("INPUT1", [rows, 16], b));
    }

    public static float[] Floats(InferenceRequest request, int input)
    {
        ref var value = ref request.Input(input);
        return MemoryMarshal.Cast<byte, float>(value.Data.ToArray().AsSpan()).ToArray();
    }

    /// <summary>Checks an add_sub answer against its request's inputs.</summary>
    public static void AssertAddSub(InferenceRequest request, Answer answer)
    {
        Assert.Equal(ErrorCode.Ok, answer.Error);
        var a = Floats(request, 0);
        var b = Floats(request, 1);
        var (sumShape, sum) = answer.Outputs["OUTPUT0"];
        var (differenceShape, difference) = answer.Outputs["OUTPUT1"];
        Assert.Equal(request.Input(0).Shape, sumShape);
        Assert.Equal(request.Input(0).Shape, differenceShape);
        for (var i = 0; i < a.Length; i++)
        {
            Assert.Equal(a[i] + b[i], sum[i]);
            Assert.Equal(a[i] - b[i], difference[i]);
        }
    }
}
