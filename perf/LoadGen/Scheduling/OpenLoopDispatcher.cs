using System.Diagnostics;
using System.Runtime.InteropServices;
using HighPerfInference.LoadGen.Cli;
using HighPerfInference.LoadGen.Load;
using HighPerfInference.LoadGen.Measurement;

namespace HighPerfInference.LoadGen.Scheduling;

/// <summary>
/// Sends open-loop requests on a dedicated thread at the times an <see cref="ArrivalSchedule"/>
/// gives, round-robin over the connections that have a free slot. When every slot is busy the due
/// request waits, and its latency (counted from the due time) shows the wait. How late the thread
/// itself sends is recorded too, so a generator that cannot keep the rate is visible.
/// </summary>
public sealed partial class OpenLoopDispatcher
{
    private static readonly long s_sleepThreshold = Stopwatch.Frequency / 2000;   // 500 us: below it, yield-spin
    private static readonly long s_wakeEarly = Stopwatch.Frequency / 5000;         // 200 us: nanosleep overshoots by ~60 us
    private static readonly double s_nanosecondsPerTick = 1e9 / Stopwatch.Frequency;

    private readonly Connection[] _connections;
    private readonly LoadPhase _phase;
    private readonly ArrivalSchedule _schedule;
    private readonly bool[] _unflushed;

    public OpenLoopDispatcher(Connection[] connections, LoadPhase phase, double requestsPerSecond, ArrivalDistribution distribution, int seed)
    {
        _connections = connections;
        _phase = phase;
        _unflushed = new bool[connections.Length];
        _schedule = new ArrivalSchedule(requestsPerSecond, distribution, seed, Stopwatch.GetTimestamp());
    }

    /// <summary>Send lag (actual send minus due time) of requests sent while measuring, in nanoseconds.</summary>
    public LatencyHistogram SendLag { get; } = new();

    public Thread Start()
    {
        var thread = new Thread(Run) { IsBackground = true, Name = "loadgen open-loop dispatcher", Priority = ThreadPriority.AboveNormal };
        thread.Start();
        return thread;
    }

    private void Run()
    {
        var due = _schedule.NextDueTimestamp();
        var next = 0;
        while (_phase.Current != Phase.Stop)
        {
            var now = Stopwatch.GetTimestamp();
            if (due > now)
            {
                FlushAll();
                WaitUntil(due);
                continue;
            }
            var sent = false;
            for (var tried = 0; tried < _connections.Length && !sent; tried++)
            {
                var index = next;
                next = next + 1 == _connections.Length ? 0 : next + 1;
                if (_connections[index].TrySend(due))
                {
                    _unflushed[index] = true;
                    sent = true;
                }
            }
            if (!sent)
            {
                // Every slot is busy: send what is written, let the answers come, try again.
                FlushAll();
                Thread.Yield();
                continue;
            }
            if (_phase.Current == Phase.Measure)
                SendLag.Record((long)((now - due) * s_nanosecondsPerTick));
            due = _schedule.NextDueTimestamp();
        }
        FlushAll();
    }

    private void FlushAll()
    {
        for (var i = 0; i < _connections.Length; i++)
        {
            if (_unflushed[i])
            {
                _connections[i].Flush();
                _unflushed[i] = false;
            }
        }
    }

    /// <summary>Sleeps most of a long gap with nanosleep, then yields until the due time.</summary>
    private static void WaitUntil(long timestamp)
    {
        var remaining = timestamp - Stopwatch.GetTimestamp();
        if (remaining > s_sleepThreshold)
            _ = MicroSleep((uint)((remaining - s_wakeEarly) * 1_000_000 / Stopwatch.Frequency));
        while (Stopwatch.GetTimestamp() < timestamp)
            Thread.Yield();
    }

    // Thread.Sleep rounds to milliseconds; an open loop at thousands of requests/s needs microseconds.
    [LibraryImport("libc", EntryPoint = "usleep")]
    private static partial int MicroSleep(uint microseconds);
}
