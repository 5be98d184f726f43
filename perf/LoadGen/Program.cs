using HighPerfInference.LoadGen.Cli;
using HighPerfInference.LoadGen.Echo;
using HighPerfInference.LoadGen.InProcess;
using HighPerfInference.LoadGen.Load;
using HighPerfInference.LoadGen.Measurement;
using HighPerfInference.LoadGen.Reporting;
using HighPerfInference.LoadGen.Wire;
using HighPerfInference.LoadGen.Workload;

namespace HighPerfInference.LoadGen;

/// <summary>
/// hpi-loadgen: a perf_analyzer-class load generator. Exit codes: 0 fine, 2 error rate over the
/// threshold, 64 bad command line, 1 anything else.
/// </summary>
public static class Program
{
    public const int ErrorRateExceeded = 2;
    public const int BadUsage = 64;

    private const string InlineCompletions = "DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS";

    private const string Usage = "usage:\n" + RunOptions.Usage + "\n" + InProcessRunner.Usage + "\n" + EchoServer.Usage + "\n" + BenchReport.Usage;

    public static async Task<int> Main(string[] args)
    {
        // Run socket continuations on the socket engine's thread instead of queueing them to the thread
        // pool: one hop less per read. It measured 20-30% more HTTP answers per generator CPU second, so
        // the generator takes less of the CPU it shares with the server. An explicit setting wins.
        if (Environment.GetEnvironmentVariable(InlineCompletions) is null)
            Environment.SetEnvironmentVariable(InlineCompletions, "1");
        var command = args.Length > 0 && !args[0].StartsWith("--", StringComparison.Ordinal) ? args[0] : "run";
        var rest = command == "run" && (args.Length == 0 || args[0] != "run") ? args : args[1..];
        try
        {
            return command switch
            {
                "run" => await RunAsync(rest).ConfigureAwait(false),
                "inprocess" => await InProcessRunner.RunAsync(rest).ConfigureAwait(false),
                "echo-server" => await EchoServer.RunAsync(rest).ConfigureAwait(false),
                "report" => await BenchReport.RunAsync(rest).ConfigureAwait(false),
                "help" or "-h" => PrintUsage(Console.Out, 0),
                _ => throw new UsageException($"unknown command '{command}'"),
            };
        }
        catch (UsageException ex)
        {
            await Console.Error.WriteLineAsync($"loadgen: {ex.Message}").ConfigureAwait(false);
            return args.Length == 0 ? PrintUsage(Console.Error, BadUsage) : BadUsage;
        }
    }

    private static int PrintUsage(TextWriter output, int exitCode)
    {
        output.Write(Usage);
        return exitCode;
    }

    private static async Task<int> RunAsync(IReadOnlyList<string> args)
    {
        var options = RunOptions.Parse(args);
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(10) };
        using var cancel = new CancellationTokenSource();
        Console.CancelKeyPress += (_, e) =>
        {
            e.Cancel = true;
            cancel.Cancel();
        };
        var specs = await ModelInputs.ResolveAsync(options, http, cancel.Token).ConfigureAwait(false);
        var inputs = InputData.Create(specs, options.InputData, options.Seed);
        Func<IWireCodec> codecs = options.Protocol switch
        {
            WireProtocol.Binary => BinaryCodecs(BinaryFrames.InferRequest(options.Model, options.ModelVersion, inputs, options.Outputs)),
            _ => HttpCodecs(HttpRequestBuilder.Build(options.Host, options.Port, options.Model, options.ModelVersion, inputs, options.Outputs,
                binary: options.Protocol == WireProtocol.HttpBinary)),
        };
        var progress = new ProgressLine(Console.Error, !options.Quiet);
        List<StepResult> results;
        try
        {
            results = await new LoadRunner(options, codecs, http, progress).RunAsync(cancel.Token).ConfigureAwait(false);
        }
        catch (System.Net.Sockets.SocketException ex)
        {
            throw new UsageException($"cannot reach {options.Host}:{options.Port} ({ex.Message})");
        }
        return await WriteResultsAsync(results, options.JsonPath, options.CsvPath, options.MaxErrorRate).ConfigureAwait(false);
    }

    private static Func<IWireCodec> BinaryCodecs(byte[] frame) => () => new BinaryCodec(frame);

    private static Func<IWireCodec> HttpCodecs(byte[] request)
    {
        var codec = new HttpCodec(request);
        return () => codec;
    }

    /// <summary>Prints the table, writes the files, and says whether the error rate stayed under the threshold.</summary>
    public static async Task<int> WriteResultsAsync(List<StepResult> results, string? jsonPath, string? csvPath, double maxErrorRate)
    {
        await Console.Out.WriteAsync(ResultTable.Format(results)).ConfigureAwait(false);
        if (jsonPath is not null)
            await File.WriteAllTextAsync(jsonPath, ResultFiles.ToJson(new RunDocument(CommandLine(), DateTimeOffset.UtcNow, results))).ConfigureAwait(false);
        if (csvPath is not null)
            await File.WriteAllTextAsync(csvPath, ResultFiles.ToCsv(results)).ConfigureAwait(false);
        var worst = 0.0;
        foreach (var result in results)
            worst = Math.Max(worst, result.ErrorRate);
        if (worst <= maxErrorRate)
            return 0;
        await Console.Error.WriteLineAsync($"loadgen: error rate {worst:P2} is over the threshold {maxErrorRate:P2}").ConfigureAwait(false);
        return ErrorRateExceeded;
    }

    private static string CommandLine() => "loadgen " + string.Join(' ', Environment.GetCommandLineArgs()[1..]);
}
