using HighPerfInference.Protocol;
using HighPerfInference.Server.Scheduling;

namespace HighPerfInference.Server.Tests.Scheduling;

public sealed class DynamicBatcherTests
{
    private static DynamicBatcher Start(FakeBackend backend, SchedulerOptions? options = null, string version = "1")
    {
        var batcher = new DynamicBatcher(backend.Signature.Inputs.Count == 2 ? "add_sub" : "model", version, backend, options ?? new SchedulerOptions());
        batcher.Start();
        return batcher;
    }

    private static void Submit(DynamicBatcher batcher, InferenceRequest request) => Assert.True(batcher.TrySubmit(request));

    [Fact]
    public async Task Batched_outputs_equal_per_request_outputs_from_256_concurrent_callers()
    {
        var backend = FakeBackend.AddSub(maxBatchSize: 32);
        var observer = new CountingObserver();
        using var batcher = Start(backend, new SchedulerOptions { InstanceCount = 2, DurationObserver = observer });
        var completion = new CollectingCompletion();
        const int Callers = 256, PerCaller = 16;
        var requests = new InferenceRequest[Callers * PerCaller];
        await Task.WhenAll(Enumerable.Range(0, Callers).Select(caller => Task.Run(async () =>
        {
            for (var i = 0; i < PerCaller; i++)
            {
                var id = (ulong)(caller * PerCaller + i);
                var request = requests[id] = TestRequests.AddSub(id, completion, rows: 1 + (int)(id % 4));
                Submit(batcher, request);
                await completion.WaitAsync(id);
            }
        })));
        Assert.Equal(0, completion.Duplicates);
        foreach (var request in requests)
            TestRequests.AssertAddSub(request, completion.Answers[request.Id]);
        Assert.Equal(requests.Sum(r => r.Input(0).Shape[0]), backend.BatchSizes.Sum());
        var statistics = batcher.GetStatistics();
        Assert.Equal(requests.Length, statistics.SuccessCount);
        Assert.Equal(backend.BatchSizes.Count, statistics.ExecutionCount);
        Assert.Equal(backend.BatchSizes.Sum(), statistics.InferenceCount);
        Assert.Equal(0, statistics.PendingCount);
        // The observer (the server's histograms) sees each request and each run once, with the durations the statistics add up.
        Assert.Equal(statistics.SuccessCount, observer.Requests);
        Assert.Equal(statistics.SuccessNs, (long)(observer.RequestTicks * (1e9 / System.Diagnostics.Stopwatch.Frequency)));
        Assert.Equal(statistics.ExecutionCount, observer.Batches);
        Assert.Equal(statistics.ComputeInferNs, (long)(observer.BatchTicks * (1e9 / System.Diagnostics.Stopwatch.Frequency)));
    }

    [Fact]
    public void A_completion_that_throws_is_logged_and_the_rest_of_its_batch_is_answered()
    {
        var backend = FakeBackend.AddSub(maxBatchSize: 8);
        var log = new ListLogger();
        using var batcher = Start(backend, new SchedulerOptions { Logger = log });
        var completion = new CollectingCompletion();
        backend.Gate.Reset();
        Submit(batcher, TestRequests.AddSub(0, completion));
        Assert.True(backend.RunStarted.Wait(10_000));
        // While the instance is busy, three requests queue into one batch; the middle one's front door throws.
        var first = TestRequests.AddSub(1, completion);
        var last = TestRequests.AddSub(3, completion);
        Submit(batcher, first);
        Submit(batcher, TestRequests.AddSub(2, new ThrowingCompletion()));
        Submit(batcher, last);
        backend.Gate.Set();

        TestRequests.AssertAddSub(first, completion.Wait(1));
        TestRequests.AssertAddSub(last, completion.Wait(3));
        var entry = Assert.Single(log.Entries);
        Assert.Equal(Microsoft.Extensions.Logging.LogLevel.Error, entry.Level);
        Assert.Contains("request 2", entry.Message, StringComparison.Ordinal);
        Assert.IsType<InvalidOperationException>(entry.Exception);
    }

