using System.IO.Compression;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json.Nodes;
using HighPerfInference.Server.Tests.TestSupport;
using static HighPerfInference.Server.Tests.Http.V2Client;

namespace HighPerfInference.Server.Tests.Http;

/// <summary>Inference over the Open Inference Protocol against the real models: JSON, the binary extension, and every refusal.</summary>
[Collection(ServerCollection.Name)]
public sealed class InferTests(ServerFixture fixture)
{
    private static readonly float[] s_a = Floats(16, i => i + 1);
    private static readonly float[] s_b = Floats(16, i => 0.5f * i);

    private HttpClient Http => fixture.Server.Http;

    private static JsonObject AddSub(JsonNode? a = null, JsonNode? b = null, long[]? shape = null) => Request(
        Input("INPUT0", "FP32", shape ?? [1, 16], a ?? Numbers(s_a.Select(v => (double)v))),
        Input("INPUT1", "FP32", shape ?? [1, 16], b ?? Numbers(s_b.Select(v => (double)v))));

    private async Task AssertAddSubWorksAsync()
    {
        var answer = (await InferAsync(Http, "add_sub", Json(AddSub()))).AssertOk();
        Assert.Equal(s_a.Zip(s_b, (x, y) => x + y), answer.FloatData("OUTPUT0"));
        Assert.Equal(s_a.Zip(s_b, (x, y) => x - y), answer.FloatData("OUTPUT1"));
    }

    [Fact]
    public async Task Json_data_gives_every_output_with_id_model_and_version()
    {
        var request = AddSub();
        request["id"] = "request \"7\"";
        var answer = (await InferAsync(Http, "add_sub", Json(request))).AssertOk();

        Assert.Equal("request \"7\"", answer.Json.GetProperty("id").GetString());
        Assert.Equal("add_sub", answer.Json.GetProperty("model_name").GetString());
        Assert.Equal("1", answer.Json.GetProperty("model_version").GetString());
        Assert.Equal(2, answer.Json.GetProperty("outputs").GetArrayLength());
        var output = answer.Output("OUTPUT0");
        Assert.Equal("FP32", output.GetProperty("datatype").GetString());
        Assert.Equal([1L, 16L], output.GetProperty("shape").EnumerateArray().Select(d => d.GetInt64()));
        Assert.Equal(s_a.Zip(s_b, (x, y) => x + y), answer.FloatData("OUTPUT0"));
        Assert.Equal(s_a.Zip(s_b, (x, y) => x - y), answer.FloatData("OUTPUT1"));
        Assert.Equal("1", answer.Headers.GetValues("X-Model-Version").Single());
        Assert.True(long.Parse(answer.Headers.GetValues("X-Inference-Time-Us").Single(), System.Globalization.CultureInfo.InvariantCulture) > 0);
    }

    [Fact]
    public async Task Nested_data_and_several_rows_are_accepted()
    {
        var rows = new JsonArray([.. Enumerable.Range(0, 3).Select(r => (JsonNode)Numbers(s_a.Select(v => (double)(v * (r + 1)))))]);
        var ones = new JsonArray([.. Enumerable.Range(0, 3).Select(_ => (JsonNode)Numbers(Enumerable.Repeat(1.0, 16)))]);
        var answer = (await InferAsync(Http, "add_sub", Json(AddSub(rows, ones, [3, 16])), version: "1")).AssertOk();
        Assert.Equal([3L, 16L], answer.Output("OUTPUT0").GetProperty("shape").EnumerateArray().Select(d => d.GetInt64()));
        var sums = answer.FloatData("OUTPUT0");
        Assert.Equal(48, sums.Length);
        Assert.Equal(3 * 16 + 1, sums[47]);
    }

    [Fact]
    public async Task Requested_outputs_limit_the_answer()
    {
        var request = AddSub();
        request["outputs"] = new JsonArray(new JsonObject { ["name"] = "OUTPUT1" });
        var answer = (await InferAsync(Http, "add_sub", Json(request))).AssertOk();
        var output = Assert.Single(answer.Json.GetProperty("outputs").EnumerateArray());
        Assert.Equal("OUTPUT1", output.GetProperty("name").GetString());
    }

    [Fact]
    public async Task Priority_and_timeout_parameters_are_taken()
    {
        var request = AddSub();
        request["parameters"] = new JsonObject { ["priority"] = 1, ["timeout"] = 5_000_000, ["sequence_id"] = 0 };
        (await InferAsync(Http, "add_sub", Json(request))).AssertOk();
    }

