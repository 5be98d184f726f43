using System.Buffers;
using System.Collections.Concurrent;
using System.Runtime.InteropServices;
using HighPerfInference.Protocol;
using HighPerfInference.Server.Models;
using HighPerfInference.Server.Scheduling;

namespace HighPerfInference.Server.Tests.Models;

/// <summary>
/// Drives a repository the way a front door does: pooled requests over shared input bytes, a bounded
/// number in flight, a share of them cancelled right after Submit or given a deadline they cannot
/// meet, and a reload of the model half way. It counts the answers of every request id, so a lost
/// or doubled answer shows up as a count other than one.
/// </summary>
internal sealed class ChaosHarness : IInferenceCompletion
{
    private readonly IInferenceScheduler _scheduler;
    private readonly string _model;
    private readonly int[] _answers;
    private readonly long[] _codes = new long[16];
    private readonly ConcurrentQueue<Slot> _free = new();
    private readonly ReadOnlySequence<byte> _row;
    private long _wrongResults;

    public ChaosHarness(IInferenceScheduler scheduler, string model, int requests, int inFlight)
    {
        _scheduler = scheduler;
        _model = model;
        _answers = new int[requests];
        for (var i = 0; i < inFlight; i++)
            _free.Enqueue(new Slot());
        var row = new float[16];
        for (var i = 0; i < row.Length; i++)
            row[i] = i;
        _row = new ReadOnlySequence<byte>(MemoryMarshal.AsBytes(row.AsSpan()).ToArray());
    }

    public int Requests => _answers.Length;
    public long Count(ErrorCode code) => Interlocked.Read(ref _codes[(int)code]);
    public long WrongResults => Interlocked.Read(ref _wrongResults);

    /// <summary>Submits every request from <paramref name="producers"/> threads; <paramref name="reload"/> runs once half are submitted.</summary>
    public async Task RunAsync(int producers, double cancelShare, double timeoutShare, Func<Task> reload)
    {
        var next = -1;
        var half = new TaskCompletionSource();
        var reloading = half.Task.ContinueWith(_ => reload(), TaskScheduler.Default).Unwrap();
        var threads = new Thread[producers];
        for (var p = 0; p < producers; p++)
        {
            var random = new Random(p);
            threads[p] = new Thread(() =>
            {
                int id;
                while ((id = Interlocked.Increment(ref next)) < _answers.Length)
                {
                    if (id == _answers.Length / 2)
                        half.SetResult();
                    Submit(id, random, cancelShare, timeoutShare);
                }
            });
            threads[p].Start();
        }
        foreach (var thread in threads)
            thread.Join();
        await reloading;
        var spin = new SpinWait();
        var deadline = Environment.TickCount64 + 120_000;
        while (Answered() < _answers.Length && Environment.TickCount64 < deadline)
            spin.SpinOnce(sleep1Threshold: 10);
    }

    /// <summary>Ids answered other than exactly once.</summary>
    public List<(int Id, int Answers)> Anomalies()
    {
        var anomalies = new List<(int, int)>();
        for (var id = 0; id < _answers.Length; id++)
        {
            if (Volatile.Read(ref _answers[id]) != 1)
                anomalies.Add((id, _answers[id]));
        }
        return anomalies;
    }

    private long Answered()
    {
        long total = 0;
        for (var code = 0; code < _codes.Length; code++)
            total += Interlocked.Read(ref _codes[code]);
        return total;
    }

    private void Submit(int id, Random random, double cancelShare, double timeoutShare)
    {
        Slot? slot;
        var spin = new SpinWait();
        while (!_free.TryDequeue(out slot))
            spin.SpinOnce(sleep1Threshold: -1);
        var request = slot.Request;
        request.Reset();
        request.Id = (ulong)id;
        request.ModelName = _model;
        request.Completion = this;
        request.State = slot;
        if (random.NextDouble() < timeoutShare)
            request.Timeout = TimeSpan.FromTicks(1);
        for (var i = 0; i < 2; i++)
        {
            ref var input = ref request.AddInput();
            input.Name = i == 0 ? "INPUT0" : "INPUT1";
            input.DataType = DataType.Fp32;
            input.Shape = slot.Shape;
            input.Data = _row;
        }
        // The front door's side of the hand-over: the slot goes back to the pool only when both the
        // producer (after Submit and maybe Cancel) and the completion are done with it.
        Volatile.Write(ref slot.Owners, 2);
        _scheduler.Submit(request);
        if (random.NextDouble() < cancelShare)
            _scheduler.Cancel(request);
        Release(slot);
    }

    public void Complete(InferenceRequest request, in InferenceResponse response)
    {
        var slot = (Slot)request.State!;
        Interlocked.Increment(ref _answers[(int)request.Id]);
        if (response.IsSuccess)
        {
            var sum = MemoryMarshal.Cast<byte, float>(response.Outputs[0].Data);
            if (response.Outputs.Length != 2 || sum.Length != 16 || sum[5] != 10f || MemoryMarshal.Cast<byte, float>(response.Outputs[1].Data)[5] != 0f)
                Interlocked.Increment(ref _wrongResults);
        }
        Interlocked.Increment(ref _codes[(int)response.Error]);
        Release(slot);
    }

    private void Release(Slot slot)
    {
        if (Interlocked.Decrement(ref slot.Owners) == 0)
            _free.Enqueue(slot);
    }

    private sealed class Slot
    {
        public readonly InferenceRequest Request = new();
        public readonly long[] Shape = [1, 16];
        public int Owners;
    }
}
