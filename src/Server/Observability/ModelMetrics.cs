using HighPerfInference.Server.Models;
using HighPerfInference.Server.Scheduling;
using Prometheus;

namespace HighPerfInference.Server.Observability;

/// <summary>
/// Per-model metrics under the names Triton users already graph (nv_inference_*, labels model and version),
/// brought up to date from the repository's cumulative statistics at each scrape; durations are cumulative
/// microseconds as in Triton. Also each model version's readiness. The series of a version that is no
/// longer loaded are removed, its histograms' too.
/// </summary>
/// <remarks>
/// promtool's lint flags these names (counters without _total, the _us unit, the _count suffix): they are
/// Triton's, kept for compatibility. The format itself is valid and every hpi_ metric is lint-clean.
/// </remarks>
internal sealed class ModelMetrics : IScrapedMetrics
{
    private static readonly (string Name, bool IsCounter, string Help, Func<ModelStatistics, double> Value)[] s_families =
    [
        ("nv_inference_request_success", true, "Number of successful inference requests", static s => s.SuccessCount),
        ("nv_inference_count", true, "Number of inferences performed (a batch of N counts N)", static s => s.InferenceCount),
        ("nv_inference_exec_count", true, "Number of model executions (batches) performed", static s => s.ExecutionCount),
        ("nv_inference_pending_request_count", false, "Number of requests queued and not yet running", static s => s.PendingCount),
        ("nv_inference_request_duration_us", true, "Cumulative end-to-end duration of successful requests, in microseconds", static s => s.SuccessNs / 1000.0),
        ("nv_inference_queue_duration_us", true, "Cumulative time requests spent queued, in microseconds", static s => s.QueueNs / 1000.0),
        ("nv_inference_compute_input_duration_us", true, "Cumulative time batches spent preparing inputs, in microseconds", static s => s.ComputeInputNs / 1000.0),
        ("nv_inference_compute_infer_duration_us", true, "Cumulative time batches spent in the model, in microseconds", static s => s.ComputeInferNs / 1000.0),
        ("nv_inference_compute_output_duration_us", true, "Cumulative time batches spent handing back outputs, in microseconds", static s => s.ComputeOutputNs / 1000.0),
    ];

    /// <summary>Triton's failure reasons and the counters behind them.</summary>
    private static readonly (string Reason, Func<ModelStatistics, double> Value)[] s_failures =
    [
        ("REJECTED", static s => s.RejectedCount),
        ("CANCELED", static s => s.CancelledCount),
        ("BACKEND", static s => s.BackendFailureCount),
        ("OTHER", static s => s.OtherFailureCount),
    ];

    private readonly IModelRepository _repository;
    private readonly ModelHistograms _histograms;
    private readonly Collector[] _families;
    private readonly Counter _failures;
    private readonly Gauge _ready;
    private readonly Lock _lock = new();
    private HashSet<(string Model, string Version)> _versions = [];
    private HashSet<(string Model, string Version)> _readiness = [];

    public ModelMetrics(IModelRepository repository, ModelHistograms histograms, IMetricFactory metrics)
    {
        _repository = repository;
        _histograms = histograms;
        var labels = new[] { "model", "version" };
        _families = Array.ConvertAll(s_families, f => f.IsCounter
            ? (Collector)metrics.CreateCounter(f.Name, f.Help, new CounterConfiguration { LabelNames = labels })
            : metrics.CreateGauge(f.Name, f.Help, new GaugeConfiguration { LabelNames = labels }));
        _failures = metrics.CreateCounter("nv_inference_request_failure", "Number of failed inference requests, by reason",
            new CounterConfiguration { LabelNames = ["model", "reason", "version"] });
        _ready = metrics.CreateGauge("hpi_model_ready", "1 when the model version is ready for inference, 0 otherwise",
            new GaugeConfiguration { LabelNames = labels });
    }

    public void Update()
    {
        lock (_lock) // two scrapes at once would race on the series sets
        {
            var versions = new HashSet<(string, string)>();
            foreach (var s in _repository.GetStatistics())
            {
                versions.Add((s.Name, s.Version));
                for (var f = 0; f < _families.Length; f++)
                {
                    var value = s_families[f].Value(s);
                    if (_families[f] is Counter counter)
                        SetCounter(counter, value, s.Name, s.Version);
                    else
                        ((Gauge)_families[f]).WithLabels(s.Name, s.Version).Set(value);
                }
                foreach (var (reason, value) in s_failures)
                    SetCounter(_failures, value(s), s.Name, reason, s.Version);
            }
            foreach (var (model, version) in _versions)
            {
                if (versions.Contains((model, version)))
                    continue;
                foreach (var family in _families)
                {
                    if (family is Counter counter)
                        counter.RemoveLabelled(model, version);
                    else
                        ((Gauge)family).RemoveLabelled(model, version);
                }
                foreach (var (reason, _) in s_failures)
                    _failures.RemoveLabelled(model, reason, version);
                _histograms.Remove(model, version);
            }
            _versions = versions;

            var readiness = new HashSet<(string, string)>();
            foreach (var entry in _repository.GetIndex())
            {
                if (entry.Version is null)
                    continue;
                readiness.Add((entry.Name, entry.Version));
                _ready.WithLabels(entry.Name, entry.Version).Set(entry.State == ModelState.Ready ? 1 : 0);
            }
            foreach (var (model, version) in _readiness)
            {
                if (!readiness.Contains((model, version)))
                    _ready.RemoveLabelled(model, version);
            }
            _readiness = readiness;
        }
    }

    /// <summary>Sets a counter series to a cumulative value; a value that went down (a version loaded again) starts the series anew, as a counter reset.</summary>
    private static void SetCounter(Counter counter, double value, params string[] labels)
    {
        var child = counter.WithLabels(labels);
        if (value < child.Value)
        {
            counter.RemoveLabelled(labels);
            child = counter.WithLabels(labels);
        }
        child.IncTo(value);
    }
}