    private sealed class ThrowingCompletion : IInferenceCompletion
    {
        public void Complete(InferenceRequest request, in InferenceResponse response) => throw new InvalidOperationException("the front door failed");
    }

    private sealed class ListLogger : Microsoft.Extensions.Logging.ILogger
    {
        private readonly List<(Microsoft.Extensions.Logging.LogLevel Level, string Message, Exception? Exception)> _entries = [];

        public (Microsoft.Extensions.Logging.LogLevel Level, string Message, Exception? Exception)[] Entries
        {
            get
            {
                lock (_entries)
                    return [.. _entries];
            }
        }

        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(Microsoft.Extensions.Logging.LogLevel logLevel) => true;

        public void Log<TState>(Microsoft.Extensions.Logging.LogLevel logLevel, Microsoft.Extensions.Logging.EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            lock (_entries)
                _entries.Add((logLevel, formatter(state, exception), exception));
        }
    }

    private sealed class CountingObserver : IDurationObserver
    {
        public long Requests, RequestTicks, Batches, BatchTicks;

        public void RequestSucceeded(long ticks)
        {
            Interlocked.Increment(ref Requests);
            Interlocked.Add(ref RequestTicks, ticks);
        }

        public void BatchRan(long ticks)
        {
            Interlocked.Increment(ref Batches);
            Interlocked.Add(ref BatchTicks, ticks);
        }
    }

    [Fact]
    public void Requests_that_arrive_while_the_instance_is_busy_share_batches_up_to_max_batch_size()
    {
        var backend = FakeBackend.AddSub(maxBatchSize: 8);
        using var batcher = Start(backend);
        var completion = new CollectingCompletion();
        backend.Gate.Reset();
        Submit(batcher, TestRequests.AddSub(0, completion, tag: 0));
        Assert.True(backend.RunStarted.Wait(10_000));
        var requests = Enumerable.Range(1, 20).Select(i => TestRequests.AddSub((ulong)i, completion, tag: i)).ToArray();
        foreach (var request in requests)
            Submit(batcher, request);
        backend.Gate.Set();
        completion.WaitForCount(21);
        Assert.Equal([1, 8, 8, 4], backend.BatchSizes);
        foreach (var request in requests)
            TestRequests.AssertAddSub(request, completion.Answers[request.Id]);
        // Triton's batch_stats: one entry per size that ran, ascending, with its count.
        var sizes = batcher.GetStatistics().BatchSizes!;
        Assert.Equal([(1, 1L), (4, 1L), (8, 2L)], sizes.Select(size => (size.BatchSize, size.Count)));
        Assert.All(sizes, size => Assert.True(size.ComputeInferNs > 0));
    }

    [Fact]
    public async Task Requests_with_different_non_batch_shapes_never_share_a_batch()
    {
        var backend = FakeBackend.Identity(maxBatchSize: 8);
        using var batcher = Start(backend, new SchedulerOptions { InstanceCount = 2 });
        var completion = new CollectingCompletion();
        var requests = new InferenceRequest[2000];
        await Task.WhenAll(Enumerable.Range(0, 64).Select(caller => Task.Run(() =>
        {
            var random = new Random(caller);
            for (var id = caller; id < requests.Length; id += 64)
            {
                var rows = random.Next(1, 4);
                var width = random.Next(1, 6);
                var data = Enumerable.Range(0, rows * width).Select(i => id * 1000f + i).ToArray();
                var request = requests[id] = TestRequests.Create((ulong)id, "identity", completion, ("INPUT0", [rows, width], data));
                Submit(batcher, request);
            }
        })));
        completion.WaitForCount(requests.Length);
        foreach (var request in requests)
        {
            var answer = completion.Answers[request.Id];
            Assert.Equal(ErrorCode.Ok, answer.Error);
            Assert.Equal(request.Input(0).Shape, answer.Outputs["OUTPUT0"].Shape);
            Assert.Equal(TestRequests.Floats(request, 0), answer.Outputs["OUTPUT0"].Data);
        }
    }

