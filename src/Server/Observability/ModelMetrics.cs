using HighPerfInference.Server.Models;
using HighPerfInference.Server.Scheduling;

namespace HighPerfInference.Server.Observability;

/// <summary>
/// Per-model metrics under the names Triton users already graph (nv_inference_*, labels model and
/// version), read from the repository's cumulative statistics; durations are cumulative
/// microseconds as in Triton. Also each model version's readiness.
/// </summary>
/// <remarks>
/// promtool's lint flags these names (counters without _total, the _us unit, the _count suffix):
/// they are Triton's, kept for compatibility. The format itself is valid and every hpi_ metric is
/// lint-clean.
/// </remarks>
internal sealed class ModelMetrics(IModelRepository repository) : IMetricsSource
{
    private static readonly (string Name, MetricType Type, string Help, Func<ModelStatistics, double> Value)[] s_families =
    [
        ("nv_inference_request_success", MetricType.Counter, "Number of successful inference requests", static s => s.SuccessCount),
        ("nv_inference_count", MetricType.Counter, "Number of inferences performed (a batch of N counts N)", static s => s.InferenceCount),
        ("nv_inference_exec_count", MetricType.Counter, "Number of model executions (batches) performed", static s => s.ExecutionCount),
        ("nv_inference_pending_request_count", MetricType.Gauge, "Number of requests queued and not yet running", static s => s.PendingCount),
        ("nv_inference_request_duration_us", MetricType.Counter, "Cumulative end-to-end duration of successful requests, in microseconds", static s => s.SuccessNs / 1000.0),
        ("nv_inference_queue_duration_us", MetricType.Counter, "Cumulative time requests spent queued, in microseconds", static s => s.QueueNs / 1000.0),
        ("nv_inference_compute_input_duration_us", MetricType.Counter, "Cumulative time batches spent preparing inputs, in microseconds", static s => s.ComputeInputNs / 1000.0),
        ("nv_inference_compute_infer_duration_us", MetricType.Counter, "Cumulative time batches spent in the model, in microseconds", static s => s.ComputeInferNs / 1000.0),
        ("nv_inference_compute_output_duration_us", MetricType.Counter, "Cumulative time batches spent handing back outputs, in microseconds", static s => s.ComputeOutputNs / 1000.0),
    ];

    /// <summary>The distributions behind two of those sums, as Prometheus histograms (lint-clean hpi_ names).</summary>
    private static readonly (string Name, string Help, Func<ModelStatistics, DurationHistogramSnapshot?> Value)[] s_histograms =
    [
        ("hpi_model_request_duration_seconds", "End-to-end time of each successful request (submit to answer); nv_inference_request_duration_us is its sum", static s => s.RequestDurations),
        ("hpi_model_run_duration_seconds", "Time of each model run, one per batch; nv_inference_compute_infer_duration_us is its sum", static s => s.RunDurations),
    ];

    /// <summary>Triton's failure reasons and the counters behind them.</summary>
    private static readonly (string Reason, Func<ModelStatistics, double> Value)[] s_failures =
    [
        ("REJECTED", static s => s.RejectedCount),
        ("CANCELED", static s => s.CancelledCount),
        ("BACKEND", static s => s.BackendFailureCount),
        ("OTHER", static s => s.OtherFailureCount),
    ];

    public void Write(PrometheusWriter writer)
    {
        var statistics = repository.GetStatistics();
        foreach (var (name, type, help, value) in s_families)
        {
            writer.Family(name, type, help);
            foreach (var s in statistics)
                writer.Sample(name, [("model", s.Name), ("version", s.Version)], value(s));
        }

        writer.Family("nv_inference_request_failure", MetricType.Counter, "Number of failed inference requests, by reason");
        foreach (var s in statistics)
        {
            foreach (var (reason, value) in s_failures)
                writer.Sample("nv_inference_request_failure", [("model", s.Name), ("reason", reason), ("version", s.Version)], value(s));
        }

        foreach (var (name, help, value) in s_histograms)
        {
            writer.Family(name, MetricType.Histogram, help);
            foreach (var s in statistics)
            {
                if (value(s) is { } histogram)
                    writer.Histogram(name, [("model", s.Name), ("version", s.Version)], histogram);
            }
        }

        writer.Family("hpi_model_ready", MetricType.Gauge, "1 when the model version is ready for inference, 0 otherwise");
        foreach (var entry in repository.GetIndex())
        {
            if (entry.Version is not null)
                writer.Sample("hpi_model_ready", [("model", entry.Name), ("version", entry.Version)], entry.State == ModelState.Ready ? 1 : 0);
        }
    }
}