    [Fact]
    public async Task Int32_and_mlp_models_answer_correctly()
    {
        var ints = Request(
            Input("INPUT0", "INT32", [1, 16], Numbers(Enumerable.Range(0, 16).Select(i => (double)i))),
            Input("INPUT1", "INT32", [1, 16], Numbers(Enumerable.Repeat(-3.0, 16))));
        var sum = (await InferAsync(Http, "add_sub_int32", Json(ints))).AssertOk();
        Assert.Equal(Enumerable.Range(-3, 16), sum.Output("OUTPUT0").GetProperty("data").EnumerateArray().Select(e => e.GetInt32()));

        var mlp = Request(Input("INPUT0", "FP32", [2, 256], Numbers(Enumerable.Range(0, 512).Select(i => Math.Sin(i)))));
        var probabilities = (await InferAsync(Http, "mlp", Json(mlp))).AssertOk().FloatData("OUTPUT0");
        Assert.Equal(32, probabilities.Length);
        Assert.Equal(1.0, probabilities[..16].Sum(), 3); // softmax rows sum to 1
        Assert.Equal(1.0, probabilities[16..].Sum(), 3);
    }

    [Fact]
    public async Task Binary_inputs_and_outputs_round_trip_exactly()
    {
        var header = Request(BinaryInput("INPUT0", "FP32", [1, 16], 64), BinaryInput("INPUT1", "FP32", [1, 16], 64));
        header["parameters"] = new JsonObject { ["binary_data_output"] = true };
        var answer = (await InferAsync(Http, "add_sub", Binary(header, Bytes(s_a), Bytes(s_b)))).AssertOk();

        Assert.Equal("application/octet-stream", answer.ContentHeaders.ContentType?.MediaType);
        Assert.Equal(Bytes(s_a.Zip(s_b, (x, y) => x + y).ToArray()), answer.BinaryOutput("OUTPUT0"));
        Assert.Equal(Bytes(s_a.Zip(s_b, (x, y) => x - y).ToArray()), answer.BinaryOutput("OUTPUT1"));
        Assert.Equal(128, answer.Binary.Length);
    }

    [Fact]
    public async Task Json_and_binary_outputs_mix_in_one_answer()
    {
        // One input in JSON, one in binary; OUTPUT0 in binary, OUTPUT1 in JSON.
        var header = Request(Input("INPUT0", "FP32", [1, 16], Numbers(s_a.Select(v => (double)v))), BinaryInput("INPUT1", "FP32", [1, 16], 64));
        header["outputs"] = new JsonArray(
            new JsonObject { ["name"] = "OUTPUT0", ["parameters"] = new JsonObject { ["binary_data"] = true } },
            new JsonObject { ["name"] = "OUTPUT1", ["parameters"] = new JsonObject { ["binary_data"] = false } });
        header["parameters"] = new JsonObject { ["binary_data_output"] = true };
        var answer = (await InferAsync(Http, "add_sub", Binary(header, Bytes(s_b)))).AssertOk();

        Assert.Equal(Bytes(s_a.Zip(s_b, (x, y) => x + y).ToArray()), answer.BinaryOutput("OUTPUT0"));
        Assert.False(answer.Output("OUTPUT0").TryGetProperty("data", out _));
        Assert.Equal(s_a.Zip(s_b, (x, y) => x - y), answer.FloatData("OUTPUT1"));
        Assert.Equal(64, answer.Binary.Length);
    }

    [Fact]
    public async Task A_one_mebibyte_tensor_travels_in_binary()
    {
        var values = Floats(256 * 1024, i => i * 0.25f);
        var header = Request(BinaryInput("INPUT0", "FP32", [1, values.Length], values.Length * 4));
        header["outputs"] = new JsonArray(new JsonObject { ["name"] = "OUTPUT0", ["parameters"] = new JsonObject { ["binary_data"] = true } });
        var answer = (await InferAsync(Http, "identity_fp32", Binary(header, Bytes(values)))).AssertOk();
        Assert.Equal(Bytes(values), answer.BinaryOutput("OUTPUT0"));
    }

