using System.Text;

namespace HighPerfInference.Protocol;

/// <summary>Field lengths of names and texts given as strings, for payload lengths computed up front.</summary>
internal static class Utf8Length
{
    /// <summary>u8 length + UTF-8 bytes; throws when the name is over 255 bytes.</summary>
    public static int Name(string value)
    {
        var length = Encoding.UTF8.GetByteCount(value);
        if (length > FrameLimits.MaxNameLength)
            throw new ArgumentException($"'{value}' is over {FrameLimits.MaxNameLength} UTF-8 bytes.", nameof(value));
        return 1 + length;
    }

    /// <summary>u16 length + UTF-8 bytes, after the cut <see cref="WireWriter.WriteText(ReadOnlySpan{char})"/> makes.</summary>
    public static int Text(ReadOnlySpan<char> value)
    {
        var length = Encoding.UTF8.GetByteCount(value);
        return 2 + (length <= FrameLimits.MaxTextLength ? length : Encoding.UTF8.GetByteCount(WireWriter.TruncateUtf8(value, FrameLimits.MaxTextLength)));
    }
}
