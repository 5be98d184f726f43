using System.Buffers.Binary;
using System.Net;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using HighPerfInference.Server.Models;
using HighPerfInference.Server.Tests.TestSupport;
using Microsoft.Extensions.DependencyInjection;
using static HighPerfInference.Server.Tests.Http.V2Client;

namespace HighPerfInference.Server.Tests.Http;

/// <summary>
/// Every datatype through the HTTP layer, JSON and binary in both directions, against the echo model
/// (each input comes back as its output unchanged) so the tests see exactly what the server
/// parsed and wrote. The echo stands in for the repository; Kestrel, routing and the HTTP code are real.
/// </summary>
public sealed class DataTypeTests : IAsyncLifetime
{
    private readonly EchoRepository _echo = new();
    private RunningServer? _server;

    private HttpClient Http => _server!.Http;

    public async Task InitializeAsync() =>
        _server = await RunningServer.StartAsync([EchoRepository.Model], configure: builder => _echo.AddTo(builder.Services));

    public async Task DisposeAsync() => await _server!.DisposeAsync();

    /// <summary>Datatype, three values as JSON, and the same values as little-endian bytes.</summary>
    public static TheoryData<string, string, byte[]> Cases => new()
    {
        { "BOOL", "[true, false, true]", [1, 0, 1] },
        { "UINT8", "[0, 255, 7]", [0, 255, 7] },
        { "UINT16", "[0, 65535, 300]", Bytes<ushort>(0, 65535, 300) },
        { "UINT32", "[0, 4294967295, 70000]", Bytes<uint>(0, 4294967295, 70000) },
        { "UINT64", "[0, 18446744073709551615, 5]", Bytes<ulong>(0, 18446744073709551615, 5) },
        { "INT8", "[-128, 127, 0]", Bytes<sbyte>(-128, 127, 0) },
        { "INT16", "[-32768, 32767, 1]", Bytes<short>(-32768, 32767, 1) },
        { "INT32", "[-2147483648, 2147483647, 3]", Bytes(-2147483648, 2147483647, 3) },
        { "INT64", "[-9223372036854775808, 9223372036854775807, 4]", Bytes(-9223372036854775808, 9223372036854775807, 4L) },
        { "FP16", "[1.5, -2, 65504]", Bytes((Half)1.5, (Half)(-2), (Half)65504) },
        { "BF16", "[1.5, -2, 3.140625]", Bytes<ushort>(0x3FC0, 0xC000, 0x4049) },
        { "FP32", "[1.5, -0.1, 3.4E+38]", Bytes(1.5f, -0.1f, 3.4e38f) },
        { "FP64", "[1.5, -0.1, 1E+300]", Bytes(1.5, -0.1, 1e300) },
        { "BYTES", """["hello", "", "wörld \"quoted\""]""", BytesElements("hello", "", "wörld \"quoted\"") },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public async Task Json_in_json_out(string type, string values, byte[] _)
    {
        var answer = (await InferAsync(Http, EchoRepository.Model, Json(Request(Input("IN_" + type, type, [1, 3], JsonNode.Parse(values)!))))).AssertOk();
        var output = answer.Output("OUT_" + type);
        Assert.Equal(type, output.GetProperty("datatype").GetString());
        Assert.Equal([1L, 3L], output.GetProperty("shape").EnumerateArray().Select(d => d.GetInt64()));
        AssertSameValues(type, JsonDocument.Parse(values).RootElement, output.GetProperty("data"));
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public async Task Json_in_binary_out(string type, string values, byte[] bytes)
    {
        var request = Request(Input("IN_" + type, type, [1, 3], JsonNode.Parse(values)!));
        request["parameters"] = new JsonObject { ["binary_data_output"] = true };
        var answer = (await InferAsync(Http, EchoRepository.Model, Json(request))).AssertOk();
        Assert.Equal(bytes, answer.BinaryOutput("OUT_" + type));
        Assert.Equal(bytes.Length, answer.Output("OUT_" + type).GetProperty("parameters").GetProperty("binary_data_size").GetInt32());
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public async Task Binary_in_json_out(string type, string values, byte[] bytes)
    {
        var answer = (await InferAsync(Http, EchoRepository.Model, Binary(Request(BinaryInput("IN_" + type, type, [1, 3], bytes.Length)), bytes))).AssertOk();
        AssertSameValues(type, JsonDocument.Parse(values).RootElement, answer.Output("OUT_" + type).GetProperty("data"));
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public async Task Binary_in_binary_out(string type, string _, byte[] bytes)
    {
        var header = Request(BinaryInput("IN_" + type, type, [1, 3], bytes.Length));
        header["outputs"] = new JsonArray(new JsonObject { ["name"] = "OUT_" + type, ["parameters"] = new JsonObject { ["binary_data"] = true } });
        var answer = (await InferAsync(Http, EchoRepository.Model, Binary(header, bytes))).AssertOk();
        Assert.Equal(bytes, answer.BinaryOutput("OUT_" + type));
    }

    [Fact]
    public async Task Every_datatype_in_one_request_mixing_json_and_binary()
    {
        var cases = Cases.Select(c => ((string)c[0], (string)c[1], (byte[])c[2])).ToArray();
        var inputs = cases.Select((c, i) => i % 2 == 0 ? Input("IN_" + c.Item1, c.Item1, [1, 3], JsonNode.Parse(c.Item2)!) : BinaryInput("IN_" + c.Item1, c.Item1, [1, 3], c.Item3.Length));
        var header = Request([.. inputs]);
        header["outputs"] = new JsonArray([.. cases.Select((c, i) => (JsonNode)new JsonObject
        {
            ["name"] = "OUT_" + c.Item1,
            ["parameters"] = new JsonObject { ["binary_data"] = i % 3 == 0 },
        })]);
        var answer = (await InferAsync(Http, EchoRepository.Model, Binary(header, [.. cases.Where((_, i) => i % 2 == 1).Select(c => c.Item3)]))).AssertOk();
        for (var i = 0; i < cases.Length; i++)
        {
            var (type, values, bytes) = cases[i];
            if (i % 3 == 0)
                Assert.Equal(bytes, answer.BinaryOutput("OUT_" + type));
            else
                AssertSameValues(type, JsonDocument.Parse(values).RootElement, answer.Output("OUT_" + type).GetProperty("data"));
        }
    }

    [Fact]
    public async Task Non_finite_floats_travel_as_named_strings()
    {
        var values = """["NaN", "Infinity", "-Infinity", 1.25]""";
        foreach (var type in (string[])["FP16", "BF16", "FP32", "FP64"])
        {
            var answer = (await InferAsync(Http, EchoRepository.Model, Json(Request(Input("IN_" + type, type, [1, 4], JsonNode.Parse(values)!))))).AssertOk();
            Assert.Equal(JsonNode.Parse(values)!.ToJsonString(), JsonNode.Parse(answer.Output("OUT_" + type).GetProperty("data").GetRawText())!.ToJsonString());
        }
    }

    [Fact]
    public async Task Values_out_of_range_name_the_element()
    {
        (await InferAsync(Http, EchoRepository.Model, Json(Request(Input("IN_UINT8", "UINT8", [1, 2], JsonNode.Parse("[1, 256]")!)))))
            .AssertError(HttpStatusCode.BadRequest, "IN_UINT8", "element 1", "256", "UINT8");
        (await InferAsync(Http, EchoRepository.Model, Json(Request(Input("IN_INT32", "INT32", [1, 1], JsonNode.Parse("[1.5]")!)))))
            .AssertError(HttpStatusCode.BadRequest, "IN_INT32", "1.5");
        (await InferAsync(Http, EchoRepository.Model, Json(Request(Input("IN_BOOL", "BOOL", [1, 1], JsonNode.Parse("[1]")!)))))
            .AssertError(HttpStatusCode.BadRequest, "IN_BOOL", "BOOL");
    }

    [Fact]
    public async Task Binary_bytes_elements_must_fill_their_slice()
    {
        var cut = BytesElements("hello")[..6];
        (await InferAsync(Http, EchoRepository.Model, Binary(Request(BinaryInput("IN_BYTES", "BYTES", [1, 1], cut.Length)), cut)))
            .AssertError(HttpStatusCode.BadRequest, "IN_BYTES", "cut short");
        var two = BytesElements("a", "b");
        (await InferAsync(Http, EchoRepository.Model, Binary(Request(BinaryInput("IN_BYTES", "BYTES", [1, 3], two.Length)), two)))
            .AssertError(HttpStatusCode.BadRequest, "IN_BYTES", "2 BYTES elements", "3");
    }

    [Fact]
    public async Task Datatype_after_data_is_still_read()
    {
        var body = """{"inputs": [{"data": [[1, 2], [3, 4]], "name": "IN_INT16", "shape": [2, 2], "datatype": "INT16"}]}""";
        var answer = (await InferAsync(Http, EchoRepository.Model, Json(body))).AssertOk();
        Assert.Equal([1, 2, 3, 4], answer.Output("OUT_INT16").GetProperty("data").EnumerateArray().Select(e => e.GetInt16()));
    }

    [Fact]
    public async Task Bytes_may_be_given_as_b64_and_come_back_exact_in_binary()
    {
        var request = Request(Input("IN_BYTES", "BYTES", [1, 2], JsonNode.Parse("""["plain", {"b64": "AAEC/w=="}]""")!));
        var answer = (await InferAsync(Http, EchoRepository.Model, Json(request))).AssertOk();
        var data = answer.Output("OUT_BYTES").GetProperty("data");
        Assert.Equal("plain", data[0].GetString());
        Assert.Equal("\0\u0001\u0002\uFFFD", data[1].GetString()); // not UTF-8: replaced in JSON

        request["parameters"] = new JsonObject { ["binary_data_output"] = true };
        answer = (await InferAsync(Http, EchoRepository.Model, Json(request))).AssertOk();
        Assert.Equal([.. BytesElements("plain"), 4, 0, 0, 0, 0, 1, 2, 255], answer.BinaryOutput("OUT_BYTES"));
    }

    internal static void AssertSameValues(string type, JsonElement expected, JsonElement actual)
    {
        var e = expected.EnumerateArray().ToArray();
        var a = actual.EnumerateArray().ToArray();
        Assert.Equal(e.Length, a.Length);
        for (var i = 0; i < e.Length; i++)
        {
            switch (type)
            {
                case "BOOL": Assert.Equal(e[i].GetBoolean(), a[i].GetBoolean()); break;
                case "BYTES": Assert.Equal(e[i].GetString(), a[i].GetString()); break;
                case "UINT64": Assert.Equal(e[i].GetUInt64(), a[i].GetUInt64()); break;
                case "INT64": Assert.Equal(e[i].GetInt64(), a[i].GetInt64()); break;
                case "FP32": Assert.Equal(e[i].GetSingle(), a[i].GetSingle()); break;
                default: Assert.Equal(e[i].GetDouble(), a[i].GetDouble()); break;
            }
        }
    }

    private static byte[] BytesElements(params string[] values)
    {
        var bytes = new List<byte>();
        foreach (var value in values)
        {
            var utf8 = Encoding.UTF8.GetBytes(value);
            var length = new byte[4];
            BinaryPrimitives.WriteInt32LittleEndian(length, utf8.Length);
            bytes.AddRange(length);
            bytes.AddRange(utf8);
        }
        return [.. bytes];
    }
}
