using System.Globalization;
using System.Text;
using System.Text.Json;
using HighPerfInference.LoadGen.Cli;
using HighPerfInference.LoadGen.Measurement;

namespace HighPerfInference.LoadGen.Reporting;

/// <summary>wrk's own figures for one run, as perf/LoadGen/wrk/report.lua writes them.</summary>
public sealed record WrkResult(double RequestsPerSecond, double P50Us, double P99Us, long Requests, long Errors, int Connections, double DurationSeconds);

/// <summary>
/// <c>loadgen report</c>: the suite's markdown. Per model, every measured configuration side by side
/// with its ratio to the limit (the best in-process items/s) and to the naive baseline; the echo
/// ceiling; and the wrk cross-check of the HTTP JSON figure.
/// </summary>
public static class BenchReport
{
    public const string Usage = """
        loadgen report --results DIR --out FILE [options]   the suite's markdown report from run JSON files
          --command TEXT                           the command that produced the results
          --machine FILE                           "key: value" lines describing the machine
          --wrk FILE --wrk-compare FILE            wrk's JSON (perf/LoadGen/wrk/report.lua) and the loadgen
                                                   JSON of the same load, to show they agree; repeat both
                                                   for alternating runs, whose means are compared
          --tolerance 0.15                         the agreement asked of wrk and loadgen
        """;

    public static async Task<int> RunAsync(IReadOnlyList<string> args)
    {
        var reader = ArgumentReader.Parse(args, ["results", "out", "command", "machine", "wrk", "wrk-compare", "tolerance"], []);
        var directory = reader.Required("results");
        if (!Directory.Exists(directory))
            throw new UsageException($"--results '{directory}' is not a folder");
        var results = new List<StepResult>();
        var files = Directory.GetFiles(directory, "*.json");
        Array.Sort(files, StringComparer.Ordinal);
        foreach (var file in files)
        {
            if (TryReadRun(file) is { } run)
                results.AddRange(run.Results);
        }
        var machine = reader.String("machine") is { } machinePath ? await File.ReadAllLinesAsync(machinePath).ConfigureAwait(false) : [];
        WrkComparison? wrk = null;
        if (reader.All("wrk").Count > 0)
        {
            var wrkRuns = new List<WrkResult>();
            foreach (var path in reader.All("wrk"))
                wrkRuns.Add(ReadWrk(await File.ReadAllTextAsync(path).ConfigureAwait(false)));
            var loadgenRuns = new List<StepResult>();
            foreach (var path in reader.All("wrk-compare"))
                loadgenRuns.Add(TryReadRun(path)?.Results is [var first, ..] ? first : throw new UsageException($"--wrk-compare '{path}' holds no result"));
            if (loadgenRuns.Count == 0)
                throw new UsageException("--wrk needs --wrk-compare: the load generator's run at the same load");
            wrk = new WrkComparison(wrkRuns, loadgenRuns, reader.Double("tolerance", 0.15, min: 0));
        }
        var markdown = Write(results, reader.String("command", "scripts/bench")!, machine, wrk, DateTimeOffset.UtcNow);
        var output = reader.Required("out");
        if (Path.GetDirectoryName(Path.GetFullPath(output)) is { } folder)
            Directory.CreateDirectory(folder);
        await File.WriteAllTextAsync(output, markdown).ConfigureAwait(false);
        await Console.Out.WriteLineAsync($"report: {output} ({results.Count} results)").ConfigureAwait(false);
        return wrk is { Agrees: false } ? 1 : 0;
    }

    /// <summary>
    /// wrk against loadgen at the same load: mean requests/s within <see cref="Tolerance"/> of each
    /// other. Runs alternate (loadgen, wrk, loadgen, wrk), so a machine whose speed drifts affects both.
    /// </summary>
    public sealed record WrkComparison(IReadOnlyList<WrkResult> Wrk, IReadOnlyList<StepResult> LoadGen, double Tolerance)
    {
        public double WrkMean => Mean(Wrk, w => w.RequestsPerSecond);

        public double LoadGenMean => Mean(LoadGen, r => r.RequestsPerSecond);

        public double Difference => WrkMean > 0 ? (LoadGenMean - WrkMean) / WrkMean : double.NaN;

        public bool Agrees => Math.Abs(Difference) <= Tolerance;

