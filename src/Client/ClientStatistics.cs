namespace HighPerfInference.Client;

/// <summary>Counts of a client's rare events since it was created, for load-test reports and diagnostics.</summary>
/// <param name="ConnectionsOpened">Connections opened (handshake completed), reconnects included.</param>
/// <param name="ConnectionsClosed">Connections that ended: lost, drained after GoAway, or closed by the client.</param>
/// <param name="GoAwaysReceived">Drain notices from the server.</param>
/// <param name="Retries">Attempts after the first, over all calls.</param>
public readonly record struct ClientStatistics(long ConnectionsOpened, long ConnectionsClosed, long GoAwaysReceived, long Retries);

/// <summary>The counters behind <see cref="ClientStatistics"/>, bumped with Interlocked where the events happen.</summary>
internal sealed class ClientCounters
{
    public long ConnectionsOpened;
    public long ConnectionsClosed;
    public long GoAwaysReceived;
    public long Retries;

    public ClientStatistics Snapshot() => new(
        Interlocked.Read(ref ConnectionsOpened),
        Interlocked.Read(ref ConnectionsClosed),
        Interlocked.Read(ref GoAwaysReceived),
        Interlocked.Read(ref Retries));
}
