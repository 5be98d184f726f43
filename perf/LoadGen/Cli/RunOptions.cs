using HighPerfInference.LoadGen.Measurement;
using HighPerfInference.Protocol;

namespace HighPerfInference.LoadGen.Cli;

public enum WireProtocol
{
    Binary,
    HttpJson,
    HttpBinary,
}

public enum ArrivalDistribution
{
    Poisson,
    Constant,
}

/// <summary>
/// One point of a sweep. Closed loop (<see cref="RequestRate"/> 0): <see cref="Concurrency"/>
/// requests always outstanding. Open loop: requests sent at <see cref="RequestRate"/> per second
/// whatever the answers do, at most <see cref="Concurrency"/> outstanding.
/// </summary>
public readonly record struct LoadStep(int Concurrency, double RequestRate, int Connections)
{
    public bool IsOpenLoop => RequestRate > 0;

    /// <summary>Requests in flight allowed on connection <paramref name="index"/>: the concurrency spread evenly.</summary>
    public int InFlightOn(int index) => (Concurrency / Connections) + (index < Concurrency % Connections ? 1 : 0);
}

/// <summary>A tensor given on the command line: <c>NAME:DATATYPE:d0,d1,...</c> (e.g. <c>INPUT0:FP32:1,16</c>).</summary>
public sealed record TensorSpec(string Name, DataType DataType, long[] Shape)
{
    public long ElementCount
    {
        get
        {
            long count = 1;
            foreach (var dim in Shape)
                count *= dim;
            return count;
        }
    }

    public long ByteLength => ElementCount * DataType.ElementSize();

    public static TensorSpec Parse(string text)
    {
        var parts = text.Split(':');
        if (parts.Length != 3 || parts[0].Length == 0)
            throw new UsageException($"--input '{text}': expected NAME:DATATYPE:SHAPE, e.g. INPUT0:FP32:1,16");
        if (!DataTypes.TryParse(parts[1], out var dataType))
            throw new UsageException($"--input '{text}': unknown datatype '{parts[1]}' (FP32, INT64, UINT8, ...)");
        if (dataType == DataType.Bytes)
            throw new UsageException($"--input '{text}': BYTES inputs are not supported by the load generator");
        return new TensorSpec(parts[0], dataType, ParseShape(text, parts[2], allowDynamic: false));
    }

    /// <summary>Parses <c>1,16</c>; with <paramref name="allowDynamic"/>, -1 marks a dimension to fill in.</summary>
    public static long[] ParseShape(string context, string text, bool allowDynamic)
    {
        var parts = text.Split(',', StringSplitOptions.TrimEntries);
        var shape = new long[parts.Length];
        for (var i = 0; i < parts.Length; i++)
        {
            if (!long.TryParse(parts[i], out shape[i]) || shape[i] < (allowDynamic ? -1 : 0))
                throw new UsageException($"'{context}': bad dimension '{parts[i]}' in shape '{text}'");
        }
        return shape;
    }
}

/// <summary>What <c>loadgen run</c> does, validated.</summary>
public sealed class RunOptions
{
    public const string Usage = """
        loadgen run --model NAME [options]         drive a server and report throughput and latency
          --protocol binary|http-json|http-binary  wire protocol (default binary)
          --host H --port P                        server (default 127.0.0.1, port 8001 binary / 8000 HTTP)
          --http-port P                            the server's HTTP port for metadata and /metrics when the
                                                   protocol is binary (default 8000)
          --model NAME [--model-version V]         the model to call
          --input NAME:DATATYPE:SHAPE              an input, e.g. INPUT0:FP32:1,16 (repeat per input);
                                                   without it the inputs come from the model metadata
          --shape NAME:SHAPE                       fill a dynamic shape from metadata, e.g. INPUT0:1,16
          --batch-size B                           the leading dynamic dimension (default 1)
          --output NAME                            a requested output (repeat; default all)
          --input-data random|zeros|FILE           tensor contents; FILE is JSON {"NAME": [numbers], ...}
          --concurrency 1,4,16,64                  closed-loop sweep: requests outstanding at once
          --in-flight F                            instead of --concurrency: F per connection
          --request-rate 1000,5000                 open-loop sweep in requests/s (latency counts from the
                                                   scheduled send time, so queueing shows)
          --distribution poisson|constant          open-loop arrivals (default poisson)
          --connections K                          connections (default: binary 4, HTTP one per request
                                                   in flight)
          --warmup 2s --duration 5s                windows per step
          --metrics-url URL | --no-metrics         server /metrics read before and after each step
                                                   (default http://HOST:HTTP-PORT/metrics)
          --json FILE --csv FILE                   also write the results there
          --label TEXT                             the row name in reports (default protocol and model)
          --target server|baseline|echo            what is measured, for the suite report (default server)
          --report-model NAME                      file the results under this model in reports (a variant of
                                                   it, e.g. the same model with batching off)
          --max-error-rate R                       exit 2 when errors/requests exceed R (default 0.01)
          --seed N                                 random input data and arrivals (default 1)
          --quiet                                  no progress line
        """;

