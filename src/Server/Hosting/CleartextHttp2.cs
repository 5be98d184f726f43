using System.Buffers;
using System.IO.Pipelines;
using System.Security.Cryptography.X509Certificates;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.AspNetCore.Server.Kestrel.Core.Features;

namespace HighPerfInference.Server.Hosting;

/// <summary>
/// HTTP/1.1 and cleartext HTTP/2 (h2c with prior knowledge) on one port. Kestrel serves only
/// HTTP/1.1 on a cleartext endpoint that allows both, because without TLS there is no ALPN to tell
/// them apart. This connection middleware tells them apart the way the HTTP/2 spec intends: an
/// HTTP/2 client opens with the fixed preface "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n". For such a
/// connection it reports "h2" as the negotiated application protocol, the one signal Kestrel uses
/// to pick HTTP/2, and consumes nothing, so Kestrel reads the preface itself.
/// </summary>
/// <remarks>
/// Kestrel reads the negotiated protocol only on connections that carry a TLS feature, so the
/// HTTP/2 connections get an empty one (no certificate). A side effect: requests on them report
/// the scheme "https". Nothing in this server looks at the scheme.
/// </remarks>
internal static class CleartextHttp2
{
    private static ReadOnlySpan<byte> Preface => "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"u8;

    public static ListenOptions UseCleartextHttp2Detection(this ListenOptions listen, TimeSpan firstBytesTimeout)
    {
        listen.Protocols = HttpProtocols.Http1AndHttp2;
        listen.Use(next => async connection =>
        {
            if (await StartsWithPrefaceAsync(connection, firstBytesTimeout).ConfigureAwait(false))
            {
                connection.Features.Set<ITlsConnectionFeature>(PriorKnowledge.Instance);
                connection.Features.Set<ITlsApplicationProtocolFeature>(PriorKnowledge.Instance);
            }
            await next(connection).ConfigureAwait(false);
        });
        return listen;
    }

    /// <summary>
    /// Reads until the first bytes match the preface or stop matching it; consumes nothing. A client
    /// silent for <paramref name="timeout"/> is left to Kestrel, whose own timeouts then apply.
    /// </summary>
    private static async ValueTask<bool> StartsWithPrefaceAsync(ConnectionContext connection, TimeSpan timeout)
    {
        var input = connection.Transport.Input;
        using var silence = CancellationTokenSource.CreateLinkedTokenSource(connection.ConnectionClosed);
        silence.CancelAfter(timeout);
        var start = new byte[Preface.Length];
        while (true)
        {
            ReadResult result;
            try
            {
                result = await input.ReadAsync(silence.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                return false;
            }
            var buffer = result.Buffer;
            var length = (int)Math.Min(buffer.Length, Preface.Length);
            buffer.Slice(0, length).CopyTo(start);
            var matches = start.AsSpan(0, length).SequenceEqual(Preface[..length]);
            if (!matches || length == Preface.Length || result.IsCompleted || result.IsCanceled)
            {
                input.AdvanceTo(buffer.Start);
                return matches && length == Preface.Length;
            }
            input.AdvanceTo(buffer.Start, buffer.End);
        }
    }

    private sealed class PriorKnowledge : ITlsConnectionFeature, ITlsApplicationProtocolFeature
    {
        public static readonly PriorKnowledge Instance = new();

        public ReadOnlyMemory<byte> ApplicationProtocol { get; } = "h2"u8.ToArray();

        public X509Certificate2? ClientCertificate { get => null; set { } }

        public Task<X509Certificate2?> GetClientCertificateAsync(CancellationToken cancellationToken) => Task.FromResult<X509Certificate2?>(null);
    }
}
