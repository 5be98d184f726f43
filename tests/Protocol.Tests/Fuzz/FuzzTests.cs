using System.Buffers;
using System.Text.RegularExpressions;

namespace HighPerfInference.Protocol.Tests.Fuzz;

/// <summary>
/// Fuzzes the reader and every message parser with random and mutated frames. Each case runs on a
/// single segment and on a random segmentation, and both must tell the same story. A fixed seed
/// keeps CI reproducible; set HPI_FUZZ_SEED to explore others. With HPI_UPDATE_CORPUS=1 the run
/// also saves the first case of each distinct outcome to Fuzz/Corpus, which the regression test
/// replays from then on.
/// </summary>
/// <remarks>
/// Outcomes are compared with their numbers blanked, so that cases differing only in a length or
/// an id count as one.
/// </remarks>
public partial class FuzzTests
{
    private const int Cases = 100_000;
    private const int DefaultSeed = 20261121;

    [Fact]
    public void Random_and_mutated_frames_only_ever_raise_protocol_errors()
    {
        var seed = int.TryParse(Environment.GetEnvironmentVariable("HPI_FUZZ_SEED"), out var s) ? s : DefaultSeed;
        var fuzzer = new FrameFuzzer(seed);
        var update = Environment.GetEnvironmentVariable("HPI_UPDATE_CORPUS") == "1";
        var saved = new Dictionary<string, byte[]>();
        var outcomes = new HashSet<string>();
        for (var i = 0; i < Cases; i++)
        {
            var bytes = fuzzer.Next();
            string outcome;
            try
            {
                outcome = FrameFuzzer.Run(new ReadOnlySequence<byte>(bytes));
                Assert.Equal(outcome, FrameFuzzer.Run(fuzzer.Segment(bytes)));
            }
            catch (Exception error) when (error is not Xunit.Sdk.XunitException)
            {
                Assert.Fail($"seed {seed} case {i}: {error}\ninput: {Convert.ToHexString(bytes)}");
                return;
            }
            foreach (var line in Digits().Replace(outcome, "#").Split('\n'))
            {
                outcomes.Add(line);
                if (update && bytes.Length <= 512 && IsError(line))
                    saved.TryAdd(ErrorOf(line), bytes);
            }
        }

        // The mutations must reach deep: fatal header errors, payload errors and clean frames.
        Assert.Contains(outcomes, o => o.Contains("fatal PROTOCOL_ERROR", StringComparison.Ordinal));
        Assert.Contains(outcomes, o => o.Contains("fatal PAYLOAD_TOO_LARGE", StringComparison.Ordinal));
        Assert.Contains(outcomes, o => o.Contains("InferRequest id=#: INVALID_ARGUMENT", StringComparison.Ordinal));
        Assert.Contains(outcomes, o => o.Contains("InferResponse id=#: ok", StringComparison.Ordinal));

        if (update)
            SaveCorpus(saved.Values);
    }

    public static TheoryData<string> Corpus()
    {
        var data = new TheoryData<string>();
        foreach (var path in Directory.GetFiles(CorpusDirectory, "*.hex"))
            data.Add(Path.GetFileName(path));
        return data;
    }

    [Theory]
    [MemberData(nameof(Corpus))]
    public void Corpus_case_keeps_its_recorded_outcome(string file)
    {
        var text = File.ReadAllText(Path.Combine(CorpusDirectory, file));
        var bytes = HexFile.Parse(text);
        var expected = string.Join('\n', HexFile.Comments(text)) + "\n";
        Assert.Equal(expected, FrameFuzzer.Run(new ReadOnlySequence<byte>(bytes)));
        Assert.Equal(expected, FrameFuzzer.Run(Support.Segments.OneBytePerSegment(bytes)));
    }

    private static void SaveCorpus(IEnumerable<byte[]> cases)
    {
        foreach (var old in Directory.GetFiles(CorpusDirectory, "*.hex"))
            File.Delete(old);
        var n = 0;
        foreach (var bytes in cases)
        {
            var outcome = FrameFuzzer.Run(new ReadOnlySequence<byte>(bytes)).TrimEnd('\n');
            File.WriteAllText(Path.Combine(CorpusDirectory, $"{n++:d3}.hex"), HexFile.Format(outcome, bytes));
        }
    }

    private static bool IsError(string line) =>
        line.StartsWith("end: fatal", StringComparison.Ordinal) ||
        (!line.StartsWith("end:", StringComparison.Ordinal) && line.Length > 0 && !line.EndsWith(": ok", StringComparison.Ordinal));

    /// <summary>The error of an event line without the frame it hit, so each distinct error is kept once.</summary>
    private static string ErrorOf(string line) => line[(line.IndexOf(':', StringComparison.Ordinal) + 1)..];

    private static string CorpusDirectory => Path.Combine(GoldenFrameTests.SourceDirectory(), "Fuzz", "Corpus");

    [GeneratedRegex("[0-9]+")]
    private static partial Regex Digits();
}
