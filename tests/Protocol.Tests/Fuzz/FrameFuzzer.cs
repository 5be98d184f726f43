using System.Buffers;
using System.Buffers.Binary;
using System.Text;
using HighPerfInference.Protocol.Tests.Support;

namespace HighPerfInference.Protocol.Tests.Fuzz;

/// <summary>
/// Makes random and mutated byte streams from valid frames, and runs a stream through the reader
/// and every message parser the way a connection would, describing what happened.
/// </summary>
public sealed class FrameFuzzer(int seed)
{
    /// <summary>The payload limit under fuzz: small, so mutated lengths often cross it.</summary>
    public const uint MaxPayloadLength = 4096;

    private static readonly byte[][] s_seeds = Seeds();
    private static readonly uint[] s_interesting = [0, 1, 7, 8, 16, 23, 24, 255, 256, 4095, 4096, 4097, 65535, 0x7fffffff, 0x80000000, uint.MaxValue];

    private readonly Random _random = new(seed);

    /// <summary>The next case: a valid frame (or a few) with 1 to 4 mutations, or random bytes.</summary>
    public byte[] Next()
    {
        var kind = _random.Next(10);
        if (kind == 0)
            return RandomBytes();
        if (kind == 1)
            return RandomPayloadBehindValidHeader();
        var bytes = new List<byte>(Pick());
        if (_random.Next(4) == 0)
            bytes.AddRange(Pick());
        var mutations = 1 + _random.Next(4);
        for (var i = 0; i < mutations && bytes.Count > 0; i++)
            Mutate(bytes);
        return [.. bytes];
    }

    /// <summary>The same bytes, cut at random places (sometimes one byte per segment).</summary>
    public ReadOnlySequence<byte> Segment(byte[] bytes)
    {
        if (bytes.Length < 2)
            return new ReadOnlySequence<byte>(bytes);
        if (bytes.Length < 300 && _random.Next(4) == 0)
            return Segments.OneBytePerSegment(bytes);
        return Segments.Split(bytes, FrameReaderTests.RandomCuts(_random, bytes.Length, 1 + _random.Next(6)));
    }

    /// <summary>
    /// Reads every frame of the stream and parses its payload, as a connection does: a fatal error
    /// ends the stream, a per-request error skips that frame. Returns one line per event. Checks the
    /// reader's promises on the way; anything but a <see cref="ProtocolException"/> escapes.
    /// </summary>
    public static string Run(ReadOnlySequence<byte> stream)
    {
        var events = new StringBuilder();
        var buffer = stream;
        while (true)
        {
            FrameHeader header;
            ReadOnlySequence<byte> payload;
            var before = buffer;
            try
            {
                if (!FrameReader.TryReadFrame(ref buffer, MaxPayloadLength, out header, out payload))
                {
                    if (!buffer.Start.Equals(before.Start) || buffer.Length != before.Length)
                        throw new InvalidOperationException("The reader consumed bytes of an incomplete frame.");
                    events.Append("end: ").Append(buffer.Length).Append(" bytes left\n");
                    return events.ToString();
                }
            }
            catch (ProtocolException error)
            {
                if (!error.IsFatal)
                    throw new InvalidOperationException("A header error was not fatal.", error);
                events.Append("end: fatal ").Append(error.Code.Name()).Append(' ').Append(error.Message).Append('\n');
                return events.ToString();
            }

            if (header.PayloadLength > MaxPayloadLength || payload.Length != header.PayloadLength)
                throw new InvalidOperationException("The reader accepted a payload over the limit or of the wrong length.");
            if (before.Length - buffer.Length != FrameHeader.Size + header.PayloadLength)
                throw new InvalidOperationException("The reader consumed the wrong number of bytes.");

            events.Append(header.Type).Append(" id=").Append(header.RequestId).Append(": ");
            try
            {
                events.Append(Frame.Decode(header, payload).Describe().Length > 0 ? "ok" : "empty");
            }
            catch (ProtocolException error)
            {
                if (error.IsFatal)
                    throw new InvalidOperationException("A payload error was fatal.", error);
                events.Append(error.Code.Name()).Append(' ').Append(error.Message);
            }
            events.Append('\n');
        }
    }

    private byte[] Pick() => s_seeds[_random.Next(s_seeds.Length)];

    private void Mutate(List<byte> bytes)
    {
        var at = _random.Next(bytes.Count);
        switch (_random.Next(9))
        {
            case 0:
                bytes[at] ^= (byte)(1 << _random.Next(8));
                break;
            case 1:
                bytes[at] = (byte)s_interesting[_random.Next(s_interesting.Length)];
                break;
            case 2:
                OverwriteU32(bytes, at, s_interesting[_random.Next(s_interesting.Length)]);
                break;
            case 3:
                // The header's payload length, the field that decides where the next frame starts.
                OverwriteU32(bytes, 16, _random.Next(2) == 0 ? s_interesting[_random.Next(s_interesting.Length)] : (uint)(bytes.Count - FrameHeader.Size + _random.Next(-9, 10)));
                break;
            case 4:
                bytes.RemoveRange(at, bytes.Count - at);
                break;
            case 5:
                bytes.InsertRange(at, RandomBytes(1 + _random.Next(16)));
                break;
            case 6:
                bytes.RemoveRange(at, Math.Min(bytes.Count - at, 1 + _random.Next(16)));
                break;
            case 7:
                var length = Math.Min(bytes.Count - at, 1 + _random.Next(32));
                bytes.InsertRange(at, bytes.GetRange(at, length));
                break;
            default:
                // A count or length inside the payload: small fields near the start of message bodies.
                var field = FrameHeader.Size + _random.Next(Math.Max(1, Math.Min(64, bytes.Count - FrameHeader.Size)));
                if (field < bytes.Count)
                    bytes[field] = (byte)_random.Next(256);
                break;
        }
    }

    private byte[] RandomBytes() => RandomBytes(_random.Next(200));

    private byte[] RandomBytes(int count)
    {
        var bytes = new byte[count];
        _random.NextBytes(bytes);
        return bytes;
    }

    private byte[] RandomPayloadBehindValidHeader()
    {
        var payload = RandomBytes();
        var types = Enum.GetValues<MessageType>();
        var frame = new byte[FrameHeader.Size + payload.Length];
        new FrameHeader(types[_random.Next(types.Length)], (ulong)_random.Next(3), (uint)payload.Length).Write(frame);
        payload.CopyTo(frame, FrameHeader.Size);
        return frame;
    }

    private static void OverwriteU32(List<byte> bytes, int at, uint value)
    {
        Span<byte> field = stackalloc byte[4];
        BinaryPrimitives.WriteUInt32LittleEndian(field, value);
        for (var i = 0; i < 4 && at + i < bytes.Count; i++)
            bytes[at + i] = field[i];
    }

    private static byte[][] Seeds()
    {
        var seeds = new List<byte[]>();
        foreach (var (_, frame) in SampleFrames.All)
            seeds.Add(frame.Encode());
        return [.. seeds];
    }
}
