using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using HighPerfInference.Server.Tests.TestSupport;

namespace HighPerfInference.Server.Tests.Http;

/// <summary>Health, server and model metadata, readiness, configuration, statistics, repository index, docs: against the real server.</summary>
[Collection(ServerCollection.Name)]
public sealed class MetadataTests(ServerFixture fixture)
{
    private RunningServer Server => fixture.Server;

    [Theory]
    [InlineData("v2/health/live", "live")]
    [InlineData("health", "live")]
    [InlineData("v2/health/ready", "ready")]
    [InlineData("ready", "ready")]
    public async Task Health_endpoints_answer_200_true(string path, string field)
    {
        var body = await Server.GetJsonAsync(path);
        Assert.True(body.GetProperty(field).GetBoolean());
    }

    [Fact]
    public async Task Server_metadata_names_the_server_and_its_extensions()
    {
        var body = await Server.GetJsonAsync("v2");
        Assert.Equal("HighPerfInference", body.GetProperty("name").GetString());
        Assert.False(string.IsNullOrEmpty(body.GetProperty("version").GetString()));
        var extensions = body.GetProperty("extensions").EnumerateArray().Select(e => e.GetString()).ToArray();
        Assert.Contains("binary_tensor_data", extensions);
        Assert.Contains("model_repository", extensions);
        Assert.Contains("statistics", extensions);
    }

    [Theory]
    [InlineData("v2/models/add_sub")]
    [InlineData("v2/models/add_sub/versions/1")]
    public async Task Model_metadata_lists_inputs_and_outputs_with_variable_batch(string path)
    {
        var body = await Server.GetJsonAsync(path);
        Assert.Equal("add_sub", body.GetProperty("name").GetString());
        Assert.Equal("onnxruntime_onnx", body.GetProperty("platform").GetString());
        Assert.Contains("1", body.GetProperty("versions").EnumerateArray().Select(v => v.GetString()));
        var inputs = body.GetProperty("inputs").EnumerateArray().ToArray();
        Assert.Equal(["INPUT0", "INPUT1"], inputs.Select(i => i.GetProperty("name").GetString()));
        Assert.All(inputs, i => Assert.Equal("FP32", i.GetProperty("datatype").GetString()));
        Assert.Equal([-1L, 16L], inputs[0].GetProperty("shape").EnumerateArray().Select(d => d.GetInt64()));
        Assert.Equal(["OUTPUT0", "OUTPUT1"], body.GetProperty("outputs").EnumerateArray().Select(o => o.GetProperty("name").GetString()));
    }

