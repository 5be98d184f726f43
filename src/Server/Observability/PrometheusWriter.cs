using System.Globalization;
using System.Text;
using HighPerfInference.Server.Scheduling;

namespace HighPerfInference.Server.Observability;

/// <summary>
/// Writes the Prometheus text exposition format, version 0.0.4: for each metric family one
/// "# HELP" and one "# TYPE" line, then its samples <c>name{label="value",...} number</c>.
/// Label values are escaped (backslash, double quote, newline); numbers use the invariant culture
/// and "NaN", "+Inf", "-Inf".
/// </summary>
public sealed class PrometheusWriter
{
    public const string ContentType = "text/plain; version=0.0.4; charset=utf-8";

    private readonly StringBuilder _text = new(4096);
    private readonly HashSet<string> _families = new(StringComparer.Ordinal);

    /// <summary>Starts a metric family. Each family is written once, with all its samples after it.</summary>
    public PrometheusWriter Family(string name, MetricType type, string help)
    {
        if (!_families.Add(name))
            throw new InvalidOperationException($"Metric family {name} is written twice.");
        _text.Append("# HELP ").Append(name).Append(' ');
        foreach (var c in help)
        {
            _ = c switch
            {
                '\\' => _text.Append(@"\\"),
                '\n' => _text.Append(@"\n"),
                _ => _text.Append(c),
            };
        }
        _text.Append('\n');
        _text.Append("# TYPE ").Append(name).Append(' ').Append(type switch
        {
            MetricType.Counter => "counter",
            MetricType.Gauge => "gauge",
            MetricType.Histogram => "histogram",
            _ => "untyped",
        }).Append('\n');
        return this;
    }

    /// <summary>A sample without labels.</summary>
    public PrometheusWriter Sample(string name, double value) => Sample(name, [], value);

    /// <summary>A sample with labels, given as name/value pairs.</summary>
    public PrometheusWriter Sample(string name, ReadOnlySpan<(string Name, string Value)> labels, double value)
    {
        _text.Append(name);
        if (!labels.IsEmpty)
        {
            _text.Append('{');
            for (var i = 0; i < labels.Length; i++)
            {
                if (i > 0)
                    _text.Append(',');
                _text.Append(labels[i].Name).Append("=\"");
                foreach (var c in labels[i].Value)
                {
                    _ = c switch
                    {
                        '\\' => _text.Append(@"\\"),
                        '"' => _text.Append("\\\""),
                        '\n' => _text.Append(@"\n"),
                        _ => _text.Append(c),
                    };
                }
                _text.Append('"');
            }
            _text.Append('}');
        }
        _text.Append(' ').Append(Format(value)).Append('\n');
        return this;
    }

    /// <summary>
    /// The samples of one histogram: a cumulative <c>_bucket</c> per bound with its <c>le</c> label
    /// (then "+Inf"), <c>_sum</c> in seconds and <c>_count</c>, each with <paramref name="labels"/>.
    /// </summary>
    public PrometheusWriter Histogram(string name, ReadOnlySpan<(string Name, string Value)> labels, DurationHistogramSnapshot histogram)
    {
        var bucketLabels = new (string Name, string Value)[labels.Length + 1];
        labels.CopyTo(bucketLabels);
        long cumulative = 0;
        for (var b = 0; b < histogram.Counts.Count; b++)
        {
            cumulative += histogram.Counts[b];
            var bound = b < histogram.Bounds.Count ? histogram.Bounds[b].ToString("R", CultureInfo.InvariantCulture) : "+Inf";
            bucketLabels[^1] = ("le", bound);
            Sample(name + "_bucket", bucketLabels, cumulative);
        }
        Sample(name + "_sum", labels, histogram.SumSeconds);
        return Sample(name + "_count", labels, cumulative);
    }

    public override string ToString() => _text.ToString();

    private static string Format(double value) => value switch
    {
        double.PositiveInfinity => "+Inf",
        double.NegativeInfinity => "-Inf",
        _ when double.IsNaN(value) => "NaN",
        _ => value.ToString("R", CultureInfo.InvariantCulture),
    };
}

public enum MetricType
{
    Counter,
    Gauge,
    Histogram,
}

/// <summary>
/// A part of the server with metrics to expose: every registered source writes its families into
/// GET /metrics. Register with services.AddSingleton&lt;IMetricsSource, T&gt;().
/// </summary>
public interface IMetricsSource
{
    void Write(PrometheusWriter writer);
}