    [Fact]
    public void A_full_queue_rejects_at_once_with_a_retryable_overloaded_error()
    {
        var backend = FakeBackend.AddSub();
        using var batcher = Start(backend, new SchedulerOptions { MaxQueueSize = 4 });
        var completion = new CollectingCompletion();
        backend.Gate.Reset();
        Submit(batcher, TestRequests.AddSub(0, completion));
        Assert.True(backend.RunStarted.Wait(10_000));
        for (ulong id = 1; id <= 4; id++)
            Submit(batcher, TestRequests.AddSub(id, completion));
        Submit(batcher, TestRequests.AddSub(5, completion));

        var rejected = completion.Wait(5);
        Assert.Equal(ErrorCode.Overloaded, rejected.Error);
        Assert.True(rejected.Error.IsRetryable());
        Assert.Contains("queue", rejected.Message);
        Assert.Equal(4, batcher.QueuedCount);
        backend.Gate.Set();
        completion.WaitForCount(6);
        Assert.All(Enumerable.Range(0, 5), id => Assert.Equal(ErrorCode.Ok, completion.Answers[(ulong)id].Error));
        Assert.Equal(1, batcher.GetStatistics().RejectedCount);
    }

    [Fact]
    public void A_request_that_expires_in_the_queue_is_answered_with_timeout_and_never_runs()
    {
        var backend = FakeBackend.AddSub();
        using var batcher = Start(backend, new SchedulerOptions { TimeoutSweepInterval = TimeSpan.FromMilliseconds(1) });
        var completion = new CollectingCompletion();
        backend.Gate.Reset();
        Submit(batcher, TestRequests.AddSub(0, completion, tag: 100));
        Assert.True(backend.RunStarted.Wait(10_000));
        var expiring = TestRequests.AddSub(1, completion, tag: 101);
        expiring.Timeout = TimeSpan.FromMilliseconds(20);
        Submit(batcher, expiring);
        Submit(batcher, TestRequests.AddSub(2, completion, tag: 102));

        Assert.Equal(ErrorCode.Timeout, completion.Wait(1).Error); // answered while the instance is still busy
        backend.Gate.Set();
        completion.WaitForCount(3);
        Assert.Equal(ErrorCode.Ok, completion.Answers[0].Error);
        Assert.Equal(ErrorCode.Ok, completion.Answers[2].Error);
        Assert.DoesNotContain(101f, backend.RowTags);
        Assert.Contains(102f, backend.RowTags);
    }

    [Fact]
    public void The_default_timeout_applies_and_a_request_timeout_does_not_override_it_when_not_allowed()
    {
        var backend = FakeBackend.AddSub();
        using var batcher = Start(backend, new SchedulerOptions
        {
            DefaultTimeout = TimeSpan.FromMilliseconds(20),
            AllowTimeoutOverride = false,
            TimeoutSweepInterval = TimeSpan.FromMilliseconds(1),
        });
        var completion = new CollectingCompletion();
        backend.Gate.Reset();
        Submit(batcher, TestRequests.AddSub(0, completion));
        Assert.True(backend.RunStarted.Wait(10_000));
        var patient = TestRequests.AddSub(1, completion, tag: 1);
        patient.Timeout = TimeSpan.FromHours(1);
        Submit(batcher, patient);
        Assert.Equal(ErrorCode.Timeout, completion.Wait(1).Error);
        backend.Gate.Set();
        completion.WaitForCount(2);
    }