        private static double Mean<T>(IReadOnlyList<T> runs, Func<T, double> value)
        {
            var sum = 0.0;
            foreach (var run in runs)
                sum += value(run);
            return runs.Count > 0 ? sum / runs.Count : 0;
        }
    }

    public static string Write(IReadOnlyList<StepResult> results, string command, IReadOnlyList<string> machine, WrkComparison? wrk, DateTimeOffset when)
    {
        var md = new StringBuilder();
        md.Append("# Benchmark suite\n\n");
        md.Append(Invariant($"Produced {when:yyyy-MM-dd HH:mm} UTC by:\n\n```\n{command}\n```\n\n"));
        if (machine.Count > 0)
        {
            md.Append("## Machine\n\n");
            foreach (var line in machine)
            {
                if (!string.IsNullOrWhiteSpace(line))
                    md.Append("- ").Append(line.Trim()).Append('\n');
            }
            md.Append('\n');
        }

        md.Append("## Results\n\n");
        md.Append("Throughput in items/s (batch rows; one per request unless the batch says otherwise); latency in microseconds, ");
        md.Append("measured by the load generator from send to answer. *× limit*: items/s over the best in-process ONNX Runtime ");
        md.Append("figure for the model; *× baseline*: over the naive ASP.NET Core server's. *srv queue / compute / CPU*: the ");
        md.Append("server's own /metrics per request (nv_inference_queue_duration_us, nv_inference_compute_*_duration_us), ");
        md.Append("and its process CPU time per request (process_cpu_seconds_total), all in microseconds. *srv p99 / run p50 / run p99*: ");
        md.Append("from the server's histograms, the 99th percentile of its own receipt-to-answer time (hpi_model_request_duration_seconds) ");
        md.Append("and the median and 99th percentile of one model run, a whole batch (hpi_model_run_duration_seconds), in microseconds.\n\n");
        var models = new List<string>();
        foreach (var result in results)
        {
            if (result.Target != StepTargets.Echo && !models.Contains(result.Model))
                models.Add(result.Model);
        }
        foreach (var model in models)
        {
            md.Append("### ").Append(model).Append("\n\n");
            var rows = new List<StepResult>();
            foreach (var target in (string[])[StepTargets.InProcess, StepTargets.Server, StepTargets.Baseline])
            {
                foreach (var result in results)
                {
                    if (result.Model == model && result.Target == target)
                        rows.Add(result);
                }
            }
            var limit = Best(rows, StepTargets.InProcess);
            var baseline = Best(rows, StepTargets.Baseline);
            md.Append("| configuration | load | items/s | p50 | p90 | p99 | p99.9 | max | errors | × limit | × baseline | srv queue / compute / CPU | srv p99 / run p50 / run p99 |\n");
            md.Append("|---|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|\n");
            foreach (var r in rows)
            {
                md.Append(Invariant($"| {r.Label} | {ResultTable.Load(r)} | {ResultTable.Fixed(r.ItemsPerSecond, 0)} | "));
                md.Append(Invariant($"{ResultTable.Fixed(r.Latency.P50, 1)} | {ResultTable.Fixed(r.Latency.P90, 1)} | {ResultTable.Fixed(r.Latency.P99, 1)} | "));
                md.Append(Invariant($"{ResultTable.Fixed(r.Latency.P999, 1)} | {ResultTable.Fixed(r.Latency.Max, 1)} | {ResultTable.Errors(r)} | "));
                md.Append(Ratio(r.ItemsPerSecond, limit)).Append(" | ").Append(Ratio(r.ItemsPerSecond, baseline)).Append(" | ");
                md.Append(r.Server is { } s
                    ? $"{ResultTable.Fixed(s.QueueUs, 1)} / {ResultTable.Fixed(s.ComputeUs, 1)} / {ResultTable.Fixed(s.CpuUsPerRequest, 1)} | " +
                      $"{ResultTable.Fixed(s.RequestP99Us, 0)} / {ResultTable.Fixed(s.RunP50Us, 0)} / {ResultTable.Fixed(s.RunP99Us, 0)}"
                    : "- | -").Append(" |\n");
            }
            md.Append('\n');
        }

        var echo = new List<StepResult>();
        foreach (var result in results)
        {
            if (result.Target == StepTargets.Echo)
                echo.Add(result);
        }
        if (echo.Count > 0)
        {
            md.Append("## The load generator's own ceiling\n\n");
            md.Append("The binary protocol against `loadgen echo-server`, which answers every request with a fixed response and runs nothing: ");
            md.Append("what the generator (and the transport) can do at most on this machine.\n\n");
            md.Append("| configuration | load | requests/s | p50 | p99 | p99.9 | errors |\n|---|---|--:|--:|--:|--:|--:|\n");
            foreach (var r in echo)
            {
                md.Append(Invariant($"| {r.Label} | {ResultTable.Load(r)} | {ResultTable.Fixed(r.RequestsPerSecond, 0)} | {ResultTable.Fixed(r.Latency.P50, 1)} | "));
                md.Append(Invariant($"{ResultTable.Fixed(r.Latency.P99, 1)} | {ResultTable.Fixed(r.Latency.P999, 1)} | {ResultTable.Errors(r)} |\n"));
            }
            md.Append('\n');
        }

        if (wrk is not null)
        {
            md.Append("## wrk cross-check (HTTP JSON)\n\n");
            md.Append("wrk (Debian) and the load generator against the same endpoint, same body, same connections, ");
            md.Append("runs alternating:\n\n");
            md.Append("| run | tool | connections | requests/s | p50 | p99 | errors |\n|---|---|--:|--:|--:|--:|--:|\n");
            for (var i = 0; i < Math.Max(wrk.Wrk.Count, wrk.LoadGen.Count); i++)
            {
                if (i < wrk.LoadGen.Count && wrk.LoadGen[i] is var l)
                {
                    md.Append(Invariant($"| {i + 1} | loadgen | {l.Connections} | {ResultTable.Fixed(l.RequestsPerSecond, 0)} | {ResultTable.Fixed(l.Latency.P50, 1)} | "));
                    md.Append(Invariant($"{ResultTable.Fixed(l.Latency.P99, 1)} | {l.Errors} |\n"));
                }
                if (i < wrk.Wrk.Count && wrk.Wrk[i] is var w)
                {
                    md.Append(Invariant($"| {i + 1} | wrk | {w.Connections} | {ResultTable.Fixed(w.RequestsPerSecond, 0)} | {ResultTable.Fixed(w.P50Us, 1)} | "));
                    md.Append(Invariant($"{ResultTable.Fixed(w.P99Us, 1)} | {w.Errors} |\n"));
                }
            }
            md.Append(Invariant($"\nMeans: loadgen {ResultTable.Fixed(wrk.LoadGenMean, 0)}, wrk {ResultTable.Fixed(wrk.WrkMean, 0)} requests/s. "));
            md.Append(Invariant($"The load generator measured {wrk.Difference:+0.0%;-0.0%} against wrk: "));
            md.Append(wrk.Agrees ? Invariant($"they agree within {wrk.Tolerance:0%}.\n") : Invariant($"**they do not agree within {wrk.Tolerance:0%}**.\n"));
        }
        return md.ToString();
    }

