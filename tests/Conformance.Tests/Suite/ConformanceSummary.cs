using System.Text;

namespace HighPerfInference.Conformance.Tests.Suite;

/// <summary>The table of passed / failed / skipped cases per folder, and every failure and skip with its reason, as markdown.</summary>
internal static class ConformanceSummary
{
    public static string Markdown(IReadOnlyList<CaseResult> results, string onnxRuntimeVersion)
    {
        var text = new StringBuilder();
        text.AppendLine("# ONNX backend conformance through NativeEngine")
            .AppendLine()
            .AppendLine($"ONNX Runtime {onnxRuntimeVersion}, CPU execution provider; test data: {TestData.Root} (libonnx-testdata); " +
                $"tolerances {Tolerance.Default} (wider atol for the FFT cases, see Tolerance.For).")
            .AppendLine()
            .AppendLine("| folder | cases | passed | failed | skipped |")
            .AppendLine("|---|---:|---:|---:|---:|");

        foreach (var folder in TestData.Folders)
            Row(text, folder, results.Where(r => r.Case.Folder == folder).ToList());
        Row(text, "**total**", results);

        Section(text, "Failed", results.Where(r => r.Outcome == CaseOutcome.Failed));
        Section(text, "Skipped", results.Where(r => r.Outcome == CaseOutcome.Skipped));
        return text.ToString();
    }

    private static void Row(StringBuilder text, string folder, IReadOnlyList<CaseResult> results) =>
        text.AppendLine($"| {folder} | {results.Count} | {Count(results, CaseOutcome.Passed)} | {Count(results, CaseOutcome.Failed)} | {Count(results, CaseOutcome.Skipped)} |");

    private static int Count(IEnumerable<CaseResult> results, CaseOutcome outcome) => results.Count(r => r.Outcome == outcome);

    private static void Section(StringBuilder text, string title, IEnumerable<CaseResult> results)
    {
        var list = results.ToList();
        if (list.Count == 0)
            return;
        text.AppendLine().AppendLine($"## {title} ({list.Count})").AppendLine()
            .AppendLine("| case | reason |").AppendLine("|---|---|");
        foreach (var result in list)
            text.AppendLine($"| {result.Case.Id} | {Cell(result.Detail)} |");
    }

    // ORT's messages span lines and name absolute paths; a table cell needs one line.
    private static string Cell(string detail) =>
        detail.Replace(TestData.Root, "…", StringComparison.Ordinal).Replace("|", "\\|", StringComparison.Ordinal)
            .ReplaceLineEndings(" ").Trim();
}
