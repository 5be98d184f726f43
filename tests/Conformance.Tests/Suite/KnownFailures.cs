namespace HighPerfInference.Conformance.Tests.Suite;

/// <summary>
/// known-failures.md: cases ONNX Runtime's CPU provider loads but answers differently from the
/// reference, each with ORT's result and why. A listed case that fails is reported as skipped with
/// that reason; a listed case that passes fails, so the list cannot go stale.
/// </summary>
internal static class KnownFailures
{
    public const string FileName = "known-failures.md";

    private static readonly Dictionary<string, string> s_reasons = Load();

    public static bool TryGetReason(string caseId, out string reason) => s_reasons.TryGetValue(caseId, out reason!);

    // The file's table rows: | `folder/case` | ORT's result | why |
    private static Dictionary<string, string> Load()
    {
        var reasons = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var line in File.ReadLines(Path.Combine(AppContext.BaseDirectory, FileName)))
        {
            var cells = line.Split('|', StringSplitOptions.TrimEntries);
            if (cells.Length == 5 && cells[0].Length == 0 && cells[1].Contains('/', StringComparison.Ordinal))
                reasons.Add(cells[1].Trim('`'), $"known ORT deviation: {cells[3]} (ORT: {cells[2]})");
        }

        return reasons;
    }
}
