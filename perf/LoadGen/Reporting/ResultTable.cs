using System.Globalization;
using System.Text;
using HighPerfInference.LoadGen.Measurement;

namespace HighPerfInference.LoadGen.Reporting;

/// <summary>The human-readable result: one aligned row per step, latencies in microseconds.</summary>
public static class ResultTable
{
    public static string Format(IReadOnlyList<StepResult> results)
    {
        string[] header = ["label", "load", "req/s", "items/s", "p50", "p90", "p95", "p99", "p99.9", "max", "errors", "srv queue", "srv compute", "srv batch", "srv cpu", "srv p99", "run p50", "run p99"];
        var rows = new List<string[]> { header };
        foreach (var r in results)
        {
            rows.Add(
            [
                r.Label,
                Load(r),
                Fixed(r.RequestsPerSecond, 0),
                Fixed(r.ItemsPerSecond, 0),
                Fixed(r.Latency.P50, 1),
                Fixed(r.Latency.P90, 1),
                Fixed(r.Latency.P95, 1),
                Fixed(r.Latency.P99, 1),
                Fixed(r.Latency.P999, 1),
                Fixed(r.Latency.Max, 1),
                Errors(r),
                Fixed(r.Server?.QueueUs, 1),
                Fixed(r.Server?.ComputeUs, 1),
                Fixed(r.Server?.AverageBatch, 2),
                Fixed(r.Server?.CpuUsPerRequest, 1),
                Fixed(r.Server?.RequestP99Us, 0),
                Fixed(r.Server?.RunP50Us, 0),
                Fixed(r.Server?.RunP99Us, 0),
            ]);
        }
        var widths = new int[header.Length];
        foreach (var row in rows)
        {
            for (var i = 0; i < row.Length; i++)
                widths[i] = Math.Max(widths[i], row[i].Length);
        }
        var text = new StringBuilder();
        foreach (var row in rows)
        {
            for (var i = 0; i < row.Length; i++)
            {
                if (i > 0)
                    text.Append("  ");
                // Text columns left, numbers right.
                text.Append(i < 2 ? row[i].PadRight(widths[i]) : row[i].PadLeft(widths[i]));
            }
            text.Append('\n');
        }
        text.Append("latencies in microseconds; srv = the server's own /metrics per request (µs; cpu = process CPU µs per request; ")
            .Append("p99 = its receipt-to-answer p99; run = one model run, a whole batch)\n");
        return text.ToString();
    }

    /// <summary>"c=64 (4 conn)", "5000/s poisson (4 conn)", "b=8 t=2".</summary>
    public static string Load(StepResult r)
    {
        var load = r.Threads is { } threads
            ? $"b={r.BatchSize} t={threads} callers={r.Concurrency}"
            : r.RequestRate > 0
                ? string.Create(CultureInfo.InvariantCulture, $"{r.RequestRate:0.#}/s")
                : $"c={r.Concurrency}";
        return r.Threads is null ? $"{load} ({r.Connections} conn)" : load;
    }

    public static string Errors(StepResult r)
    {
        if (r.Errors == 0)
            return "0";
        var text = new StringBuilder().Append(r.Errors.ToString(CultureInfo.InvariantCulture)).Append(" (");
        var first = true;
        foreach (var (code, count) in r.ErrorsByCode)
        {
            text.Append(first ? "" : ", ").Append(code).Append(' ').Append(count.ToString(CultureInfo.InvariantCulture));
            first = false;
        }
        return text.Append(')').ToString();
    }

    public static string Fixed(double? value, int decimals) =>
        value is { } v && double.IsFinite(v) ? v.ToString("N" + decimals.ToString(CultureInfo.InvariantCulture), CultureInfo.InvariantCulture) : "-";
}
