using HighPerfInference.LoadGen.Measurement;
using HighPerfInference.LoadGen.Reporting;
using HighPerfInference.LoadGen.ServerMetrics;

namespace HighPerfInference.LoadGen.Tests;

public class ReportTests
{
    private static StepResult Result(string label, string target, string model, double requestsPerSecond, int batch = 1, long errors = 0) => new()
    {
        Label = label,
        Target = target,
        Protocol = target == StepTargets.InProcess ? "in-process" : "binary",
        Model = model,
        Concurrency = 64,
        Connections = target == StepTargets.InProcess ? 0 : 4,
        BatchSize = batch,
        Threads = target == StepTargets.InProcess ? 1 : null,
        DurationSeconds = 2,
        Requests = (long)(requestsPerSecond * 2),
        Errors = errors,
        ErrorsByCode = errors == 0 ? new Dictionary<string, long>() : new Dictionary<string, long> { ["OVERLOADED"] = errors },
        Latency = new LatencySummary(50, 90, 95, 99, 99.9, 1000, 55),
        Server = target == StepTargets.Server ? new ServerSplit { QueueUs = 12.5, ComputeUs = 30, Inferences = 100, Executions = 10, CpuUsPerRequest = 41.26, RequestP99Us = 812.4, RunP50Us = 390.2, RunP99Us = 486.7 } : null,
    };

    [Fact]
    public void The_table_aligns_one_row_per_step_with_errors_by_code()
    {
        var table = ResultTable.Format([Result("add_sub binary", StepTargets.Server, "add_sub", 400_000, errors: 3)]);
        var lines = table.Split('\n');
        Assert.StartsWith("label", lines[0], StringComparison.Ordinal);
        Assert.Equal(lines[0].Length, lines[1].Length);
        Assert.Contains("c=64 (4 conn)", lines[1], StringComparison.Ordinal);
        Assert.Contains("400,000", lines[1], StringComparison.Ordinal);
        Assert.Contains("3 (OVERLOADED 3)", lines[1], StringComparison.Ordinal);
        Assert.Contains("12.5", lines[1], StringComparison.Ordinal);
        Assert.Contains("10.00", lines[1], StringComparison.Ordinal);   // average batch 100 / 10
        Assert.Contains("41.3", lines[1], StringComparison.Ordinal);
        // Server p99, run p50 and run p99 close the row, in whole µs.
        Assert.Equal(["812", "390", "487"], lines[1].Split(' ', StringSplitOptions.RemoveEmptyEntries)[^3..]);
    }

    [Fact]
    public void Csv_has_a_header_and_one_quoted_row_per_step()
    {
        var csv = ResultFiles.ToCsv([Result("mlp, batched", StepTargets.Server, "mlp", 1000), Result("plain", StepTargets.Baseline, "mlp", 10, errors: 2)]);
        var lines = csv.TrimEnd('\n').Split('\n');
        Assert.Equal(3, lines.Length);
        Assert.Equal(ResultFiles.CsvHeader, lines[0]);
        Assert.StartsWith("\"mlp, batched\",binary,mlp,64,4,0,1,,2,2000,0,1000,1000,50,90,95,99,99.9,1000,55,,12.5,30,,,10,41.26,", lines[1], StringComparison.Ordinal);
        Assert.EndsWith(",OVERLOADED=2", lines[2], StringComparison.Ordinal);
        Assert.Equal(ResultFiles.CsvHeader.Split(',').Length, lines[2].Split(',').Length);
    }

    [Fact]
    public void Json_round_trips_the_results()
    {
        var document = new RunDocument("loadgen run --model mlp", DateTimeOffset.UnixEpoch, [Result("mlp", StepTargets.Server, "mlp", 1234.5, errors: 1)]);
        var back = ResultFiles.FromJson(ResultFiles.ToJson(document));
        Assert.Equal(document.Command, back.Command);
        var result = Assert.Single(back.Results);
        Assert.Equal(document.Results[0].Requests, result.Requests);
        Assert.Equal(document.Results[0].Latency, result.Latency);
        Assert.Equal(1, result.ErrorsByCode["OVERLOADED"]);
        Assert.Equal(12.5, result.Server!.QueueUs);
        Assert.Equal(1234.5, result.RequestsPerSecond);
        Assert.Contains("\"requestsPerSecond\": 1234.5", ResultFiles.ToJson(document), StringComparison.Ordinal);
    }