    [Fact]
    public void Higher_priority_batches_run_first()
    {
        var backend = FakeBackend.AddSub(maxBatchSize: 1);
        using var batcher = Start(backend, new SchedulerOptions { PriorityLevels = 2, DefaultPriorityLevel = 2 });
        var completion = new CollectingCompletion();
        backend.Gate.Reset();
        Submit(batcher, TestRequests.AddSub(0, completion, tag: 0));
        Assert.True(backend.RunStarted.Wait(10_000));
        Submit(batcher, TestRequests.AddSub(1, completion, tag: 1));
        Submit(batcher, TestRequests.AddSub(2, completion, tag: 2));
        var urgent = TestRequests.AddSub(3, completion, tag: 3);
        urgent.Priority = 1;
        var urgent2 = TestRequests.AddSub(4, completion, tag: 4);
        urgent2.Priority = 1;
        Submit(batcher, urgent);
        Submit(batcher, urgent2);
        backend.Gate.Set();
        completion.WaitForCount(5);
        Assert.Equal([0f, 3f, 4f, 1f, 2f], backend.RowTags);
    }

    [Fact]
    public void Cancelling_a_queued_request_answers_it_at_once_and_it_never_runs()
    {
        var backend = FakeBackend.AddSub();
        using var batcher = Start(backend);
        var completion = new CollectingCompletion();
        backend.Gate.Reset();
        Submit(batcher, TestRequests.AddSub(0, completion, tag: 0));
        Assert.True(backend.RunStarted.Wait(10_000));
        var queued = TestRequests.AddSub(1, completion, tag: 1);
        Submit(batcher, queued);
        Submit(batcher, TestRequests.AddSub(2, completion, tag: 2));
        batcher.Cancel(queued);
        Assert.Equal(ErrorCode.Cancelled, completion.Wait(1).Error);
        batcher.Cancel(queued); // a second cancel changes nothing
        backend.Gate.Set();
        completion.WaitForCount(3);
        Assert.Equal(0, completion.Duplicates);
        Assert.DoesNotContain(1f, backend.RowTags);
        TestRequests.AssertAddSub(TestRequests.AddSub(2, completion, tag: 2), completion.Answers[2]);
        Assert.Equal(1, batcher.GetStatistics().CancelledCount);
    }

    [Fact]
    public void Cancelling_a_running_request_drops_its_result()
    {
        var backend = FakeBackend.AddSub();
        using var batcher = Start(backend);
        var completion = new CollectingCompletion();
        backend.Gate.Reset();
        var running = TestRequests.AddSub(0, completion);
        Submit(batcher, running);
        Assert.True(backend.RunStarted.Wait(10_000));
        batcher.Cancel(running);
        backend.Gate.Set();
        Assert.Equal(ErrorCode.Cancelled, completion.Wait(0).Error);
        Assert.Equal(0, completion.Duplicates);
    }

    [Fact]
    public async Task Draining_runs_what_was_queued_and_refuses_new_requests()
    {
        var backend = FakeBackend.AddSub(maxBatchSize: 4);
        var batcher = Start(backend);
        var completion = new CollectingCompletion();
        backend.Gate.Reset();
        for (ulong id = 0; id < 10; id++)
            Submit(batcher, TestRequests.AddSub(id, completion));
        Assert.True(backend.RunStarted.Wait(10_000));
        var drained = batcher.DrainAsync(TimeSpan.FromMinutes(1));
        Assert.False(batcher.TrySubmit(TestRequests.AddSub(99, completion)));
        backend.Gate.Set();
        await drained;
        Assert.Equal(10, completion.Count);
        Assert.All(completion.Answers.Values, answer => Assert.Equal(ErrorCode.Ok, answer.Error));
        batcher.Dispose();
        Assert.Equal(1, backend.RunnersDisposed);
    }

