using HighPerfInference.LoadGen.ServerMetrics;

namespace HighPerfInference.LoadGen.Tests;

public class ServerMetricsTests
{
    private const string Before = """
        # HELP nv_inference_request_success Successful inference requests
        # TYPE nv_inference_request_success counter
        nv_inference_request_success{model="add_sub",version="1"} 1000
        nv_inference_request_success{model="mlp",version="1"} 7
        nv_inference_request_failure{model="add_sub",version="1",reason="OVERLOADED"} 3
        nv_inference_count{model="add_sub",version="1"} 1000
        nv_inference_exec_count{model="add_sub",version="1"} 100
        nv_inference_queue_duration_us{model="add_sub",version="1"} 50000
        nv_inference_compute_input_duration_us{model="add_sub",version="1"} 1000
        nv_inference_compute_infer_duration_us{model="add_sub",version="1"} 9000
        nv_inference_compute_output_duration_us{model="add_sub",version="1"} 2000
        nv_inference_request_duration_us{model="add_sub",version="1"} 80000
        process_cpu_seconds_total 10.5
        """;

    private const string After = """
        nv_inference_request_success{model="add_sub",version="1"} 3000 1700000000000
        nv_inference_request_success{model="mlp",version="1"} 9
        nv_inference_request_failure{model="add_sub",version="1",reason="OVERLOADED"} 5
        nv_inference_count{model="add_sub",version="1"} 3000
        nv_inference_exec_count{model="add_sub",version="1"} 150
        nv_inference_queue_duration_us{model="add_sub",version="1"} 90000
        nv_inference_compute_input_duration_us{model="add_sub",version="1"} 3000
        nv_inference_compute_infer_duration_us{model="add_sub",version="1"} 19000
        nv_inference_compute_output_duration_us{model="add_sub",version="1"} 4000
        nv_inference_request_duration_us{model="add_sub",version="1"} 160000
        process_cpu_seconds_total 11.5
        """;

    [Fact]
    public void The_text_format_parses_names_labels_values_and_skips_comments()
    {
        var samples = PrometheusText.Parse("""
            # HELP x anything
            plain 1

            labelled{a="1", b="with \"quotes\", \\ and\nbreak",} 2.5e3
            nan_value NaN
            inf_value{le="+Inf"} +Inf
            negative -Inf 12345
            """);
        Assert.Equal(5, samples.Count);
        Assert.Equal(("plain", 1.0), (samples[0].Name, samples[0].Value));
        Assert.Empty(samples[0].Labels);
        Assert.Equal(2500, samples[1].Value);
        Assert.Equal("1", samples[1].Labels["a"]);
        Assert.Equal("with \"quotes\", \\ and\nbreak", samples[1].Labels["b"]);
        Assert.True(double.IsNaN(samples[2].Value));
        Assert.Equal(double.PositiveInfinity, samples[3].Value);
        Assert.Equal("+Inf", samples[3].Labels["le"]);
        Assert.Equal(double.NegativeInfinity, samples[4].Value);
    }

    [Theory]
    [InlineData("name{a=1} 2")]
    [InlineData("name{a=\"1} 2")]
    [InlineData("name twelve")]
    public void Malformed_lines_are_reported_with_their_line_number(string line)
    {
        var error = Assert.Throws<FormatException>(() => PrometheusText.Parse("ok 1\n" + line));
        Assert.StartsWith("metrics line 2:", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void The_split_is_the_difference_per_request_for_one_model()
    {
        var split = ServerSplit.Between(PrometheusText.Parse(Before), PrometheusText.Parse(After), "add_sub", null);
        Assert.Equal(2000, split.Requests);
        Assert.Equal(2, split.Failures);
        Assert.Equal(40, split.AverageBatch);          // 2000 items in 50 executions
        Assert.Equal(20, split.QueueUs);               // 40,000 us over 2,000 requests
        Assert.Equal(7, split.ComputeUs);              // (2,000 + 10,000 + 2,000) / 2,000
        Assert.Equal(5, split.InferUs);
        Assert.Equal(40, split.RequestUs);
        Assert.Equal(500, split.CpuUsPerRequest);      // 1 CPU second over 2,000 requests
    }

    [Fact]
    public void Percentiles_come_from_the_histogram_counted_during_the_step_interpolated_within_a_bucket()
    {
        const string before = """
            hpi_model_run_duration_seconds_bucket{model="mlp",version="1",le="0.0004"} 100
            hpi_model_run_duration_seconds_bucket{model="mlp",version="1",le="0.0005"} 100
            hpi_model_run_duration_seconds_bucket{model="mlp",version="1",le="0.001"} 100
            hpi_model_run_duration_seconds_bucket{model="mlp",version="1",le="+Inf"} 100
            """;
        const string after = """
            hpi_model_run_duration_seconds_bucket{model="mlp",version="1",le="0.0004"} 200
            hpi_model_run_duration_seconds_bucket{model="mlp",version="1",le="0.0005"} 298
            hpi_model_run_duration_seconds_bucket{model="mlp",version="1",le="0.001"} 298
            hpi_model_run_duration_seconds_bucket{model="mlp",version="1",le="+Inf"} 300
            hpi_model_run_duration_seconds_bucket{model="add_sub",version="1",le="+Inf"} 999
            hpi_model_request_duration_seconds_bucket{model="mlp",version="1",le="0.001"} 1
            hpi_model_request_duration_seconds_bucket{model="mlp",version="1",le="+Inf"} 100
            """;

        // The step counted 100 runs up to 400 µs, 98 in (400, 500] µs and 2 above 1 ms.
        var step = ServerSplit.Between(PrometheusText.Parse(before), PrometheusText.Parse(after), "mlp", null);
        Assert.Equal(400, step.RunP50Us!.Value, 6);     // rank 100: the last of the first bucket
        Assert.Equal(500, step.RunP99Us!.Value, 6);     // rank 198: the last of (400, 500]

        // From the start: 200 up to 400 µs, 98 in (400, 500], 2 above 1 ms.
        var all = ServerSplit.Between(PrometheusText.Parse(""), PrometheusText.Parse(after), "mlp", null);
        Assert.Equal(300, all.RunP50Us!.Value, 6);                     // rank 150 of the 200 in (0, 400]
        Assert.Equal(400 + 100 * 97.0 / 98, all.RunP99Us!.Value, 6);   // rank 297: the 97th of the 98 in (400, 500]
        Assert.Equal(1000, all.RequestP99Us!.Value, 6);                // in the +Inf bucket: the highest finite bound

        Assert.Null(ServerSplit.Between([], PrometheusText.Parse("x 1"), "mlp", null).RunP99Us);
    }

    [Fact]
    public void A_version_filter_and_missing_counters_give_nulls_not_zeros()
    {
        var split = ServerSplit.Between(PrometheusText.Parse(Before), PrometheusText.Parse(After), "add_sub", "2");
        Assert.Null(split.Requests);
        Assert.Null(split.QueueUs);
        Assert.Null(split.AverageBatch);
        var bare = ServerSplit.Between(PrometheusText.Parse("x 1"), PrometheusText.Parse("x 2"), "add_sub", null);
        Assert.Null(bare.CpuUsPerRequest);
        Assert.Null(bare.ComputeUs);
    }
}
