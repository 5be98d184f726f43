using HighPerfInference.Client.Binary;
using HighPerfInference.Protocol;

namespace HighPerfInference.Client.Tests;

/// <summary>The per-connection table of requests awaiting answers.</summary>
public sealed class PendingTableTests
{
    private static readonly TimeSpan s_never = Timeout.InfiniteTimeSpan;

    [Fact]
    public async Task An_answer_reaches_the_request_with_its_id_and_frees_the_slot()
    {
        var table = new PendingTable(2, _ => { });
        var pending = table.TryRent(s_never, default)!;
        var task = pending.Task;

        var found = table.Find(pending.Id);
        found!.Answer(new ReceivedFrame(MessageType.Pong, [], 0));
        found.ReleaseWire();

        Assert.Equal(MessageType.Pong, (await task).Type);
        Assert.Equal(0, table.InFlight);
    }

    [Fact]
    public void Every_use_of_a_slot_gets_a_new_id_so_a_late_answer_finds_nothing()
    {
        var table = new PendingTable(1, _ => { });
        var first = table.TryRent(s_never, default)!;
        var firstId = first.Id;
        first.Fail(new InferenceException(ErrorCode.Cancelled, "gone"));
        first.ReleaseWire();
        Assert.Throws<InferenceException>(() => first.Task.GetAwaiter().GetResult());

        var second = table.TryRent(s_never, default)!;

        Assert.Same(first, second);
        Assert.NotEqual(firstId, second.Id);
        Assert.Null(table.Find(firstId));
        Assert.Same(second, table.Find(second.Id));
    }

    [Fact]
    public async Task A_caller_that_times_out_is_answered_at_once_but_its_slot_waits_for_the_server()
    {
        ulong abandoned = 0;
        var table = new PendingTable(1, id => abandoned = id);
        var pending = table.TryRent(TimeSpan.FromMilliseconds(20), default)!;

        var error = await Assert.ThrowsAsync<InferenceException>(async () => await pending.Task);

        Assert.Equal(ErrorCode.Timeout, error.Code);
        Assert.Equal(pending.Id, abandoned);
        // The server still owes an answer: the slot stays taken, so the limit holds.
        Assert.Null(table.TryRent(s_never, default));
        var late = table.Find(pending.Id)!;
        late.Answer(new ReceivedFrame(MessageType.InferResponse, [], 0));
        late.ReleaseWire();
        Assert.NotNull(table.TryRent(s_never, default));
    }

    [Fact]
    public async Task A_cancelled_caller_gets_OperationCanceled()
    {
        var table = new PendingTable(1, _ => { });
        using var cancel = new CancellationTokenSource();
        var pending = table.TryRent(s_never, cancel.Token)!;

        cancel.Cancel();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(async () => await pending.Task);
    }

    [Fact]
    public async Task A_full_table_makes_callers_wait_for_a_slot()
    {
        var table = new PendingTable(1, _ => { });
        var first = table.TryRent(s_never, default)!;
        var waiting = table.RentAsync(s_never, default).AsTask();
        Assert.False(waiting.IsCompleted);

        first.Answer(new ReceivedFrame(MessageType.Pong, [], 0));
        first.ReleaseWire();
        (await first.Task).Dispose();

        Assert.NotNull(await waiting);
    }

    [Fact]
    public async Task A_lost_connection_fails_everything_on_the_wire_exactly_once()
    {
        var table = new PendingTable(3, _ => { });
        var pending = new[] { table.TryRent(s_never, default)!, table.TryRent(s_never, default)! };
        var tasks = pending.Select(request => request.Task.AsTask()).ToArray();

        table.FailAll(ErrorCode.Unavailable, "lost");
        Assert.False(pending[0].ReleaseWire());

        foreach (var task in tasks)
            Assert.Equal(ErrorCode.Unavailable, (await Assert.ThrowsAsync<InferenceException>(() => task)).Code);
        Assert.Equal(0, table.InFlight);
    }
}