    [Fact]
    public async Task Raw_binary_body_feeds_the_single_input()
    {
        // Inference-Header-Content-Length: 0: the whole body is the model's one input.
        var vector = Bytes(1f, 2f, 3f, 4f);
        var content = new ByteArrayContent(vector);
        content.Headers.Add(HeaderLength, "0");
        var answer = (await InferAsync(Http, "fixed_vec4", content)).AssertOk();
        Assert.Equal([2f, 4f, 6f, 8f], answer.FloatData("OUTPUT0"));

        // A batching model with one variable dimension gets batch 1 and the rest from the length.
        var row = Floats(10, i => i);
        content = new ByteArrayContent(Bytes(row));
        content.Headers.Add(HeaderLength, "0");
        answer = (await InferAsync(Http, "identity_fp32", content)).AssertOk();
        Assert.Equal([1L, 10L], answer.Output("OUTPUT0").GetProperty("shape").EnumerateArray().Select(d => d.GetInt64()));
        Assert.Equal(row, answer.FloatData("OUTPUT0"));
    }

    [Fact]
    public async Task Gzip_and_deflate_bodies_are_accepted()
    {
        foreach (var encoding in (string[])["gzip", "deflate"])
        {
            var json = Encoding.UTF8.GetBytes(AddSub().ToJsonString());
            using var compressed = new MemoryStream();
            using (Stream zip = encoding == "gzip" ? new GZipStream(compressed, CompressionLevel.Fastest, leaveOpen: true) : new ZLibStream(compressed, CompressionLevel.Fastest, leaveOpen: true))
                zip.Write(json);
            var content = new ByteArrayContent(compressed.ToArray());
            content.Headers.ContentEncoding.Add(encoding);
            content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
            var answer = (await InferAsync(Http, "add_sub", content)).AssertOk();
            Assert.Equal(s_a.Zip(s_b, (x, y) => x + y), answer.FloatData("OUTPUT0"));
        }
    }

    public static TheoryData<string, string, HttpStatusCode, string[]> JsonRefusals => new()
    {
        { "malformed JSON", """{"inputs": [{"name": "INPUT0",""", HttpStatusCode.BadRequest, ["malformed JSON"] },
        { "not an object", "[1, 2]", HttpStatusCode.BadRequest, ["JSON object"] },
        { "no inputs", """{"id": "1"}""", HttpStatusCode.BadRequest, ["inputs"] },
        { "wrong element count",
            """{"inputs": [{"name": "INPUT0", "shape": [1, 16], "datatype": "FP32", "data": [1, 2, 3]}, {"name": "INPUT1", "shape": [1, 16], "datatype": "FP32", "data": [1, 2, 3]}]}""",
            HttpStatusCode.BadRequest, ["INPUT0", "3 elements", "[1,16]", "16"] },
        { "wrong shape for the model",
            """{"inputs": [{"name": "INPUT0", "shape": [1, 8], "datatype": "FP32", "data": [1, 2, 3, 4, 5, 6, 7, 8]}, {"name": "INPUT1", "shape": [1, 8], "datatype": "FP32", "data": [1, 2, 3, 4, 5, 6, 7, 8]}]}""",
            HttpStatusCode.BadRequest, ["INPUT0"] },
        { "wrong datatype for the model",
            """{"inputs": [{"name": "INPUT0", "shape": [1, 1], "datatype": "INT64", "data": [1]}, {"name": "INPUT1", "shape": [1, 1], "datatype": "INT64", "data": [1]}]}""",
            HttpStatusCode.BadRequest, ["INPUT0"] },
        { "unknown datatype", """{"inputs": [{"name": "INPUT0", "shape": [1], "datatype": "FP8", "data": [1]}]}""", HttpStatusCode.BadRequest, ["INPUT0", "FP8"] },
        { "value not of the datatype", """{"inputs": [{"name": "INPUT0", "shape": [2], "datatype": "FP32", "data": [1, "x"]}]}""", HttpStatusCode.BadRequest, ["INPUT0", "element 1", "FP32"] },
        { "ragged nested data", """{"inputs": [{"name": "INPUT0", "shape": [2, 2], "datatype": "FP32", "data": [[1, 2], [3]]}]}""", HttpStatusCode.BadRequest, ["INPUT0", "ragged"] },
        { "missing shape", """{"inputs": [{"name": "INPUT0", "datatype": "FP32", "data": [1]}]}""", HttpStatusCode.BadRequest, ["INPUT0", "shape"] },
        { "negative shape", """{"inputs": [{"name": "INPUT0", "shape": [-1], "datatype": "FP32", "data": [1]}]}""", HttpStatusCode.BadRequest, ["INPUT0", "shape"] },
        { "no name", """{"inputs": [{"shape": [1], "datatype": "FP32", "data": [1]}]}""", HttpStatusCode.BadRequest, ["input #0", "name"] },
        { "no data", """{"inputs": [{"name": "INPUT0", "shape": [1], "datatype": "FP32"}]}""", HttpStatusCode.BadRequest, ["INPUT0", "data"] },
        { "bad priority", """{"parameters": {"priority": -2}, "inputs": []}""", HttpStatusCode.BadRequest, ["priority"] },
        { "bad timeout", """{"parameters": {"timeout": "soon"}, "inputs": []}""", HttpStatusCode.BadRequest, ["timeout"] },
        { "missing input",
            """{"inputs": [{"name": "INPUT0", "shape": [1, 16], "datatype": "FP32", "data": [1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16]}]}""",
            HttpStatusCode.BadRequest, ["INPUT1"] },
        { "unknown input",
            """{"inputs": [{"name": "INPUT0", "shape": [1, 16], "datatype": "FP32", "data": [1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16]}, {"name": "INPUT9", "shape": [1, 16], "datatype": "FP32", "data": [1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16]}]}""",
            HttpStatusCode.NotFound, ["INPUT9"] },
        { "unknown output",
            """{"inputs": [{"name": "INPUT0", "shape": [1, 16], "datatype": "FP32", "data": [1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16]}, {"name": "INPUT1", "shape": [1, 16], "datatype": "FP32", "data": [1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16]}], "outputs": [{"name": "OUTPUT7"}]}""",
            HttpStatusCode.NotFound, ["OUTPUT7"] },
        { "classification extension",
            """{"inputs": [{"name": "INPUT0", "shape": [1], "datatype": "FP32", "data": [1]}], "outputs": [{"name": "OUTPUT0", "parameters": {"classification": 3}}]}""",
            HttpStatusCode.NotImplemented, ["classification"] },
    };

