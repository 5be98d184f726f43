using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using HighPerfInference.Client;
using HighPerfInference.NativeEngine.Tests.Models;
using HighPerfInference.Protocol;
using HighPerfInference.Server.Tests.TestSupport;
using Microsoft.ML.OnnxRuntime.Tensors;
using TestRepository = HighPerfInference.Server.Tests.Models.TestRepository;

namespace HighPerfInference.Server.Tests.Pipeline;

/// <summary>
/// One pipeline on every front door: route, then validate against the routed version. Two models under
/// a 50/50 traffic split: "types" (version 1 FP32 [-1,4], version 2 INT32 [-1,4]) and "shapes" (version 1
/// FP32 [-1,16], version 2 FP32 [-1,8]); each version is an identity X → Y. A request that states its
/// inputs goes only to the versions it fits; one whose datatypes come from the model (predict, a raw
/// binary body) is routed by the split and parsed against the version chosen; every answer and every
/// error names the version.
/// </summary>
public sealed class SplitRoutingTests : IAsyncLifetime
{
    /// <summary>Enough requests that a 50/50 split reaches both versions with certainty in practice (1 in 2^39 to miss one).</summary>
    private const int Requests = 40;

    private readonly TestRepository _folder = new();
    private RunningServer _server = null!;

    private HttpClient Http => _server.Http;

    public async Task InitializeAsync()
    {
        const string config = """{ "max_batch_size": 8, "version_policy": { "all": {} }, "traffic_split": { "1": 50, "2": 50 } }""";
        _folder.Add("types", config, [])
            .AddVersion("types", 1, Identity(TensorElementType.Float, 4))
            .AddVersion("types", 2, Identity(TensorElementType.Int32, 4));
        _folder.Add("shapes", config, [])
            .AddVersion("shapes", 1, Identity(TensorElementType.Float, 16))
            .AddVersion("shapes", 2, Identity(TensorElementType.Float, 8));
        _server = await RunningServer.StartAsync(["types", "shapes"], ["--model-repository", _folder.Path]);
    }

    public async Task DisposeAsync()
    {
        await _server.DisposeAsync();
        _folder.Dispose();
    }

    private static byte[] Identity(TensorElementType type, long width) => new OnnxModelBuilder()
        .Input("X", type, "batch", width)
        .Output("Y", type, "batch", width)
        .Node("Identity", ["X"], ["Y"])
        .Build();

    [Theory]
    [InlineData("FP32", "[0.5, 1.5, 2.5, 3.5]", "1")]
    [InlineData("INT32", "[1, 2, 3, 4]", "2")]
    public async Task A_V2_JSON_request_runs_only_on_the_version_whose_datatype_it_states(string datatype, string data, string version)
    {
        for (var i = 0; i < Requests; i++)
        {
            var (status, headers, body) = await PostAsync("v2/models/types/infer", V2Json(datatype, [1, 4], data));
            Assert.Equal(HttpStatusCode.OK, status);
            Assert.Equal(version, headers);
            using var answer = JsonDocument.Parse(body);
            Assert.Equal(version, answer.RootElement.GetProperty("model_version").GetString());
            Assert.Equal(datatype, answer.RootElement.GetProperty("outputs")[0].GetProperty("datatype").GetString());
            Assert.Equal(JsonDocument.Parse(data).RootElement.GetRawText().Replace(" ", "", StringComparison.Ordinal),
                answer.RootElement.GetProperty("outputs")[0].GetProperty("data").GetRawText());
        }
    }

    [Theory]
    [InlineData(16, "1")]
    [InlineData(8, "2")]
    public async Task A_V2_JSON_request_runs_only_on_the_version_whose_shape_it_fits(int width, string version)
    {
        var data = "[" + string.Join(",", Enumerable.Range(0, width)) + "]";
        for (var i = 0; i < Requests; i++)
        {
            var (status, headers, _) = await PostAsync("v2/models/shapes/infer", V2Json("FP32", [1, width], data));
            Assert.Equal(HttpStatusCode.OK, status);
            Assert.Equal(version, headers);
        }
    }

