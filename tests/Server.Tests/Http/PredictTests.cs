using System.Net;
using System.Text.Json;
using HighPerfInference.Server.Tests.TestSupport;

namespace HighPerfInference.Server.Tests.Http;

/// <summary>The TensorFlow-Serving-style predict API against the real models.</summary>
[Collection(ServerCollection.Name)]
public sealed class PredictTests(ServerFixture fixture)
{
    private HttpClient Http => fixture.Server.Http;

    private async Task<(HttpResponseMessage Response, JsonElement Body)> PredictAsync(string path, string body)
    {
        var response = await Http.PostAsync(path, V2Client.Json(body));
        return (response, JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement);
    }

    private static string Row(int start) => "[" + string.Join(",", Enumerable.Range(start, 16)) + "]";

    [Fact]
    public async Task Row_format_with_named_inputs_answers_one_object_per_row()
    {
        var body = $$"""{"instances": [{"INPUT0": {{Row(0)}}, "INPUT1": {{Row(0)}}}, {"INPUT0": {{Row(10)}}, "INPUT1": {{Row(0)}}}]}""";
        var (response, json) = await PredictAsync("v1/models/add_sub:predict", body);
        Assert.True(response.StatusCode == HttpStatusCode.OK, json.ToString());
        Assert.Equal("1", response.Headers.GetValues("X-Model-Version").Single());
        Assert.True(response.Headers.Contains("X-Inference-Time-Us"));

        var predictions = json.GetProperty("predictions").EnumerateArray().ToArray();
        Assert.Equal(2, predictions.Length);
        Assert.Equal(Enumerable.Range(0, 16).Select(i => 2f * i), predictions[0].GetProperty("OUTPUT0").EnumerateArray().Select(e => e.GetSingle()));
        Assert.All(predictions[1].GetProperty("OUTPUT1").EnumerateArray(), e => Assert.Equal(10f, e.GetSingle()));
    }

    [Fact]
    public async Task Row_format_for_a_single_input_model_takes_bare_values()
    {
        var (response, json) = await PredictAsync("v1/models/identity_fp32/versions/1:predict", """{"instances": [[1, 2, 3], [4, 5, 6]]}""");
        Assert.True(response.StatusCode == HttpStatusCode.OK, json.ToString());
        Assert.Equal("[[1,2,3],[4,5,6]]", json.GetProperty("predictions").GetRawText());
    }

    [Fact]
    public async Task Columnar_format_answers_outputs_by_name()
    {
        var body = $$$"""{"signature_name": "serving_default", "inputs": {"INPUT0": [{{{Row(1)}}}], "INPUT1": [{{{Row(1)}}}]}}""";
        var (response, json) = await PredictAsync("v1/models/add_sub:predict", body);
        Assert.True(response.StatusCode == HttpStatusCode.OK, json.ToString());
        var outputs = json.GetProperty("outputs");
        Assert.Equal(16, outputs.GetProperty("OUTPUT0")[0].GetArrayLength());
        Assert.All(outputs.GetProperty("OUTPUT1")[0].EnumerateArray(), e => Assert.Equal(0f, e.GetSingle()));

        (response, json) = await PredictAsync("v1/models/fixed_vec4:predict", """{"inputs": [1, 2, 3, 4]}""");
        Assert.True(response.StatusCode == HttpStatusCode.OK, json.ToString());
        Assert.Equal("[2,4,6,8]", json.GetProperty("outputs").GetRawText());
    }

    [Theory]
    [InlineData("""{"instances": [{"INPUT0": [1, 2]}]}""", HttpStatusCode.BadRequest, "INPUT1")]
    [InlineData("""{"instances": [{"INPUT0": [1], "INPUT1": [1], "INPUT7": [1]}]}""", HttpStatusCode.NotFound, "INPUT7")]
    [InlineData("""{"instances": [[1, 2]]}""", HttpStatusCode.BadRequest, "2 inputs")]
    [InlineData("""{"instances": [{"INPUT0": [1, 2], "INPUT1": [1, 2]}, {"INPUT0": [1], "INPUT1": [1]}]}""", HttpStatusCode.BadRequest, "instance 1")]
    [InlineData("""{"rows": []}""", HttpStatusCode.BadRequest, "instances")]
    [InlineData("""{"instances": [], "inputs": {}}""", HttpStatusCode.BadRequest, "not both")]
    [InlineData("""{"instances": [{"INPUT0": ["a"], "INPUT1": [1]}]}""", HttpStatusCode.BadRequest, "INPUT0")]
    public async Task Bad_predict_requests_name_the_problem(string body, HttpStatusCode status, string fragment)
    {
        var (response, json) = await PredictAsync("v1/models/add_sub:predict", body);
        Assert.True(response.StatusCode == status, json.ToString());
        Assert.Contains(fragment, json.GetProperty("error").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Unknown_model_is_404()
    {
        var (response, json) = await PredictAsync("v1/models/nothing:predict", """{"instances": [1]}""");
        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.Contains("nothing", json.GetProperty("error").GetString(), StringComparison.Ordinal);
    }
}