    private static readonly string[] s_options =
    [
        "protocol", "host", "port", "http-port", "model", "model-version", "input", "shape", "batch-size", "output", "input-data",
        "concurrency", "in-flight", "request-rate", "distribution", "connections", "warmup", "duration",
        "metrics-url", "json", "csv", "label", "target", "report-model", "max-error-rate", "seed", "drain-timeout",
    ];

    private static readonly string[] s_flags = ["no-metrics", "quiet"];

    public required WireProtocol Protocol { get; init; }
    public required string Host { get; init; }
    public required int Port { get; init; }
    public required string Model { get; init; }
    public string? ModelVersion { get; init; }
    public required IReadOnlyList<TensorSpec> Inputs { get; init; }
    public required IReadOnlyDictionary<string, long[]> ShapeOverrides { get; init; }
    public int BatchSize { get; init; } = 1;
    public required IReadOnlyList<string> Outputs { get; init; }
    public string InputData { get; init; } = "random";
    public required IReadOnlyList<LoadStep> Steps { get; init; }
    public ArrivalDistribution Distribution { get; init; }
    public TimeSpan Warmup { get; init; }
    public TimeSpan Duration { get; init; }
    public TimeSpan DrainTimeout { get; init; }
    public Uri? MetricsUrl { get; init; }
    public required Uri MetadataUrl { get; init; }
    public string? JsonPath { get; init; }
    public string? CsvPath { get; init; }
    public required string Label { get; init; }
    public string Target { get; init; } = StepTargets.Server;
    /// <summary>The model the results are filed under; <see cref="Model"/> unless --report-model says otherwise.</summary>
    public required string ReportModel { get; init; }
    public double MaxErrorRate { get; init; }
    public int Seed { get; init; }
    public bool Quiet { get; init; }

    public bool IsHttp => Protocol != WireProtocol.Binary;