    [Fact]
    public async Task A_request_that_fits_no_version_of_the_split_is_refused_with_each_versions_reason()
    {
        var (status, version, body) = await PostAsync("v2/models/shapes/infer", V2Json("FP32", [1, 5], "[0,1,2,3,4]"));

        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Null(version);
        var error = Error(body);
        Assert.Contains("model 'shapes': the request fits none of the versions its traffic split routes to", error, StringComparison.Ordinal);
        Assert.Contains("version 1: input 'X': shape [1,5] does not match the model's [-1,16]", error, StringComparison.Ordinal);
        Assert.Contains("version 2: input 'X': shape [1,5] does not match the model's [-1,8]", error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_error_of_a_named_version_names_it_in_the_message_and_the_header()
    {
        var (status, version, body) = await PostAsync("v2/models/types/versions/2/infer", V2Json("FP32", [1, 4], "[0.5,1,2,3]"));

        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Equal("2", version);
        Assert.StartsWith("model 'types' version 2: input 'X': datatype FP32 does not match the model's INT32", Error(body), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_V2_binary_extension_request_runs_only_on_the_version_whose_datatype_it_states()
    {
        var header = """{"inputs":[{"name":"X","datatype":"INT32","shape":[1,4],"parameters":{"binary_data_size":16}}]}"""u8.ToArray();
        var values = new byte[16];
        for (var i = 0; i < 4; i++)
            BitConverter.TryWriteBytes(values.AsSpan(i * 4), i + 7);
        for (var i = 0; i < Requests; i++)
        {
            using var content = new ByteArrayContent([.. header, .. values]);
            content.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
            content.Headers.Add("Inference-Header-Content-Length", header.Length.ToString(System.Globalization.CultureInfo.InvariantCulture));
            var (status, version, body) = await PostAsync("v2/models/types/infer", content);
            Assert.Equal(HttpStatusCode.OK, status);
            Assert.Equal("2", version);
            Assert.Contains("\"data\":[7,8,9,10]", body, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task A_raw_binary_body_is_parsed_against_the_version_the_split_chose()
    {
        // 16 bytes are four FP32 values for version 1 and four INT32 values for version 2: both answer, each in its own type.
        var values = new byte[16];
        for (var i = 0; i < 4; i++)
            BitConverter.TryWriteBytes(values.AsSpan(i * 4), 1.5f * (i + 1));
        var seen = new HashSet<string>();
        for (var i = 0; i < Requests; i++)
        {
            using var content = new ByteArrayContent(values);
            content.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
            content.Headers.Add("Inference-Header-Content-Length", "0");
            var (status, version, body) = await PostAsync("v2/models/types/infer", content);
            Assert.Equal(HttpStatusCode.OK, status);
            using var answer = JsonDocument.Parse(body);
            var output = answer.RootElement.GetProperty("outputs")[0];
            Assert.Equal(version, answer.RootElement.GetProperty("model_version").GetString());
            Assert.Equal(version == "1" ? "FP32" : "INT32", output.GetProperty("datatype").GetString());
            if (version == "1")
                Assert.Equal("[1.5,3,4.5,6]", output.GetProperty("data").GetRawText());
            seen.Add(version!);
        }
        Assert.Equal(["1", "2"], seen.Order());
    }

    [Fact]
    public async Task Predict_parses_against_the_version_the_split_chose_and_names_it_when_it_refuses()
    {
        var outcomes = new HashSet<string>();
        for (var i = 0; i < Requests; i++)
        {
            using var content = new StringContent("""{"instances": [[0.5, 1.5, 2.5, 3.5]]}""", Encoding.UTF8, "application/json");
            var (status, version, body) = await PostAsync("v1/models/types:predict", content);
            if (version == "1")
            {
                Assert.Equal(HttpStatusCode.OK, status);
                Assert.Equal("""{"predictions":[[0.5,1.5,2.5,3.5]]}""", body);
            }
            else
            {
                // Version 2 takes INT32: the fractional values are refused, and the refusal says by whom.
                Assert.Equal("2", version);
                Assert.Equal(HttpStatusCode.BadRequest, status);
                Assert.StartsWith("model 'types' version 2: ", Error(body), StringComparison.Ordinal);
                Assert.Contains("INT32", Error(body), StringComparison.Ordinal);
            }
            outcomes.Add(version!);
        }
        Assert.Equal(["1", "2"], outcomes.Order());
    }

    [Fact]
    public async Task Predict_with_whole_numbers_runs_on_either_version()
    {
        var outcomes = new HashSet<string>();
        for (var i = 0; i < Requests; i++)
        {
            using var content = new StringContent("""{"instances": [[1, 2, 3, 4]]}""", Encoding.UTF8, "application/json");
            var (status, version, body) = await PostAsync("v1/models/types:predict", content);
            Assert.Equal(HttpStatusCode.OK, status);
            Assert.Equal("""{"predictions":[[1,2,3,4]]}""", body);
            outcomes.Add(version!);
        }
        Assert.Equal(["1", "2"], outcomes.Order());
    }

    [Theory]
    [InlineData(16, "1")]
    [InlineData(8, "2")]
    public async Task A_binary_protocol_request_runs_only_on_the_version_it_fits(int width, string version)
    {
        await using var client = new InferenceClient(_server.BinaryEndPoint!, new InferenceClientOptions { Retry = RetryPolicy.None });
        for (var i = 0; i < Requests; i++)
        {
            using var result = await client.InferAsync(new InferRequest("shapes").AddInput("X", [1, width], new float[width]));
            Assert.Equal(version, result.ModelVersion);
        }
        int[] values = [1, 2, 3, 4];
        using var typed = await client.InferAsync(new InferRequest("types").AddInput("X", [1, 4], values));
        Assert.Equal("2", typed.ModelVersion);
        Assert.Equal(values, typed["Y"].AsSpan<int>().ToArray());
    }

    [Fact]
    public async Task A_binary_protocol_request_that_fits_no_version_is_refused_naming_each()
    {
        await using var client = new InferenceClient(_server.BinaryEndPoint!, new InferenceClientOptions { Retry = RetryPolicy.None });
        var error = await Assert.ThrowsAsync<HighPerfInference.Protocol.InferenceException>(async () =>
            await client.InferAsync(new InferRequest("shapes").AddInput("X", [1, 5], new float[5])));
        Assert.Equal(ErrorCode.InvalidArgument, error.Code);
        Assert.Contains("version 1: input 'X'", error.Message, StringComparison.Ordinal);
        Assert.Contains("version 2: input 'X'", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Metadata_says_which_version_it_describes()
    {
        using var model = await Http.GetAsync("v2/models/types");
        Assert.Equal("2", model.Headers.GetValues("X-Model-Version").Single());
        using var modelDocument = JsonDocument.Parse(await model.Content.ReadAsStringAsync());
        Assert.Equal("""["2","1"]""", modelDocument.RootElement.GetProperty("versions").GetRawText());
        Assert.Equal("INT32", modelDocument.RootElement.GetProperty("inputs")[0].GetProperty("datatype").GetString());

        using var first = await Http.GetAsync("v2/models/types/versions/1");
        Assert.Equal("1", first.Headers.GetValues("X-Model-Version").Single());
        using var firstDocument = JsonDocument.Parse(await first.Content.ReadAsStringAsync());
        Assert.Equal("FP32", firstDocument.RootElement.GetProperty("inputs")[0].GetProperty("datatype").GetString());
    }

    private static StringContent V2Json(string datatype, long[] shape, string data) =>
        new($$"""{"inputs":[{"name":"X","datatype":"{{datatype}}","shape":[{{string.Join(",", shape)}}],"data":{{data}}}]}""", Encoding.UTF8, "application/json");

    private async Task<(HttpStatusCode Status, string? Version, string Body)> PostAsync(string path, HttpContent content)
    {
        using var response = await Http.PostAsync(path, content);
        var version = response.Headers.TryGetValues("X-Model-Version", out var values) ? values.Single() : null;
        return (response.StatusCode, version, await response.Content.ReadAsStringAsync());
    }

    private static string Error(string body) => JsonDocument.Parse(body).RootElement.GetProperty("error").GetString()!;
}
