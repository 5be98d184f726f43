using System.Diagnostics;
using System.Globalization;
using System.Text.RegularExpressions;
using HighPerfInference.Server.Tests.TestSupport;

namespace HighPerfInference.Server.Tests.Http;

/// <summary>GET /metrics: Triton's metric names from the repository's statistics, in a valid Prometheus text exposition.</summary>
[Collection(ServerCollection.Name)]
public sealed partial class MetricsTests(ServerFixture fixture)
{
    private HttpClient Http => fixture.Server.Http;

    private async Task<string> ScrapeAfterOneInferenceAsync()
    {
        var request = V2Client.Request(
            V2Client.Input("INPUT0", "FP32", [1, 16], V2Client.Numbers(Enumerable.Repeat(1.0, 16))),
            V2Client.Input("INPUT1", "FP32", [1, 16], V2Client.Numbers(Enumerable.Repeat(1.0, 16))));
        (await V2Client.InferAsync(Http, "add_sub", V2Client.Json(request))).AssertOk();
        (await V2Client.InferAsync(Http, "add_sub", V2Client.Json("{}"))).AssertError(System.Net.HttpStatusCode.BadRequest);
        using var response = await Http.GetAsync("metrics");
        Assert.Equal("text/plain", response.Content.Headers.ContentType?.MediaType);
        return await response.Content.ReadAsStringAsync();
    }

    [Fact]
    public async Task Triton_metrics_per_model_and_version_and_process_metrics_are_exposed()
    {
        var text = await ScrapeAfterOneInferenceAsync();
        var samples = Samples(text);

        Assert.True(samples["nv_inference_request_success{model=\"add_sub\",version=\"1\"}"] >= 1);
        Assert.True(samples["nv_inference_count{model=\"add_sub\",version=\"1\"}"] >= 1);
        Assert.True(samples["nv_inference_exec_count{model=\"add_sub\",version=\"1\"}"] >= 1);
        Assert.True(samples["nv_inference_request_duration_us{model=\"add_sub\",version=\"1\"}"] > 0);
        foreach (var name in (string[])["nv_inference_queue_duration_us", "nv_inference_compute_input_duration_us", "nv_inference_compute_infer_duration_us",
            "nv_inference_compute_output_duration_us", "nv_inference_pending_request_count"])
            Assert.True(samples.ContainsKey($"{name}{{model=\"mlp\",version=\"1\"}}"), name);
        foreach (var reason in (string[])["REJECTED", "CANCELED", "BACKEND", "OTHER"])
            Assert.True(samples.ContainsKey($"nv_inference_request_failure{{model=\"add_sub\",reason=\"{reason}\",version=\"1\"}}"), reason);
        Assert.Equal(1, samples["hpi_model_ready{model=\"add_sub\",version=\"1\"}"]);
        Assert.True(samples["process_cpu_seconds_total"] > 0);
        Assert.True(samples["process_resident_memory_bytes"] > 0);
        Assert.True(samples["hpi_http_inference_requests_total{api=\"v2\",code=\"200\"}"] >= 1);
        Assert.True(samples["hpi_http_inference_requests_total{api=\"v2\",code=\"400\"}"] >= 1);
        Assert.True(samples["hpi_http_inference_duration_seconds_count{api=\"v2\"}"] >= 2);
    }

    [Fact]
    public async Task Request_and_run_histograms_count_what_the_triton_counters_count()
    {
        var samples = Samples(await ScrapeAfterOneInferenceAsync());
        const string labels = "model=\"add_sub\",version=\"1\"";

        AssertHistogram(samples, "hpi_model_request_duration_seconds", labels, samples[$"nv_inference_request_success{{{labels}}}"],
            samples[$"nv_inference_request_duration_us{{{labels}}}"] / 1e6);
        AssertHistogram(samples, "hpi_model_run_duration_seconds", labels, samples[$"nv_inference_exec_count{{{labels}}}"],
            samples[$"nv_inference_compute_infer_duration_us{{{labels}}}"] / 1e6);
    }