    [Theory]
    [InlineData("v2/models/no_such_model", "no_such_model")]
    [InlineData("v2/models/no_such_model/ready", "no_such_model")]
    [InlineData("v2/models/no_such_model/config", "no_such_model")]
    [InlineData("v2/models/add_sub/versions/9", "9")]
    [InlineData("v2/models/add_sub/versions/9/ready", "9")]
    [InlineData("v1/models/no_such_model", "no_such_model")]
    public async Task Unknown_model_or_version_is_404_naming_it(string path, string name)
    {
        var body = await Server.GetJsonAsync(path, HttpStatusCode.NotFound);
        Assert.Contains(name, body.GetProperty("error").GetString(), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("v2/models/mlp/ready", null)]
    [InlineData("v2/models/mlp/versions/1/ready", "1")]
    public async Task Model_ready_answers_200_with_name_and_readiness(string path, string? version)
    {
        var body = await Server.GetJsonAsync(path);
        Assert.Equal("mlp", body.GetProperty("name").GetString());
        Assert.True(body.GetProperty("ready").GetBoolean());
        Assert.Equal(version, body.TryGetProperty("version", out var v) ? v.GetString() : null);
    }

    [Theory]
    [InlineData("v2/models/add_sub/config")]
    [InlineData("v2/models/add_sub/versions/1/config")]
    public async Task Config_is_the_effective_model_configuration(string path)
    {
        var body = await Server.GetJsonAsync(path);
        Assert.Equal("add_sub", body.GetProperty("name").GetString());
        Assert.Equal(128, body.GetProperty("max_batch_size").GetInt32());
    }

    [Fact]
    public async Task Statistics_count_inferences_per_model_and_version()
    {
        var request = V2Client.Request(
            V2Client.Input("INPUT0", "FP32", [1, 16], V2Client.Numbers(Enumerable.Repeat(1.0, 16))),
            V2Client.Input("INPUT1", "FP32", [1, 16], V2Client.Numbers(Enumerable.Repeat(2.0, 16))));
        (await V2Client.InferAsync(Server.Http, "add_sub", V2Client.Json(request))).AssertOk();

        foreach (var path in (string[])["v2/models/stats", "v2/models/add_sub/stats", "v2/models/add_sub/versions/1/stats"])
        {
            var stats = (await Server.GetJsonAsync(path)).GetProperty("model_stats").EnumerateArray().ToArray();
            var addSub = stats.Single(s => s.GetProperty("name").GetString() == "add_sub");
            Assert.Equal("1", addSub.GetProperty("version").GetString());
            Assert.True(addSub.GetProperty("inference_count").GetInt64() >= 1);
            Assert.True(addSub.GetProperty("execution_count").GetInt64() >= 1);
            var success = addSub.GetProperty("inference_stats").GetProperty("success");
            Assert.True(success.GetProperty("count").GetInt64() >= 1);
            Assert.True(success.GetProperty("ns").GetInt64() > 0);
            var batchStats = addSub.GetProperty("batch_stats").EnumerateArray().ToArray();
            Assert.Contains(batchStats, b => b.GetProperty("batch_size").GetInt64() == 1 && b.GetProperty("compute_infer").GetProperty("count").GetInt64() >= 1);
            Assert.All(batchStats, b => Assert.True(b.GetProperty("compute_infer").GetProperty("ns").GetInt64() > 0));
            if (path != "v2/models/stats")
                Assert.Single(stats);
        }
    }

    [Fact]
    public async Task Repository_index_lists_every_model_with_its_state()
    {
        using var all = await Server.Http.PostAsync("v2/repository/index", null);
        Assert.Equal(HttpStatusCode.OK, all.StatusCode);
        var rows = (await all.Content.ReadFromJsonAsync<JsonElement>()).EnumerateArray().ToArray();
        foreach (var model in ServerFixture.Models)
            Assert.Contains(rows, r => r.GetProperty("name").GetString() == model && r.GetProperty("state").GetString() == "READY" && r.GetProperty("version").GetString() == "1");

        using var ready = await Server.Http.PostAsync("v2/repository/index", V2Client.Json("""{"ready": true}"""));
        var readyRows = (await ready.Content.ReadFromJsonAsync<JsonElement>()).EnumerateArray().ToArray();
        Assert.All(readyRows, r => Assert.Equal("READY", r.GetProperty("state").GetString()));
    }

    [Fact]
    public async Task Tensorflow_model_status_reports_available_versions()
    {
        var body = await Server.GetJsonAsync("v1/models/add_sub");
        var version = Assert.Single(body.GetProperty("model_version_status").EnumerateArray());
        Assert.Equal("1", version.GetProperty("version").GetString());
        Assert.Equal("AVAILABLE", version.GetProperty("state").GetString());
    }

    [Fact]
    public async Task Unknown_path_is_404_with_an_error_body()
    {
        var body = await Server.GetJsonAsync("v3/nothing", HttpStatusCode.NotFound);
        Assert.Contains("/v3/nothing", body.GetProperty("error").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Http2_with_prior_knowledge_is_served_on_the_same_port()
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "v2/models/add_sub/infer")
        {
            Version = HttpVersion.Version20,
            VersionPolicy = HttpVersionPolicy.RequestVersionExact,
            Content = V2Client.Json(V2Client.Request(
                V2Client.Input("INPUT0", "FP32", [1, 16], V2Client.Numbers(Enumerable.Repeat(3.0, 16))),
                V2Client.Input("INPUT1", "FP32", [1, 16], V2Client.Numbers(Enumerable.Repeat(1.0, 16))))),
        };
        using var response = await Server.Http.SendAsync(request);
        Assert.Equal(HttpVersion.Version20, response.Version);
        var answer = (await InferAnswer.ReadAsync(response)).AssertOk();
        Assert.All(answer.FloatData("OUTPUT0"), v => Assert.Equal(4f, v));
    }

    [Fact]
    public async Task Openapi_document_describes_every_endpoint_with_examples()
    {
        var spec = await Server.GetJsonAsync("openapi.json");
        var paths = spec.GetProperty("paths");
        foreach (var path in (string[])["/v2/health/live", "/v2/health/ready", "/v2", "/v2/models/{model}", "/v2/models/{model}/versions/{version}",
            "/v2/models/{model}/ready", "/v2/models/{model}/config", "/v2/models/{model}/infer", "/v2/models/{model}/versions/{version}/infer",
            "/v2/models/stats", "/v2/models/{model}/stats", "/v2/repository/index", "/v2/repository/models/{model}/load",
            "/v2/repository/models/{model}/unload", "/v1/models/{model}:predict", "/metrics"])
            Assert.True(paths.TryGetProperty(path, out _), path);
        var infer = paths.GetProperty("/v2/models/{model}/infer").GetProperty("post");
        Assert.True(infer.GetProperty("requestBody").TryGetProperty("$ref", out _));

        using var page = await Server.Http.GetAsync("docs");
        Assert.Equal(HttpStatusCode.OK, page.StatusCode);
        Assert.Equal("text/html", page.Content.Headers.ContentType?.MediaType);
        Assert.Contains("/openapi.json", await page.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Openapi_examples_run_against_the_server()
    {
        // The documented request examples are real requests: each one succeeds as written.
        var spec = await Server.GetJsonAsync("openapi.json");
        var bodies = spec.GetProperty("components").GetProperty("requestBodies");
        foreach (var (kind, path) in (ValueTuple<string, string>[])[("Inference", "v2/models/add_sub/infer"), ("Predict", "v1/models/add_sub:predict")])
        {
            foreach (var example in bodies.GetProperty(kind).GetProperty("content").GetProperty("application/json").GetProperty("examples").EnumerateObject())
            {
                using var response = await Server.Http.PostAsync(path, V2Client.Json(example.Value.GetProperty("value").GetRawText()));
                Assert.True(response.StatusCode == HttpStatusCode.OK, $"{kind} example {example.Name}: {await response.Content.ReadAsStringAsync()}");
            }
        }
    }
}