    [Theory]
    [MemberData(nameof(JsonRefusals))]
    public async Task A_bad_request_gets_its_code_and_a_message_naming_the_problem_and_the_server_stays_correct(string why, string body, HttpStatusCode status, string[] fragments)
    {
        _ = why;
        (await InferAsync(Http, "add_sub", Json(body))).AssertError(status, fragments);
        await AssertAddSubWorksAsync();
    }

    [Theory]
    [InlineData("no_such_model", null, "no_such_model")]
    [InlineData("add_sub", "9", "9")]
    public async Task Unknown_model_or_version_is_404(string model, string? version, string fragment)
    {
        (await InferAsync(Http, model, Json(AddSub()), version)).AssertError(HttpStatusCode.NotFound, fragment);
        await AssertAddSubWorksAsync();
    }

    [Fact]
    public async Task Binary_sizes_that_do_not_fit_are_refused()
    {
        // binary_data_size disagrees with the shape.
        var header = Request(BinaryInput("INPUT0", "FP32", [1, 16], 60), BinaryInput("INPUT1", "FP32", [1, 16], 64));
        (await InferAsync(Http, "add_sub", Binary(header, new byte[60], new byte[64]))).AssertError(HttpStatusCode.BadRequest, "INPUT0", "binary_data_size", "60");

        // The body is shorter than the sizes announce.
        header = Request(BinaryInput("INPUT0", "FP32", [1, 16], 64), BinaryInput("INPUT1", "FP32", [1, 16], 64));
        (await InferAsync(Http, "add_sub", Binary(header, new byte[64], new byte[10]))).AssertError(HttpStatusCode.BadRequest, "INPUT1", "past the end");

        // Bytes left over after the last input.
        (await InferAsync(Http, "add_sub", Binary(header, new byte[64], new byte[64], new byte[3]))).AssertError(HttpStatusCode.BadRequest, "131", "128");

        // A header length beyond the body.
        var content = new ByteArrayContent(Encoding.UTF8.GetBytes("{}"));
        content.Headers.Add(HeaderLength, "500");
        (await InferAsync(Http, "add_sub", content)).AssertError(HttpStatusCode.BadRequest, HeaderLength);

        // A raw body for a model with two inputs.
        content = new ByteArrayContent(new byte[64]);
        content.Headers.Add(HeaderLength, "0");
        (await InferAsync(Http, "add_sub", content)).AssertError(HttpStatusCode.BadRequest, "one input");

        await AssertAddSubWorksAsync();
    }