    /// <summary>Buckets ascend by le and never decrease, +Inf and _count hold <paramref name="count"/>, _sum matches the counter's sum.</summary>
    private static void AssertHistogram(Dictionary<string, double> samples, string name, string labels, double count, double sumSeconds)
    {
        var buckets = samples.Where(s => s.Key.StartsWith($"{name}_bucket{{{labels},le=", StringComparison.Ordinal)).ToList();
        Assert.True(buckets.Count > 10, $"{name} has {buckets.Count} buckets");
        var previousBound = 0.0;
        var previousCount = 0.0;
        foreach (var (key, cumulative) in buckets)
        {
            var le = key[(key.IndexOf("le=\"", StringComparison.Ordinal) + 4)..^2];
            var bound = le == "+Inf" ? double.PositiveInfinity : double.Parse(le, CultureInfo.InvariantCulture);
            Assert.True(bound > previousBound, $"{name}: bucket {le} after {previousBound}");
            Assert.True(cumulative >= previousCount, $"{name}: bucket {le} holds {cumulative} < {previousCount}");
            (previousBound, previousCount) = (bound, cumulative);
        }
        Assert.Equal(double.PositiveInfinity, previousBound);
        Assert.True(count >= 1);
        Assert.Equal(count, previousCount);
        Assert.Equal(count, samples[$"{name}_count{{{labels}}}"]);
        Assert.Equal(sumSeconds, samples[$"{name}_sum{{{labels}}}"], 1e-6);
    }

    [Fact]
    public async Task The_exposition_is_well_formed() => AssertWellFormed(await ScrapeAfterOneInferenceAsync());

    /// <summary>Each family has one HELP then one TYPE line, and every sample line parses and belongs to the family before it.</summary>
    internal static void AssertWellFormed(string text)
    {
        Assert.EndsWith("\n", text, StringComparison.Ordinal);
        var typed = new HashSet<string>();
        string? family = null;
        foreach (var line in text.Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            if (line.StartsWith("# HELP ", StringComparison.Ordinal))
            {
                family = line.Split(' ')[2];
                Assert.True(typed.Add(family), $"family {family} appears twice");
                continue;
            }
            if (line.StartsWith("# TYPE ", StringComparison.Ordinal))
            {
                Assert.Equal(family, line.Split(' ')[2]);
                Assert.Contains(line.Split(' ')[3], (string[])["counter", "gauge", "histogram"]);
                continue;
            }
            var match = SampleLine().Match(line);
            Assert.True(match.Success, $"not a sample line: {line}");
            Assert.StartsWith(family!, match.Groups["name"].Value, StringComparison.Ordinal);
        }
    }

    /// <summary>
    /// promtool (Debian package prometheus) parses the exposition. Its lint also flags Triton's own
    /// names (counters without _total, the _us unit, a _count suffix): those are kept on purpose,
    /// so the test accepts lint findings on nv_ metrics only. scripts/install-deps installs it.
    /// </summary>
    [Fact]
    public async Task Promtool_accepts_the_exposition() => await AssertPromtoolAcceptsAsync(await ScrapeAfterOneInferenceAsync());

    internal static async Task AssertPromtoolAcceptsAsync(string text)
    {
        Assert.True(File.Exists("/usr/bin/promtool"), "promtool is missing: scripts/install-deps installs Debian's prometheus package");
        using var promtool = Process.Start(new ProcessStartInfo("/usr/bin/promtool", "check metrics")
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        })!;
        await promtool.StandardInput.WriteAsync(text);
        promtool.StandardInput.Close();
        var output = await promtool.StandardOutput.ReadToEndAsync() + await promtool.StandardError.ReadToEndAsync();
        await promtool.WaitForExitAsync();

        // 0: clean; 3: lint findings only; anything else is a parse error.
        Assert.True(promtool.ExitCode is 0 or 3, $"promtool exit {promtool.ExitCode}: {output}");
        foreach (var finding in output.Split('\n', StringSplitOptions.RemoveEmptyEntries))
            Assert.StartsWith("nv_", finding, StringComparison.Ordinal);
    }

    internal static Dictionary<string, double> Samples(string text)
    {
        var samples = new Dictionary<string, double>();
        foreach (var line in text.Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            if (line[0] == '#')
                continue;
            var space = line.LastIndexOf(' ');
            samples[line[..space]] = double.Parse(line[(space + 1)..], CultureInfo.InvariantCulture);
        }
        return samples;
    }

    [GeneratedRegex("""^(?<name>[a-zA-Z_:][a-zA-Z0-9_:]*)(\{[a-zA-Z_][a-zA-Z0-9_]*="(\\.|[^"\\])*"(,[a-zA-Z_][a-zA-Z0-9_]*="(\\.|[^"\\])*")*\})? (-?[0-9.]+([eE][+-]?[0-9]+)?|NaN|[+-]Inf)$""")]
    private static partial Regex SampleLine();
}
