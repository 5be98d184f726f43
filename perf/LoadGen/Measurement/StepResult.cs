using HighPerfInference.LoadGen.ServerMetrics;

namespace HighPerfInference.LoadGen.Measurement;

/// <summary>Latency percentiles of one step, in microseconds.</summary>
public sealed record LatencySummary(double P50, double P90, double P95, double P99, double P999, double Max, double Mean)
{
    public static LatencySummary From(LatencyHistogram histogram)
    {
        static double Us(long nanoseconds) => nanoseconds / 1000.0;
        return new LatencySummary(
            Us(histogram.ValueAtPercentile(50)),
            Us(histogram.ValueAtPercentile(90)),
            Us(histogram.ValueAtPercentile(95)),
            Us(histogram.ValueAtPercentile(99)),
            Us(histogram.ValueAtPercentile(99.9)),
            Us(histogram.Max),
            histogram.Mean / 1000.0);
    }
}

/// <summary>
/// One measured step: a concurrency or request rate held for the measurement window. Throughput counts
/// successful answers per second; items multiply by the batch each request carries.
/// </summary>
public sealed record StepResult
{
    public required string Label { get; init; }
    /// <summary>What was measured: one of <see cref="StepTargets"/>; the suite report compares by it.</summary>
    public string Target { get; init; } = StepTargets.Server;
    public required string Protocol { get; init; }
    public required string Model { get; init; }
    public required int Concurrency { get; init; }
    public required int Connections { get; init; }
    /// <summary>Open-loop target rate in requests/s; 0 for a closed loop.</summary>
    public double RequestRate { get; init; }
    /// <summary>Items (batch rows) per request.</summary>
    public int BatchSize { get; init; } = 1;
    /// <summary>For in-process runs: ORT intra-op threads.</summary>
    public int? Threads { get; init; }
    public required double DurationSeconds { get; init; }
    public required long Requests { get; init; }
    public required long Errors { get; init; }
    public required IReadOnlyDictionary<string, long> ErrorsByCode { get; init; }
    public required LatencySummary Latency { get; init; }
    /// <summary>Open loop: how late requests left against the schedule (p99, microseconds): waiting for a free slot, or a generator that cannot keep the pace.</summary>
    public double? SendLagP99Us { get; init; }
    public ServerSplit? Server { get; init; }
    /// <summary>
    /// Bytes the generator's whole process allocated during the window, per answer: its own cost,
    /// shown so that the claim "nothing allocated per request" is checked by every run (the progress
    /// line's few strings a second stay in it).
    /// </summary>
    public double? GeneratorBytesPerRequest { get; init; }

    public double RequestsPerSecond => DurationSeconds > 0 ? Requests / DurationSeconds : 0;

    public double ItemsPerSecond => RequestsPerSecond * BatchSize;

    public double ErrorRate => Requests + Errors > 0 ? (double)Errors / (Requests + Errors) : 0;
}

/// <summary>What a step measured.</summary>
public static class StepTargets
{
    /// <summary>ONNX Runtime in the generator's own process: the limit.</summary>
    public const string InProcess = "in-process";
    /// <summary>The project's server.</summary>
    public const string Server = "server";
    /// <summary>The naive ASP.NET Core server (perf/Baseline): the bar to beat.</summary>
    public const string Baseline = "baseline";
    /// <summary>The no-op echo server: the generator's and the transport's own ceiling.</summary>
    public const string Echo = "echo";

    public static bool IsKnown(string target) => target is InProcess or Server or Baseline or Echo;
}