    [Fact]
    public async Task An_oversize_body_is_413_before_it_is_read()
    {
        // Raw HTTP/1.1: the server answers from the Content-Length alone, without waiting for the body
        // (an HttpClient would still be sending it when the server closes).
        using var client = new System.Net.Sockets.TcpClient();
        await client.ConnectAsync(fixture.Server.HttpEndPoint);
        var stream = client.GetStream();
        var head = $"POST /v2/models/add_sub/infer HTTP/1.1\r\nHost: test\r\nContent-Type: application/json\r\nConnection: close\r\nContent-Length: {ServerFixture.MaxRequestBodySize + 1}\r\n\r\n";
        await stream.WriteAsync(Encoding.ASCII.GetBytes(head));
        using var reader = new StreamReader(stream, Encoding.UTF8);
        var response = await reader.ReadToEndAsync().WaitAsync(TimeSpan.FromSeconds(30));

        Assert.StartsWith("HTTP/1.1 413 ", response, StringComparison.Ordinal);
        Assert.Contains($"the request body is {ServerFixture.MaxRequestBodySize + 1} bytes, more than the limit of {ServerFixture.MaxRequestBodySize}", response, StringComparison.Ordinal);
        await AssertAddSubWorksAsync();
    }

    [Fact]
    public async Task A_gzip_body_that_expands_past_the_limit_is_413()
    {
        using var compressed = new MemoryStream();
        using (var zip = new GZipStream(compressed, CompressionLevel.SmallestSize, leaveOpen: true))
            zip.Write(new byte[ServerFixture.MaxRequestBodySize + 1024]);
        var content = new ByteArrayContent(compressed.ToArray());
        content.Headers.ContentEncoding.Add("gzip");
        (await InferAsync(Http, "add_sub", content)).AssertError(HttpStatusCode.RequestEntityTooLarge, "decompressed");
        await AssertAddSubWorksAsync();
    }

    [Fact]
    public async Task Corrupt_gzip_is_400_and_an_unknown_encoding_is_415()
    {
        var content = new ByteArrayContent(Encoding.UTF8.GetBytes("this is not gzip"));
        content.Headers.ContentEncoding.Add("gzip");
        (await InferAsync(Http, "add_sub", content)).AssertError(HttpStatusCode.BadRequest, "gzip");

        content = new ByteArrayContent(Encoding.UTF8.GetBytes(AddSub().ToJsonString()));
        content.Headers.ContentEncoding.Add("br");
        (await InferAsync(Http, "add_sub", content)).AssertError(HttpStatusCode.UnsupportedMediaType, "br");
        await AssertAddSubWorksAsync();
    }

    [Fact]
    public async Task Chunked_bodies_are_read_whole()
    {
        var json = Encoding.UTF8.GetBytes(AddSub().ToJsonString());
        var content = new StreamContent(new MemoryStream(json)); // no length: sent chunked
        content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        var answer = (await InferAsync(Http, "add_sub", content)).AssertOk();
        Assert.Equal(s_a.Zip(s_b, (x, y) => x + y), answer.FloatData("OUTPUT0"));
    }

    [Fact]
    public async Task Concurrent_requests_each_get_their_own_answer()
    {
        var tasks = Enumerable.Range(0, 64).Select(async i =>
        {
            var a = Floats(16, j => i * 100 + j);
            var request = Request(
                Input("INPUT0", "FP32", [1, 16], Numbers(a.Select(v => (double)v))),
                Input("INPUT1", "FP32", [1, 16], Numbers(Enumerable.Repeat(1.0, 16))));
            request["id"] = i.ToString(System.Globalization.CultureInfo.InvariantCulture);
            var answer = (await InferAsync(Http, "add_sub", Json(request))).AssertOk();
            Assert.Equal(i.ToString(System.Globalization.CultureInfo.InvariantCulture), answer.Json.GetProperty("id").GetString());
            Assert.Equal(a.Select(v => v + 1), answer.FloatData("OUTPUT0"));
        });
        await Task.WhenAll(tasks);
    }
}
