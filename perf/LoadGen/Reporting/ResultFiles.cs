using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using HighPerfInference.LoadGen.Measurement;
using HighPerfInference.LoadGen.ServerMetrics;

namespace HighPerfInference.LoadGen.Reporting;

/// <summary>What a run writes with --json: the command that produced it and one entry per step.</summary>
public sealed record RunDocument(string Command, DateTimeOffset StartedUtc, IReadOnlyList<StepResult> Results);

[JsonSourceGenerationOptions(WriteIndented = true, PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase,
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(RunDocument))]
internal sealed partial class ResultJsonContext : JsonSerializerContext;

/// <summary>The machine-readable outputs: JSON (read back by <c>loadgen report</c>) and CSV (one row per step).</summary>
public static class ResultFiles
{
    public static string ToJson(RunDocument document) => JsonSerializer.Serialize(document, ResultJsonContext.Default.RunDocument);

    public static RunDocument FromJson(string json) =>
        JsonSerializer.Deserialize(json, ResultJsonContext.Default.RunDocument) ?? throw new FormatException("empty result document");

    public const string CsvHeader =
        "label,protocol,model,concurrency,connections,request_rate,batch_size,threads,duration_s,requests,errors,requests_per_s,items_per_s," +
        "p50_us,p90_us,p95_us,p99_us,p999_us,max_us,mean_us,send_lag_p99_us,server_queue_us,server_compute_us,server_infer_us," +
        "server_request_us,server_avg_batch,server_cpu_us_per_request,server_request_p99_us,server_run_p50_us,server_run_p99_us," +
        "generator_bytes_per_request,errors_by_code";

    public static string ToCsv(IEnumerable<StepResult> results)
    {
        var csv = new StringBuilder().Append(CsvHeader).Append('\n');
        foreach (var r in results)
        {
            var server = r.Server ?? new ServerSplit();
            var errors = new StringBuilder();
            foreach (var (code, count) in r.ErrorsByCode)
                errors.Append(errors.Length > 0 ? ";" : "").Append(code).Append('=').Append(count.ToString(CultureInfo.InvariantCulture));
            string?[] fields =
            [
                r.Label, r.Protocol, r.Model, Number(r.Concurrency), Number(r.Connections), Number(r.RequestRate), Number(r.BatchSize),
                Number(r.Threads), Number(r.DurationSeconds), Number(r.Requests), Number(r.Errors), Number(r.RequestsPerSecond),
                Number(r.ItemsPerSecond), Number(r.Latency.P50), Number(r.Latency.P90), Number(r.Latency.P95), Number(r.Latency.P99),
                Number(r.Latency.P999), Number(r.Latency.Max), Number(r.Latency.Mean), Number(r.SendLagP99Us), Number(server.QueueUs),
                Number(server.ComputeUs), Number(server.InferUs), Number(server.RequestUs), Number(server.AverageBatch),
                Number(server.CpuUsPerRequest), Number(server.RequestP99Us), Number(server.RunP50Us), Number(server.RunP99Us),
                Number(r.GeneratorBytesPerRequest), errors.ToString(),
            ];
            for (var i = 0; i < fields.Length; i++)
            {
                if (i > 0)
                    csv.Append(',');
                csv.Append(Quote(fields[i]));
            }
            csv.Append('\n');
        }
        return csv.ToString();
    }

    private static string Number(double? value) =>
        value is { } v && double.IsFinite(v) ? Math.Round(v, 3).ToString(CultureInfo.InvariantCulture) : "";

    /// <summary>RFC 4180: quote a field holding a comma, quote or line break; double its quotes.</summary>
    private static string Quote(string? field) =>
        field is null ? "" : field.AsSpan().IndexOfAny(",\"\n\r") < 0 ? field : $"\"{field.Replace("\"", "\"\"", StringComparison.Ordinal)}\"";
}