    /// <summary>Reads wrk's JSON summary (see perf/LoadGen/wrk/report.lua).</summary>
    public static WrkResult ReadWrk(string json)
    {
        using var document = JsonDocument.Parse(json);
        var root = document.RootElement;
        return new WrkResult(
            root.GetProperty("requests_per_s").GetDouble(),
            root.GetProperty("p50_us").GetDouble(),
            root.GetProperty("p99_us").GetDouble(),
            root.GetProperty("requests").GetInt64(),
            root.GetProperty("errors").GetInt64(),
            root.GetProperty("connections").GetInt32(),
            root.GetProperty("duration_s").GetDouble());
    }

    private static RunDocument? TryReadRun(string path)
    {
        try
        {
            return ResultFiles.FromJson(File.ReadAllText(path));
        }
        catch (JsonException)
        {
            return null;   // not a run document (wrk's summary, say)
        }
    }

    private static double Best(List<StepResult> rows, string target)
    {
        var best = 0.0;
        foreach (var row in rows)
        {
            if (row.Target == target)
                best = Math.Max(best, row.ItemsPerSecond);
        }
        return best;
    }

    private static string Ratio(double value, double reference) =>
        reference > 0 ? (value / reference).ToString("0.00", CultureInfo.InvariantCulture) + "×" : "-";

    private static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}
