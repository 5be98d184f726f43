using System.Diagnostics.CodeAnalysis;

namespace HighPerfInference.Protocol;

/// <summary>
/// A frame broke the wire format. The only exception the reader throws on bad input.
/// </summary>
/// <remarks>
/// <see cref="IsFatal"/> errors (bad header, oversize length) leave the byte stream out of sync:
/// the server answers an Error frame with request id 0 and closes. Other errors concern one
/// payload whose length was valid, so the stream stays in sync: answer an Error frame for that
/// request id and keep reading.
/// </remarks>
public sealed class ProtocolException(ErrorCode code, string message, bool isFatal) : Exception(message)
{
    public ErrorCode Code { get; } = code;
    public bool IsFatal { get; } = isFatal;
}

internal static class ThrowHelper
{
    [DoesNotReturn]
    public static void ThrowTruncatedHeader() =>
        throw new ProtocolException(ErrorCode.ProtocolError, "Frame header is shorter than 24 bytes.", isFatal: true);

    [DoesNotReturn]
    public static void ThrowBadMagic() =>
        throw new ProtocolException(ErrorCode.ProtocolError, "Frame does not start with the magic 'HPIB'.", isFatal: true);

    [DoesNotReturn]
    public static void ThrowUnsupportedVersion(byte version) =>
        throw new ProtocolException(ErrorCode.ProtocolError, $"Frame version {version} is not supported.", isFatal: true);

    [DoesNotReturn]
    public static void ThrowReservedNotZero() =>
        throw new ProtocolException(ErrorCode.ProtocolError, "Frame header reserved field is not zero.", isFatal: true);

    [DoesNotReturn]
    public static void ThrowPayloadTooLarge(uint length, uint max) =>
        throw new ProtocolException(ErrorCode.PayloadTooLarge, $"Frame payload of {length} bytes exceeds the limit of {max} bytes.", isFatal: true);

    [DoesNotReturn]
    public static void ThrowInvalid(string message) =>
        throw new ProtocolException(ErrorCode.InvalidArgument, message, isFatal: false);

    [DoesNotReturn]
    public static void ThrowTruncatedPayload() =>
        throw new ProtocolException(ErrorCode.InvalidArgument, "Payload ends in the middle of a field.", isFatal: false);
}