    [Fact]
    public async Task A_drain_past_its_grace_answers_the_queue_with_unavailable_and_lets_the_running_batch_finish()
    {
        var backend = FakeBackend.AddSub(maxBatchSize: 1);
        using var batcher = Start(backend);
        var completion = new CollectingCompletion();
        backend.Gate.Reset();
        for (ulong id = 0; id < 5; id++)
            Submit(batcher, TestRequests.AddSub(id, completion));
        Assert.True(backend.RunStarted.Wait(10_000));
        var drained = batcher.DrainAsync(TimeSpan.Zero);
        for (ulong id = 1; id < 5; id++)
            Assert.Equal(ErrorCode.Unavailable, completion.Wait(id).Error);
        backend.Gate.Set();
        await drained;
        Assert.Equal(ErrorCode.Ok, completion.Answers[0].Error);
        Assert.Equal(5, completion.Count);
    }

    [Fact]
    public void A_model_failure_answers_every_request_of_the_batch_with_model_error()
    {
        var backend = FakeBackend.AddSub();
        using var batcher = Start(backend);
        var completion = new CollectingCompletion();
        backend.FailWith = "kernel exploded";
        Submit(batcher, TestRequests.AddSub(0, completion));
        var answer = completion.Wait(0);
        Assert.Equal(ErrorCode.ModelError, answer.Error);
        Assert.Contains("kernel exploded", answer.Message);
        backend.FailWith = null;
        Submit(batcher, TestRequests.AddSub(1, completion));
        Assert.Equal(ErrorCode.Ok, completion.Wait(1).Error);
        Assert.Equal(1, batcher.GetStatistics().BackendFailureCount);
    }

    [Fact]
    public void A_model_without_a_batch_dimension_runs_one_request_at_a_time()
    {
        var backend = FakeBackend.FixedVec4();
        using var batcher = Start(backend);
        var completion = new CollectingCompletion();
        for (ulong id = 0; id < 50; id++)
            Submit(batcher, TestRequests.Create(id, "fixed_vec4", completion, ("INPUT0", [4], [id, 1, 2, 3])));
        completion.WaitForCount(50);
        Assert.All(backend.BatchSizes, size => Assert.Equal(1, size));
        for (ulong id = 0; id < 50; id++)
        {
            var answer = completion.Answers[id];
            Assert.Equal([4L], answer.Outputs["OUTPUT0"].Shape);
            Assert.Equal([2f * id, 2, 4, 6], answer.Outputs["OUTPUT0"].Data);
        }
    }

    [Fact]
    public void A_preferred_batch_size_seals_the_batch_without_waiting_for_the_queue_delay()
    {
        var backend = FakeBackend.AddSub(maxBatchSize: 32);
        using var batcher = Start(backend, new SchedulerOptions { PreferredBatchSizes = [4], MaxQueueDelay = TimeSpan.FromHours(1) });
        var completion = new CollectingCompletion();
        for (ulong id = 0; id < 4; id++)
            Submit(batcher, TestRequests.AddSub(id, completion));
        completion.WaitForCount(4);
        Assert.Equal([4], backend.BatchSizes);
    }

    [Fact]
    public void Only_the_requested_outputs_are_returned()
    {
        var backend = FakeBackend.AddSub();
        using var batcher = Start(backend);
        var completion = new CollectingCompletion();
        var request = TestRequests.AddSub(0, completion);
        request.RequestedOutputs.Add("OUTPUT1");
        Submit(batcher, request);
        Assert.Equal(["OUTPUT1"], completion.Wait(0).Outputs.Keys);
    }

