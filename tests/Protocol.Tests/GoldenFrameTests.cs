using System.Buffers;
using System.Globalization;
using System.Text;
using HighPerfInference.Protocol.Tests.Support;

namespace HighPerfInference.Protocol.Tests;

/// <summary>
/// The checked-in golden frames pin the wire format: the writer must produce them byte for byte
/// and the reader must decode them to the values they were written from. Set HPI_UPDATE_GOLDEN=1
/// to rewrite them after a deliberate format change (and update docs/protocol.md and the Python
/// client with it).
/// </summary>
public class GoldenFrameTests
{
    public static TheoryData<string> Names()
    {
        var data = new TheoryData<string>();
        foreach (var (name, _) in SampleFrames.All)
            data.Add(name);
        return data;
    }

    [Theory]
    [MemberData(nameof(Names))]
    public void Writer_produces_the_golden_bytes_and_reader_decodes_them(string name)
    {
        var frame = Sample(name);
        var path = Path.Combine(GoldenDirectory, name + ".hex");
        if (Environment.GetEnvironmentVariable("HPI_UPDATE_GOLDEN") == "1")
            File.WriteAllText(path, HexFile.Format($"{name}: {frame.Type}, request id {frame.RequestId}", frame.Encode()));

        Assert.True(File.Exists(path), $"{path} is missing; run the tests once with HPI_UPDATE_GOLDEN=1 to write it.");
        var golden = HexFile.Parse(File.ReadAllText(path));
        Assert.Equal(Convert.ToHexString(golden), Convert.ToHexString(frame.Encode()));
        Assert.Equal(frame.Describe(), Frame.Decode(new ReadOnlySequence<byte>(golden)).Describe());
    }

    [Fact]
    public void Every_golden_file_has_a_sample()
    {
        foreach (var path in Directory.GetFiles(GoldenDirectory, "*.hex"))
            Sample(Path.GetFileNameWithoutExtension(path));
    }

    private static Frame Sample(string name)
    {
        foreach (var (sampleName, frame) in SampleFrames.All)
        {
            if (sampleName == name)
                return frame;
        }
        throw new InvalidOperationException($"No sample frame named {name}.");
    }

    /// <summary>The source folder, so updates land in the checked-in files.</summary>
    private static string GoldenDirectory => Path.Combine(SourceDirectory(), "Golden");

    internal static string SourceDirectory() => DirectoryOf();

    private static string DirectoryOf([System.Runtime.CompilerServices.CallerFilePath] string path = "") =>
        Path.GetDirectoryName(path)!;
}

/// <summary>
/// The golden and corpus file format: '#' comment lines, then the bytes as two-digit hex separated
/// by spaces and newlines (16 a line when written).
/// </summary>
public static class HexFile
{
    public static string Format(string comment, ReadOnlySpan<byte> bytes)
    {
        var text = new StringBuilder();
        foreach (var line in comment.Split('\n'))
            text.Append("# ").Append(line).Append('\n');
        for (var i = 0; i < bytes.Length; i++)
        {
            text.Append(bytes[i].ToString("x2", CultureInfo.InvariantCulture));
            text.Append(i % 16 == 15 || i == bytes.Length - 1 ? '\n' : ' ');
        }
        return text.ToString();
    }

    public static byte[] Parse(string text)
    {
        var bytes = new List<byte>();
        foreach (var line in text.Split('\n'))
        {
            if (line.StartsWith('#'))
                continue;
            foreach (var pair in line.Split(' ', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
                bytes.Add(byte.Parse(pair, NumberStyles.HexNumber, CultureInfo.InvariantCulture));
        }
        return [.. bytes];
    }

    /// <summary>The comment lines without their '#'.</summary>
    public static IEnumerable<string> Comments(string text)
    {
        foreach (var line in text.Split('\n'))
        {
            if (line.StartsWith('#'))
                yield return line[1..].Trim();
        }
    }
}
