using System.Buffers;
using System.IO.Pipelines;
using HighPerfInference.Protocol;

namespace HighPerfInference.Server.Tests.Transport;

/// <summary>The concurrent frame writer both ends of a connection send through.</summary>
public sealed class FrameOutputTests
{
    [Fact]
    public async Task Concurrent_writers_never_interleave_and_each_keeps_its_own_order()
    {
        var pipe = new Pipe(new PipeOptions(pauseWriterThreshold: 4096, resumeWriterThreshold: 2048, useSynchronizationContext: false));
        var output = new FrameOutput(pipe.Writer);
        const int writers = 8;
        const int frames = 2000;
        var reading = ReadPingsAsync(pipe.Reader, writers * frames);

        await Task.WhenAll(Enumerable.Range(0, writers).Select(writer => Task.Run(async () =>
        {
            for (var i = 0; i < frames; i++)
            {
                Ping(output, (ulong)writer, (ulong)i);
                if (output.IsBackedUp)
                    await output.WaitForDrainAsync();
            }
        })));

        var received = await reading;
        for (var writer = 0; writer < writers; writer++)
            Assert.Equal(Enumerable.Range(0, frames).Select(i => (ulong)i), received.Where(ping => ping.Id == (ulong)writer).Select(ping => ping.Opaque));
    }

    [Fact]
    public async Task Frames_written_while_the_peer_does_not_read_wait_and_then_go_in_order()
    {
        var pipe = new Pipe(new PipeOptions(pauseWriterThreshold: 256, resumeWriterThreshold: 128, useSynchronizationContext: false));
        var output = new FrameOutput(pipe.Writer);

        var sent = 0;
        while (!output.IsBackedUp)
            Ping(output, 1, (ulong)sent++);
        for (var i = 0; i < 100; i++)
            Ping(output, 1, (ulong)sent++);
        Assert.True(output.StagedBytes >= 100 * 32);
        var drained = output.WaitForDrainAsync();
        Assert.False(drained.IsCompleted);

        var received = await ReadPingsAsync(pipe.Reader, sent);
        await drained;

        Assert.False(output.IsBackedUp);
        Assert.Equal(Enumerable.Range(0, sent).Select(i => (ulong)i), received.Select(ping => ping.Opaque));
    }

    [Fact]
    public async Task Nothing_follows_a_frame_completed_as_the_last()
    {
        var pipe = new Pipe();
        var output = new FrameOutput(pipe.Writer);

        Ping(output, 1, 1);
        using (var last = output.BeginFrame())
        {
            ControlFrames.WritePing(last.Writer, pong: false, 2, 2);
            last.CompleteLast();
        }
        using (var after = output.BeginFrame())
        {
            Assert.True(after.IsDropped);
            ControlFrames.WritePing(after.Writer, pong: false, 3, 3);
            after.Complete();
        }
        await pipe.Writer.CompleteAsync();

        Assert.Equal([1ul, 2], (await ReadPingsAsync(pipe.Reader, int.MaxValue)).Select(ping => ping.Id));
    }

    [Fact]
    public async Task A_frame_abandoned_half_way_closes_the_output()
    {
        var pipe = new Pipe();
        var output = new FrameOutput(pipe.Writer);
        Ping(output, 1, 1);

        void WriteHalfAFrame()
        {
            using var frame = output.BeginFrame();
            frame.Writer.GetSpan(3)[..3].Fill(0xff);
            frame.Writer.Advance(3);
            throw new InvalidOperationException("the writer failed");
        }

        Assert.Throws<InvalidOperationException>(WriteHalfAFrame);
        Ping(output, 2, 2);
        await output.WaitForDrainAsync();
        await pipe.Writer.CompleteAsync();

        // The first frame whole; nothing after the broken one (whose bytes the connection's abort discards).
        Assert.Equal([1ul], (await ReadPingsAsync(pipe.Reader, int.MaxValue)).Select(ping => ping.Id));
    }

    [Fact]
    public async Task Deferred_frames_leave_in_one_flush_when_the_outermost_scope_ends()
    {
        var pipe = new Pipe();
        var first = new FrameOutput(pipe.Writer);
        var otherPipe = new Pipe();
        var second = new FrameOutput(otherPipe.Writer);

        using (FrameOutput.DeferFlushes())
        {
            Ping(first, 1, 1);
            Ping(second, 9, 9);
            using (FrameOutput.DeferFlushes())
                Ping(first, 2, 2);
            // A frame from another thread meanwhile is staged behind this thread's frames.
            var other = new Thread(() => Ping(first, 3, 3));
            other.Start();
            other.Join();
            Assert.False(pipe.Reader.TryRead(out _));
            Assert.False(otherPipe.Reader.TryRead(out _));
            Assert.True(first.StagedBytes > 0);
        }

        Assert.True(pipe.Reader.TryRead(out var flushed));
        Assert.Equal(3 * 32, flushed.Buffer.Length);
        pipe.Reader.AdvanceTo(flushed.Buffer.Start);
        Assert.Equal([1ul, 2, 3], (await ReadPingsAsync(pipe.Reader, 3)).Select(ping => ping.Id));
        Assert.Equal([9ul], (await ReadPingsAsync(otherPipe.Reader, 1)).Select(ping => ping.Id));

        // Outside a scope each frame is flushed by itself again.
        Ping(first, 4, 4);
        Assert.Equal([4ul], (await ReadPingsAsync(pipe.Reader, 1)).Select(ping => ping.Id));
    }

    [Fact]
    public async Task A_deferred_output_closed_meanwhile_sends_nothing_more()
    {
        var pipe = new Pipe();
        var output = new FrameOutput(pipe.Writer);
        using (FrameOutput.DeferFlushes())
        {
            Ping(output, 1, 1);
            output.Close();
        }
        await output.WaitForDrainAsync();
        Assert.False(pipe.Reader.TryRead(out _));
    }

    private static void Ping(FrameOutput output, ulong id, ulong opaque)
    {
        using var frame = output.BeginFrame();
        ControlFrames.WritePing(frame.Writer, pong: false, id, opaque);
        frame.Complete();
    }

    private static async Task<List<(ulong Id, ulong Opaque)>> ReadPingsAsync(PipeReader reader, int count)
    {
        var pings = new List<(ulong, ulong)>();
        while (pings.Count < count)
        {
            var result = await reader.ReadAsync();
            var buffer = result.Buffer;
            while (pings.Count < count && FrameReader.TryReadFrame(ref buffer, 1024, out var header, out var payload))
                pings.Add((header.RequestId, ControlFrames.ReadPing(payload)));
            reader.AdvanceTo(buffer.Start, buffer.End);
            if (result.IsCompleted)
                break;
        }
        return pings;
    }
}
