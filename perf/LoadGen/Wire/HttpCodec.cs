using System.Buffers;
using System.Buffers.Text;
using System.IO.Pipelines;
using System.Text;

namespace HighPerfInference.LoadGen.Wire;

/// <summary>
/// HTTP/1.1 keep-alive, one prebuilt request copied per send (pipelined when a connection holds more
/// than one in flight; answers come in order). A response is complete when its headers and its body
/// (Content-Length, or chunked) have arrived; only the status is read, the body is skipped.
/// </summary>
public sealed class HttpCodec(byte[] request) : Load.IWireCodec
{
    private const int MaxHeaderBytes = 16 * 1024;

    public bool InOrder => true;

    public ValueTask OpenAsync(PipeReader reader, PipeWriter writer, int slotCount, CancellationToken cancellationToken) => ValueTask.CompletedTask;

    public void WriteRequest(IBufferWriter<byte> writer, ulong requestId) => writer.Write(request);

    public bool TryReadResponse(ref SequenceReader<byte> reader, out ulong requestId, out int status)
    {
        requestId = 0;
        status = 0;
        var probe = reader;
        if (!probe.TryReadTo(out ReadOnlySequence<byte> head, "\r\n\r\n"u8))
        {
            if (probe.Remaining > MaxHeaderBytes)
                throw new Load.BadResponseException("HTTP response headers longer than 16 KiB");
            return false;
        }
        if (head.Length > MaxHeaderBytes)
            throw new Load.BadResponseException("HTTP response headers longer than 16 KiB");
        var headers = head.IsSingleSegment ? head.FirstSpan : Copy(head, stackalloc byte[(int)head.Length]);
        var httpStatus = ParseStatus(headers);
        ReadHeaders(headers, out var contentLength, out var chunked);
        if (chunked)
        {
            if (!TrySkipChunkedBody(ref probe))
                return false;
        }
        else
        {
            if (probe.Remaining < contentLength)
                return false;
            probe.Advance(contentLength);
        }
        reader = probe;
        status = httpStatus is >= 200 and < 300 ? 0 : httpStatus;
        return true;
    }

    public string ErrorName(int status) => Load.LocalErrors.Name(status) ?? $"HTTP {status}";

    private static ReadOnlySpan<byte> Copy(ReadOnlySequence<byte> sequence, Span<byte> destination)
    {
        sequence.CopyTo(destination);
        return destination[..(int)sequence.Length];
    }

    /// <summary>"HTTP/1.1 200 OK" → 200.</summary>
    private static int ParseStatus(ReadOnlySpan<byte> headers)
    {
        if (headers.Length < 12 || !headers.StartsWith("HTTP/1."u8) || headers[8] != (byte)' '
            || !Utf8Parser.TryParse(headers.Slice(9, 3), out int status, out var consumed) || consumed != 3)
            throw new Load.BadResponseException("not an HTTP/1.x status line");
        return status;
    }

    private static void ReadHeaders(ReadOnlySpan<byte> headers, out long contentLength, out bool chunked)
    {
        contentLength = 0;
        chunked = false;
        var lineEnd = headers.IndexOf("\r\n"u8);
        while (lineEnd >= 0)
        {
            headers = headers[(lineEnd + 2)..];
            lineEnd = headers.IndexOf("\r\n"u8);
            var line = lineEnd >= 0 ? headers[..lineEnd] : headers;
            var colon = line.IndexOf((byte)':');
            if (colon <= 0)
                continue;
            var name = line[..colon];
            var value = line[(colon + 1)..].Trim((byte)' ');
            if (Ascii.EqualsIgnoreCase(name, "Content-Length"u8))
            {
                if (!Utf8Parser.TryParse(value, out contentLength, out var consumed) || consumed != value.Length || contentLength < 0)
                    throw new Load.BadResponseException("bad Content-Length");
            }
            else if (Ascii.EqualsIgnoreCase(name, "Transfer-Encoding"u8) && value.EndsWith("chunked"u8))
            {
                chunked = true;
            }
        }
    }

    /// <summary>Skips "size\r\n data\r\n" chunks up to the last "0\r\n" and the (possibly empty) trailer.</summary>
    private static bool TrySkipChunkedBody(ref SequenceReader<byte> reader)
    {
        Span<byte> copy = stackalloc byte[32];
        while (true)
        {
            if (!reader.TryReadTo(out ReadOnlySequence<byte> sizeLine, "\r\n"u8))
                return false;
            if (sizeLine.Length > copy.Length)
                throw new Load.BadResponseException("chunk size line too long");
            var text = sizeLine.IsSingleSegment ? sizeLine.FirstSpan : Copy(sizeLine, copy);
            var extension = text.IndexOf((byte)';');
            if (extension >= 0)
                text = text[..extension];
            if (!Utf8Parser.TryParse(text, out long size, out var consumed, 'x') || consumed != text.Length)
                throw new Load.BadResponseException("bad chunk size");
            if (size == 0)
            {
                // Trailer fields, then an empty line.
                while (true)
                {
                    if (!reader.TryReadTo(out ReadOnlySequence<byte> trailer, "\r\n"u8))
                        return false;
                    if (trailer.IsEmpty)
                        return true;
                }
            }
            if (reader.Remaining < size + 2)
                return false;
            reader.Advance(size + 2);
        }
    }
}