    public static RunOptions Parse(IReadOnlyList<string> args)
    {
        var reader = ArgumentReader.Parse(args, s_options, s_flags);
        var protocol = reader.String("protocol", "binary") switch
        {
            "binary" => WireProtocol.Binary,
            "http-json" => WireProtocol.HttpJson,
            "http-binary" => WireProtocol.HttpBinary,
            var other => throw new UsageException($"--protocol '{other}': expected binary, http-json or http-binary"),
        };
        var isHttp = protocol != WireProtocol.Binary;
        var host = reader.String("host", "127.0.0.1")!;
        var port = reader.Int("port", isHttp ? 8000 : 8001, min: 1);
        var model = reader.Required("model");
        if (isHttp && reader.Has("http-port"))
            throw new UsageException("--http-port is for the binary protocol; over HTTP it is --port");
        var httpPort = isHttp ? port : reader.Int("http-port", 8000, min: 1);

        var inputs = new List<TensorSpec>();
        foreach (var text in reader.All("input"))
            inputs.Add(TensorSpec.Parse(text));
        var shapes = new Dictionary<string, long[]>(StringComparer.Ordinal);
        foreach (var text in reader.All("shape"))
        {
            var colon = text.LastIndexOf(':');
            if (colon <= 0)
                throw new UsageException($"--shape '{text}': expected NAME:SHAPE, e.g. INPUT0:1,16");
            shapes[text[..colon]] = TensorSpec.ParseShape(text, text[(colon + 1)..], allowDynamic: false);
        }

        var steps = ParseSteps(reader, isHttp);
        Uri? metricsUrl = null;
        if (!reader.Flag("no-metrics"))
            metricsUrl = ParseUrl("metrics-url", reader.String("metrics-url", $"http://{host}:{httpPort}/metrics")!);
        else if (reader.Has("metrics-url"))
            throw new UsageException("--metrics-url and --no-metrics exclude each other");

        var protocolName = reader.String("protocol", "binary")!;
        return new RunOptions
        {
            Protocol = protocol,
            Host = host,
            Port = port,
            Model = model,
            ModelVersion = reader.String("model-version"),
            Inputs = inputs,
            ShapeOverrides = shapes,
            BatchSize = reader.Int("batch-size", 1, min: 1),
            Outputs = reader.All("output"),
            InputData = reader.String("input-data", "random")!,
            Steps = steps,
            Distribution = reader.String("distribution", "poisson") switch
            {
                "poisson" => ArrivalDistribution.Poisson,
                "constant" => ArrivalDistribution.Constant,
                var other => throw new UsageException($"--distribution '{other}': expected poisson or constant"),
            },
            Warmup = reader.Duration("warmup", TimeSpan.FromSeconds(2)),
            Duration = reader.Duration("duration", TimeSpan.FromSeconds(5)),
            DrainTimeout = reader.Duration("drain-timeout", TimeSpan.FromSeconds(5)),
            MetricsUrl = metricsUrl,
            MetadataUrl = new Uri($"http://{host}:{httpPort}/"),
            JsonPath = reader.String("json"),
            CsvPath = reader.String("csv"),
            Label = reader.String("label", $"{model} {protocolName}")!,
            ReportModel = reader.String("report-model", model)!,
            Target = reader.String("target", StepTargets.Server) is { } target && StepTargets.IsKnown(target) && target != StepTargets.InProcess
                ? target
                : throw new UsageException("--target: server, baseline or echo"),
            MaxErrorRate = reader.Double("max-error-rate", 0.01, min: 0),
            Seed = reader.Int("seed", 1),
            Quiet = reader.Flag("quiet"),
        };
    }

    private static LoadStep[] ParseSteps(ArgumentReader reader, bool isHttp)
    {
        var concurrency = reader.IntList("concurrency");
        var rates = reader.DoubleList("request-rate");
        var inFlight = reader.Has("in-flight") ? reader.Int("in-flight", 1, min: 1) : (int?)null;
        var connections = reader.Has("connections") ? reader.Int("connections", 1, min: 1) : (int?)null;
        if (concurrency is not null && rates is not null)
            throw new UsageException("--concurrency and --request-rate exclude each other: one sweep at a time");
        if (concurrency is not null && inFlight is not null)
            throw new UsageException("--concurrency and --in-flight exclude each other (concurrency = connections x in-flight)");

        if (rates is not null)
        {
            // Open loop: the in-flight cap only bounds memory; HTTP/1.1 without pipelining holds one per connection.
            var openConnections = connections ?? (isHttp ? 64 : 4);
            var cap = openConnections * (inFlight ?? (isHttp ? 1 : 1024));
            var open = new LoadStep[rates.Length];
            for (var i = 0; i < rates.Length; i++)
                open[i] = new LoadStep(cap, rates[i], openConnections);
            return open;
        }
        if (inFlight is not null)
        {
            var fixedConnections = connections ?? 1;
            return [new LoadStep(fixedConnections * inFlight.Value, 0, fixedConnections)];
        }
        concurrency ??= [1];
        var steps = new LoadStep[concurrency.Length];
        for (var i = 0; i < concurrency.Length; i++)
        {
            var c = concurrency[i];
            steps[i] = new LoadStep(c, 0, Math.Min(c, connections ?? (isHttp ? c : 4)));
        }
        return steps;
    }

    private static Uri ParseUrl(string name, string text) =>
        Uri.TryCreate(text, UriKind.Absolute, out var url) && (url.Scheme == Uri.UriSchemeHttp || url.Scheme == Uri.UriSchemeHttps)
            ? url
            : throw new UsageException($"--{name} '{text}' is not an http(s) URL");
}
