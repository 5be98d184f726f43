using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace HighPerfInference.Server.Tests.Http;

/// <summary>Builds Open Inference Protocol requests (JSON and binary extension) and reads their answers, for the tests.</summary>
internal static class V2Client
{
    public const string HeaderLength = "Inference-Header-Content-Length";

    /// <summary>An input with JSON data.</summary>
    public static JsonObject Input(string name, string datatype, long[] shape, JsonNode data) => new()
    {
        ["name"] = name,
        ["shape"] = new JsonArray([.. shape.Select(d => (JsonNode)d)]),
        ["datatype"] = datatype,
        ["data"] = data,
    };

    /// <summary>An input whose bytes travel after the JSON.</summary>
    public static JsonObject BinaryInput(string name, string datatype, long[] shape, int byteLength) => new()
    {
        ["name"] = name,
        ["shape"] = new JsonArray([.. shape.Select(d => (JsonNode)d)]),
        ["datatype"] = datatype,
        ["parameters"] = new JsonObject { ["binary_data_size"] = byteLength },
    };

    public static JsonArray Numbers(IEnumerable<double> values) => new([.. values.Select(v => (JsonNode)v)]);

    public static JsonObject Request(params JsonObject[] inputs) => new() { ["inputs"] = new JsonArray(inputs) };

    public static StringContent Json(JsonNode request) => new(request.ToJsonString(), Encoding.UTF8, "application/json");

    public static StringContent Json(string text) => new(text, Encoding.UTF8, "application/json");

    /// <summary>The JSON header, then the tensors' bytes, with Inference-Header-Content-Length set.</summary>
    public static ByteArrayContent Binary(JsonNode header, params byte[][] tensors)
    {
        var json = Encoding.UTF8.GetBytes(header.ToJsonString());
        var body = json.Concat(tensors.SelectMany(t => t)).ToArray();
        var content = new ByteArrayContent(body);
        content.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
        content.Headers.Add(HeaderLength, json.Length.ToString(System.Globalization.CultureInfo.InvariantCulture));
        return content;
    }

    public static async Task<InferAnswer> InferAsync(HttpClient http, string model, HttpContent content, string? version = null)
    {
        var path = version is null ? $"v2/models/{model}/infer" : $"v2/models/{model}/versions/{version}/infer";
        using var response = await http.PostAsync(path, content);
        return await InferAnswer.ReadAsync(response);
    }

    public static byte[] Bytes<T>(params T[] values)
        where T : unmanaged => System.Runtime.InteropServices.MemoryMarshal.AsBytes(values.AsSpan()).ToArray();

    public static float[] Floats(int count, Func<int, float> value) => [.. Enumerable.Range(0, count).Select(value)];
}

/// <summary>An answer of the infer endpoint: status, headers, the JSON part and any binary outputs after it.</summary>
internal sealed class InferAnswer
{
    private InferAnswer(HttpStatusCode status, HttpResponseMessage response, JsonElement json, byte[] binary)
    {
        Status = status;
        Headers = response.Headers;
        ContentHeaders = response.Content.Headers;
        Json = json;
        Binary = binary;
    }

    public HttpStatusCode Status { get; }
    public HttpResponseHeaders Headers { get; }
    public HttpContentHeaders ContentHeaders { get; }
    public JsonElement Json { get; }

    /// <summary>The bytes after the JSON header (binary outputs, in output order).</summary>
    public byte[] Binary { get; }

    public string Error => Json.GetProperty("error").GetString()!;

    public static async Task<InferAnswer> ReadAsync(HttpResponseMessage response)
    {
        var body = await response.Content.ReadAsByteArrayAsync();
        var jsonLength = response.Headers.TryGetValues(V2Client.HeaderLength, out var values) ? int.Parse(values.Single(), System.Globalization.CultureInfo.InvariantCulture) : body.Length;
        var json = jsonLength == 0 ? default : JsonDocument.Parse(body.AsMemory(0, jsonLength)).RootElement.Clone();
        return new InferAnswer(response.StatusCode, response, json, body[jsonLength..]);
    }

    public JsonElement Output(string name) => Json.GetProperty("outputs").EnumerateArray().Single(o => o.GetProperty("name").GetString() == name);

    public float[] FloatData(string name) => [.. Output(name).GetProperty("data").EnumerateArray().Select(e => e.GetSingle())];

    /// <summary>The binary bytes of an output, located by the binary_data_size of the outputs before it.</summary>
    public byte[] BinaryOutput(string name)
    {
        var offset = 0;
        foreach (var output in Json.GetProperty("outputs").EnumerateArray())
        {
            if (!output.TryGetProperty("parameters", out var parameters) || !parameters.TryGetProperty("binary_data_size", out var size))
                continue;
            if (output.GetProperty("name").GetString() == name)
                return Binary[offset..(offset + size.GetInt32())];
            offset += size.GetInt32();
        }
        throw new KeyNotFoundException($"output {name} is not binary in {Json}");
    }

    /// <summary>Asserts success, with the server's error message in the failure text.</summary>
    public InferAnswer AssertOk()
    {
        Assert.True(Status == HttpStatusCode.OK, $"{(int)Status}: {Json}");
        return this;
    }

    /// <summary>Asserts an error answer with this status whose message contains every fragment.</summary>
    public void AssertError(HttpStatusCode status, params string[] fragments)
    {
        Assert.True(Status == status, $"expected {(int)status}, got {(int)Status}: {Json}");
        foreach (var fragment in fragments)
            Assert.Contains(fragment, Error, StringComparison.Ordinal);
    }
}
