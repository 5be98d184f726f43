using HighPerfInference.LoadGen.Cli;
using HighPerfInference.LoadGen.Measurement;
using HighPerfInference.Protocol;

namespace HighPerfInference.LoadGen.Tests;

public class CommandLineTests
{
    [Fact]
    public void Defaults_drive_the_binary_port_closed_loop_at_concurrency_one()
    {
        var options = RunOptions.Parse(["--model", "add_sub"]);
        Assert.Equal(WireProtocol.Binary, options.Protocol);
        Assert.Equal("127.0.0.1", options.Host);
        Assert.Equal(8001, options.Port);
        Assert.Equal([new LoadStep(1, 0, 1)], options.Steps);
        Assert.Equal(TimeSpan.FromSeconds(2), options.Warmup);
        Assert.Equal(TimeSpan.FromSeconds(5), options.Duration);
        Assert.Equal(new Uri("http://127.0.0.1:8000/metrics"), options.MetricsUrl);
        Assert.Equal(0.01, options.MaxErrorRate);
        Assert.Equal(StepTargets.Server, options.Target);
        Assert.Equal("add_sub binary", options.Label);
        Assert.Equal("add_sub", options.ReportModel);
    }

    [Fact]
    public void A_concurrency_sweep_spreads_requests_over_at_most_four_binary_connections()
    {
        var options = RunOptions.Parse(["--model", "m", "--concurrency", "1,4,16,64,256"]);
        Assert.Equal([1, 4, 16, 64, 256], options.Steps.Select(s => s.Concurrency));
        Assert.Equal([1, 4, 4, 4, 4], options.Steps.Select(s => s.Connections));
        var step = new LoadStep(10, 0, 4);
        Assert.Equal([3, 3, 2, 2], Enumerable.Range(0, 4).Select(step.InFlightOn));
    }

    [Fact]
    public void Http_opens_one_connection_per_outstanding_request_unless_told()
    {
        var options = RunOptions.Parse(["--protocol", "http-json", "--model", "m", "--concurrency", "64"]);
        Assert.Equal(8000, options.Port);
        Assert.Equal(new LoadStep(64, 0, 64), options.Steps[0]);
        var pipelined = RunOptions.Parse(["--protocol=http-binary", "--model=m", "--concurrency=64", "--connections=8"]);
        Assert.Equal(WireProtocol.HttpBinary, pipelined.Protocol);
        Assert.Equal(new LoadStep(64, 0, 8), pipelined.Steps[0]);
    }

    [Fact]
    public void The_http_port_of_a_binary_run_serves_metadata_and_metrics()
    {
        var options = RunOptions.Parse(["--model", "m", "--port", "18001", "--http-port", "18000"]);
        Assert.Equal(18001, options.Port);
        Assert.Equal(new Uri("http://127.0.0.1:18000/"), options.MetadataUrl);
        Assert.Equal(new Uri("http://127.0.0.1:18000/metrics"), options.MetricsUrl);
        Assert.Throws<UsageException>(() => RunOptions.Parse(["--model", "m", "--protocol", "http-json", "--http-port", "1"]));
    }

    [Fact]
    public void In_flight_per_connection_sets_the_concurrency()
    {
        var options = RunOptions.Parse(["--model", "m", "--connections", "4", "--in-flight", "64"]);
        Assert.Equal([new LoadStep(256, 0, 4)], options.Steps);
    }

    [Fact]
    public void Request_rates_make_open_loop_steps()
    {
        var options = RunOptions.Parse(["--model", "m", "--request-rate", "1000,2500.5", "--distribution", "constant", "--connections", "2"]);
        Assert.Equal(ArrivalDistribution.Constant, options.Distribution);
        Assert.All(options.Steps, s => Assert.True(s.IsOpenLoop));
        Assert.Equal([1000, 2500.5], options.Steps.Select(s => s.RequestRate));
        Assert.Equal(2 * 1024, options.Steps[0].Concurrency);
    }

    [Fact]
    public void Inputs_shapes_and_windows_parse()
    {
        var options = RunOptions.Parse(
        [
            "--model", "m", "--model-version", "2", "--input", "INPUT0:FP32:1,16", "--input", "IDS:INT64:4,8",
            "--shape", "x:1,3,48,192", "--warmup", "500ms", "--duration", "1.5m", "--no-metrics", "--output", "OUTPUT0",
            "--json", "r.json", "--csv", "r.csv", "--max-error-rate", "0", "--target", "baseline", "--quiet",
        ]);
        Assert.Equal("2", options.ModelVersion);
        Assert.Equal(new TensorSpec("INPUT0", DataType.Fp32, [1, 16]).ToString(), options.Inputs[0].ToString());
        Assert.Equal([4L, 8L], options.Inputs[1].Shape);
        Assert.Equal(DataType.Int64, options.Inputs[1].DataType);
        Assert.Equal(256, options.Inputs[1].ByteLength);
        Assert.Equal([1L, 3, 48, 192], options.ShapeOverrides["x"]);
        Assert.Equal(TimeSpan.FromMilliseconds(500), options.Warmup);
        Assert.Equal(TimeSpan.FromSeconds(90), options.Duration);
        Assert.Null(options.MetricsUrl);
        Assert.Equal(["OUTPUT0"], options.Outputs);
        Assert.Equal(("r.json", "r.csv"), (options.JsonPath, options.CsvPath));
        Assert.Equal(0, options.MaxErrorRate);
        Assert.Equal(StepTargets.Baseline, options.Target);
        Assert.True(options.Quiet);
    }

    [Theory]
    [InlineData("unknown option --concurency", "--model", "m", "--concurency", "4")]
    [InlineData("--model is required", "--concurrency", "4")]
    [InlineData("--protocol 'grpc'", "--model", "m", "--protocol", "grpc")]
    [InlineData("exclude each other", "--model", "m", "--concurrency", "4", "--request-rate", "100")]
    [InlineData("exclude each other", "--model", "m", "--concurrency", "4", "--in-flight", "2")]
    [InlineData("not an integer >= 1", "--model", "m", "--concurrency", "4,0")]
    [InlineData("not a duration", "--model", "m", "--duration", "soon")]
    [InlineData("needs a value", "--model")]
    [InlineData("given more than once", "--model", "a", "--model", "b")]
    [InlineData("unknown datatype 'FLOAT'", "--model", "m", "--input", "X:FLOAT:1")]
    [InlineData("expected NAME:DATATYPE:SHAPE", "--model", "m", "--input", "X:1,16")]
    [InlineData("bad dimension '-1'", "--model", "m", "--input", "X:FP32:-1,16")]
    [InlineData("takes no value", "--model", "m", "--quiet=yes")]
    [InlineData("unexpected argument 'extra'", "--model", "m", "extra")]
    [InlineData("not an http(s) URL", "--model", "m", "--metrics-url", "localhost:8000")]
    [InlineData("--target", "--model", "m", "--target", "in-process")]
    public void Bad_command_lines_are_refused_with_a_message_naming_the_problem(string expected, params string[] args)
    {
        var error = Assert.Throws<UsageException>(() => RunOptions.Parse(args));
        Assert.Contains(expected, error.Message, StringComparison.Ordinal);
    }
}
