using System.Buffers;
using System.IO.Compression;
using System.IO.Pipelines;
using HighPerfInference.Protocol;
using HighPerfInference.Server.Http.Tensors;

namespace HighPerfInference.Server.Http.Inference;

/// <summary>
/// A whole request body, bounded by Server:MaxRequestBodySize. An HTTP/1.1 body with a
/// Content-Length stays where Kestrel received it and is read in place (<see cref="Release"/> hands
/// it back); a gzip/deflate, chunked or HTTP/2 body is copied into a pooled buffer first.
/// </summary>
internal readonly struct RequestBody
{
    private readonly PipeReader? _pipe;

    private RequestBody(ReadOnlySequence<byte> data, PipeReader? pipe)
    {
        Data = data;
        _pipe = pipe;
    }

    public ReadOnlySequence<byte> Data { get; }

    /// <summary>Lets Kestrel reuse the receive buffer; the data must not be touched afterwards.</summary>
    public void Release() => _pipe?.AdvanceTo(Data.End);

    public static async ValueTask<RequestBody> ReadAsync(HttpContext context, PooledBuffer copy, long limit)
    {
        var request = context.Request;
        if (request.ContentLength > limit)
            throw TooLarge(request.ContentLength.Value, limit);

        var encoding = request.Headers.ContentEncoding;
        if (encoding.Count == 0 || encoding == "identity")
        {
            if (request.ContentLength is not null && HttpProtocol.IsHttp11(request.Protocol))
                return new RequestBody(await ReadInPlaceAsync(request.BodyReader, context.RequestAborted).ConfigureAwait(false), request.BodyReader);
            await CopyAsync(request.BodyReader, copy, limit, context.RequestAborted).ConfigureAwait(false);
            return new RequestBody(copy.Slice(0, copy.Length), null);
        }

        Stream decompressor = encoding == "gzip" ? new GZipStream(request.Body, CompressionMode.Decompress, leaveOpen: true)
            : encoding == "deflate" ? new ZLibStream(request.Body, CompressionMode.Decompress, leaveOpen: true)
            : throw new UnsupportedEncodingException($"Content-Encoding '{encoding}' is not supported; send gzip, deflate or identity");
        await using (decompressor.ConfigureAwait(false))
        {
            try
            {
                await DecompressAsync(decompressor, copy, limit, context.RequestAborted).ConfigureAwait(false);
            }
            catch (InvalidDataException e)
            {
                throw new InferenceException(ErrorCode.InvalidArgument, $"the {encoding} request body is corrupt: {e.Message}");
            }
        }
        return new RequestBody(copy.Slice(0, copy.Length), null);
    }

    /// <summary>Waits until the whole body is in Kestrel's buffer, consuming nothing.</summary>
    private static async ValueTask<ReadOnlySequence<byte>> ReadInPlaceAsync(PipeReader reader, CancellationToken cancellationToken)
    {
        while (true)
        {
            var result = await reader.ReadAsync(cancellationToken).ConfigureAwait(false);
            if (result.IsCompleted)
                return result.Buffer;
            reader.AdvanceTo(result.Buffer.Start, result.Buffer.End);
        }
    }

    private static async ValueTask CopyAsync(PipeReader reader, PooledBuffer copy, long limit, CancellationToken cancellationToken)
    {
        while (true)
        {
            var result = await reader.ReadAsync(cancellationToken).ConfigureAwait(false);
            if (copy.Length + result.Buffer.Length > limit)
                throw TooLarge(copy.Length + result.Buffer.Length, limit);
            foreach (var segment in result.Buffer)
                copy.Write(segment.Span);
            reader.AdvanceTo(result.Buffer.End);
            if (result.IsCompleted)
                return;
        }
    }

    private static async ValueTask DecompressAsync(Stream source, PooledBuffer copy, long limit, CancellationToken cancellationToken)
    {
        while (true)
        {
            var read = await source.ReadAsync(copy.GetMemory(16 * 1024), cancellationToken).ConfigureAwait(false);
            if (read == 0)
                return;
            copy.Advance(read);
            if (copy.Length > limit)
                throw new InferenceException(ErrorCode.PayloadTooLarge, $"the request body exceeds the limit of {limit} bytes (Server:MaxRequestBodySize) once decompressed");
        }
    }

    private static InferenceException TooLarge(long length, long limit) =>
        new(ErrorCode.PayloadTooLarge, $"the request body is {length} bytes, more than the limit of {limit} bytes (Server:MaxRequestBodySize)");
}

/// <summary>A Content-Encoding the server cannot decode: answered 415.</summary>
internal sealed class UnsupportedEncodingException(string message) : Exception(message);
