namespace HighPerfInference.Server.Scheduling;

/// <summary>
/// The life of one submission, kept in <see cref="InferenceRequest.SchedulerState"/> as
/// (ticket &lt;&lt; 3 | phase). Every move is a CompareExchange that names the ticket, so exactly one
/// party (submitter, instance, timeout sweep, Cancel) wins the right to answer a submission, and
/// none can touch a pooled request that was answered and submitted again.
/// <code>
/// Submitting ─► Queued ─► Running ─► Done
///     │           │          │
///     │           └──► Done (timeout, cancel, unload: answered without running)
///     └──► CancelRequested ◄─┘ (the submitter or instance answers Cancelled)
/// </code>
/// </summary>
internal static class RequestPhase
{
    public const long Submitting = 1;
    public const long Queued = 2;
    public const long Running = 3;
    public const long CancelRequested = 4;
    public const long Done = 5;

    private const int Bits = 3;
    private const long Mask = (1 << Bits) - 1;
    private static long s_lastTicket;

    public static long NextTicket() => Interlocked.Increment(ref s_lastTicket);

    public static long Make(long ticket, long phase) => (ticket << Bits) | phase;

    public static long PhaseOf(long state) => state & Mask;

    /// <summary>Moves the submission <paramref name="ticket"/> from one phase to another; false if it was elsewhere.</summary>
    public static bool TryMove(InferenceRequest request, long ticket, long from, long to) =>
        Interlocked.CompareExchange(ref request.SchedulerState, Make(ticket, to), Make(ticket, from)) == Make(ticket, from);
}