    [Fact]
    public void The_suite_report_gives_ratios_to_the_limit_and_to_the_baseline()
    {
        StepResult[] results =
        [
            Result("in-process b=1", StepTargets.InProcess, "mlp", 20_000),
            Result("in-process b=32", StepTargets.InProcess, "mlp", 5_000, batch: 32),     // 160,000 items/s: the limit
            Result("server binary", StepTargets.Server, "mlp", 80_000),
            Result("baseline", StepTargets.Baseline, "mlp", 8_000),
            Result("echo 4x64", StepTargets.Echo, "add_sub", 1_200_000),
        ];
        var wrk = new BenchReport.WrkComparison(
            [new WrkResult(10_000, 900, 3000, 100_000, 0, 64, 10), new WrkResult(12_000, 800, 2500, 120_000, 0, 64, 10)],
            [Result("loadgen http", StepTargets.Server, "add_sub", 9_000), Result("loadgen http", StepTargets.Server, "add_sub", 10_800)], 0.15);
        var markdown = BenchReport.Write(results, "scripts/bench --quick", ["CPU: test", "cores: 2"], wrk, DateTimeOffset.UnixEpoch);

        Assert.Contains("```\nscripts/bench --quick\n```", markdown, StringComparison.Ordinal);
        Assert.Contains("- cores: 2\n", markdown, StringComparison.Ordinal);
        var mlp = markdown[markdown.IndexOf("### mlp", StringComparison.Ordinal)..markdown.IndexOf("## The load generator", StringComparison.Ordinal)];
        Assert.Contains("| server binary | c=64 (4 conn) | 80,000 | ", mlp, StringComparison.Ordinal);
        Assert.Contains("| 0.50× | 10.00× | 12.5 / 30.0 / 41.3 | 812 / 390 / 487 |", mlp, StringComparison.Ordinal);      // 80k of the 160k limit, 10x the baseline
        Assert.Contains("| in-process b=32 | b=32 t=1 callers=64 | 160,000 | ", mlp, StringComparison.Ordinal);
        Assert.DoesNotContain("echo", mlp, StringComparison.Ordinal);
        Assert.Contains("| echo 4x64 | c=64 (4 conn) | 1,200,000 |", markdown, StringComparison.Ordinal);
        Assert.Contains("| 2 | wrk | 64 | 12,000 | 800.0 | 2,500.0 | 0 |", markdown, StringComparison.Ordinal);
        Assert.Contains("Means: loadgen 9,900, wrk 11,000 requests/s.", markdown, StringComparison.Ordinal);
        Assert.Contains("measured -10.0% against wrk: they agree within 15%.", markdown, StringComparison.Ordinal);
    }

    [Fact]
    public void A_disagreement_with_wrk_is_called_out()
    {
        var wrk = new BenchReport.WrkComparison([new WrkResult(10_000, 900, 3000, 100_000, 0, 64, 10)], [Result("loadgen http", StepTargets.Server, "add_sub", 7_000)], 0.15);
        Assert.False(wrk.Agrees);
        Assert.Contains("**they do not agree within 15%**", BenchReport.Write([], "x", [], wrk, DateTimeOffset.UnixEpoch), StringComparison.Ordinal);
    }

    [Fact]
    public void Wrk_json_from_the_lua_script_is_read()
    {
        var wrk = BenchReport.ReadWrk("""{"requests_per_s": 41000.5, "p50_us": 1200, "p99_us": 4100, "requests": 410005, "errors": 3, "connections": 64, "duration_s": 10.0}""");
        Assert.Equal(new WrkResult(41000.5, 1200, 4100, 410005, 3, 64, 10), wrk);
    }
}
