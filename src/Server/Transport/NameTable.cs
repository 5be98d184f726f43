using System.Text;

namespace HighPerfInference.Server.Transport;

/// <summary>
/// Turns the UTF-8 names of a connection's requests (model, version, tensor names) into strings
/// without allocating for names seen before. One per connection, used by its read loop only. It
/// remembers a bounded number of names, so a client sending endless distinct names costs a string
/// each, not unbounded memory.
/// </summary>
internal sealed class NameTable
{
    private const int Capacity = 256;

    private readonly HashSet<string> _names = new(StringComparer.Ordinal);
    private readonly HashSet<string>.AlternateLookup<ReadOnlySpan<char>> _lookup;

    public NameTable() => _lookup = _names.GetAlternateLookup<ReadOnlySpan<char>>();

    public string Get(ReadOnlySpan<byte> utf8)
    {
        if (utf8.IsEmpty)
            return "";
        // A wire name is at most 255 bytes, hence at most 255 chars.
        Span<char> chars = stackalloc char[utf8.Length];
        var name = chars[..Encoding.UTF8.GetChars(utf8, chars)];
        if (_lookup.TryGetValue(name, out var known))
            return known;
        var created = new string(name);
        if (_names.Count < Capacity)
            _names.Add(created);
        return created;
    }
}