    public static TheoryData<string, ErrorCode, string> BadRequests => new()
    {
        { "unknown input", ErrorCode.NotFound, "unexpected input 'INPUT9'" },
        { "missing input", ErrorCode.InvalidArgument, "missing input 'INPUT1'" },
        { "twice", ErrorCode.InvalidArgument, "input 'INPUT0' is given more than once" },
        { "datatype", ErrorCode.InvalidArgument, "input 'INPUT1': datatype FP64 does not match the model's FP32" },
        { "rank", ErrorCode.InvalidArgument, "input 'INPUT0': shape [16] does not match the model's [-1,16]" },
        { "width", ErrorCode.InvalidArgument, "input 'INPUT0': shape [1,8] does not match the model's [-1,16]" },
        { "batch too large", ErrorCode.InvalidArgument, "input 'INPUT0': batch size 33 is outside 1..32 (max_batch_size)" },
        { "batch zero", ErrorCode.InvalidArgument, "input 'INPUT0': batch size 0 is outside 1..32" },
        { "batch mismatch", ErrorCode.InvalidArgument, "input 'INPUT1' has batch size 2 but an earlier input has 1" },
        { "bytes", ErrorCode.InvalidArgument, "input 'INPUT1': 60 bytes of data, but shape [1,16] of FP32 needs 64" },
        { "unknown output", ErrorCode.NotFound, "unexpected output 'OUTPUT7'" },
        { "output twice", ErrorCode.InvalidArgument, "output 'OUTPUT0' is requested more than once" },
        { "priority", ErrorCode.InvalidArgument, "priority 3 is outside 1..2" },
    };

    [Theory]
    [MemberData(nameof(BadRequests))]
    public void A_request_that_does_not_fit_the_model_is_answered_at_once_naming_the_problem(string problem, ErrorCode code, string message)
    {
        var backend = FakeBackend.AddSub();
        using var batcher = Start(backend, new SchedulerOptions { PriorityLevels = 2 });
        var completion = new CollectingCompletion();
        var request = Bad(problem, completion);
        Submit(batcher, request);
        var answer = completion.Wait(request.Id, 0);
        Assert.Equal(code, answer.Error);
        Assert.Contains(message, answer.Message);
        Assert.StartsWith($"model '{batcher.ModelName}' version {batcher.Version}: ", answer.Message, StringComparison.Ordinal);
        Assert.Equal(0, batcher.QueuedCount);
        Assert.Empty(backend.BatchSizes);
    }

    private static InferenceRequest Bad(string problem, CollectingCompletion completion)
    {
        var row = new float[16];
        var request = problem switch
        {
            "unknown input" => TestRequests.Create(1, "add_sub", completion, ("INPUT0", [1, 16], row), ("INPUT9", [1, 16], row)),
            "missing input" => TestRequests.Create(1, "add_sub", completion, ("INPUT0", [1, 16], row)),
            "twice" => TestRequests.Create(1, "add_sub", completion, ("INPUT0", [1, 16], row), ("INPUT0", [1, 16], row)),
            "rank" => TestRequests.Create(1, "add_sub", completion, ("INPUT0", [16], row), ("INPUT1", [1, 16], row)),
            "width" => TestRequests.Create(1, "add_sub", completion, ("INPUT0", [1, 8], new float[8]), ("INPUT1", [1, 16], row)),
            "batch too large" => TestRequests.Create(1, "add_sub", completion, ("INPUT0", [33, 16], new float[33 * 16]), ("INPUT1", [33, 16], new float[33 * 16])),
            "batch zero" => TestRequests.Create(1, "add_sub", completion, ("INPUT0", [0, 16], []), ("INPUT1", [0, 16], [])),
            "batch mismatch" => TestRequests.Create(1, "add_sub", completion, ("INPUT0", [1, 16], row), ("INPUT1", [2, 16], new float[32])),
            "bytes" => TestRequests.Create(1, "add_sub", completion, ("INPUT0", [1, 16], row), ("INPUT1", [1, 16], new float[15])),
            _ => TestRequests.AddSub(1, completion),
        };
        switch (problem)
        {
            case "datatype":
                request.Input(1).DataType = DataType.Fp64;
                break;
            case "unknown output":
                request.RequestedOutputs.Add("OUTPUT7");
                break;
            case "output twice":
                request.RequestedOutputs.AddRange(["OUTPUT0", "OUTPUT0"]);
                break;
            case "priority":
                request.Priority = 3;
                break;
        }
        return request;
    }
}
