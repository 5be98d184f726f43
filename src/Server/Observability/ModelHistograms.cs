using System.Diagnostics;
using HighPerfInference.Server.Scheduling;
using Prometheus;

namespace HighPerfInference.Server.Observability;

/// <summary>
/// The per-model duration histograms, fed by the scheduler as requests and batches finish: each model version
/// gets its label children bound once, at load (<see cref="ForVersion"/>), so recording is two lock-free adds.
/// </summary>
public sealed class ModelHistograms : IDurationObservers
{
    private readonly Histogram _requests;
    private readonly Histogram _runs;

    public ModelHistograms(IMetricFactory metrics)
    {
        _requests = metrics.CreateHistogram("hpi_model_request_duration_seconds",
            "End-to-end time of each successful request (submit to answer); nv_inference_request_duration_us is its sum",
            new HistogramConfiguration { LabelNames = ["model", "version"], Buckets = DurationBuckets.Seconds });
        _runs = metrics.CreateHistogram("hpi_model_run_duration_seconds",
            "Time of each model run, one per batch; nv_inference_compute_infer_duration_us is its sum",
            new HistogramConfiguration { LabelNames = ["model", "version"], Buckets = DurationBuckets.Seconds });
    }

    public IDurationObserver ForVersion(string model, string version) => new Observer(_requests.WithLabels(model, version), _runs.WithLabels(model, version));

    /// <summary>Drops the series of a version no longer loaded.</summary>
    internal void Remove(string model, string version)
    {
        _requests.RemoveLabelled(model, version);
        _runs.RemoveLabelled(model, version);
    }

    private sealed class Observer(Histogram.Child requests, Histogram.Child runs) : IDurationObserver
    {
        public void RequestSucceeded(long ticks) => requests.Observe((double)ticks / Stopwatch.Frequency);

        public void BatchRan(long ticks) => runs.Observe((double)ticks / Stopwatch.Frequency);
    }
}
