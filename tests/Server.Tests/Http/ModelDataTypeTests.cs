using System.Text.Json;
using System.Text.Json.Nodes;
using HighPerfInference.Server.Tests.TestSupport;
using static HighPerfInference.Server.Tests.Http.V2Client;

namespace HighPerfInference.Server.Tests.Http;

/// <summary>
/// Every datatype through the whole server and ONNX Runtime: identity_all_types returns each input
/// IN_&lt;T&gt; as OUT_&lt;T&gt;; one request carries all fourteen, as JSON or binary, answered as JSON or binary.
/// </summary>
[Collection(ServerCollection.Name)]
public sealed class ModelDataTypeTests(ServerFixture fixture)
{
    private static readonly (string Type, string Values, byte[] Bytes)[] s_cases =
        [.. DataTypeTests.Cases.Select(c => ((string)c[0], (string)c[1], (byte[])c[2]))];

    [Theory]
    [InlineData(false, false)]
    [InlineData(false, true)]
    [InlineData(true, false)]
    [InlineData(true, true)]
    public async Task Every_datatype_round_trips(bool binaryIn, bool binaryOut)
    {
        var header = Request([.. s_cases.Select(c => binaryIn
            ? BinaryInput("IN_" + c.Type, c.Type, [1, 3], c.Bytes.Length)
            : Input("IN_" + c.Type, c.Type, [1, 3], JsonNode.Parse(c.Values)!))]);
        header["parameters"] = new JsonObject { ["binary_data_output"] = binaryOut };
        HttpContent content = binaryIn ? Binary(header, [.. s_cases.Select(c => c.Bytes)]) : Json(header);

        var answer = (await InferAsync(fixture.Server.Http, "identity_all_types", content)).AssertOk();
        foreach (var (type, values, bytes) in s_cases)
        {
            var output = answer.Output("OUT_" + type);
            Assert.Equal(type, output.GetProperty("datatype").GetString());
            Assert.Equal([1L, 3L], output.GetProperty("shape").EnumerateArray().Select(d => d.GetInt64()));
            if (binaryOut)
                Assert.Equal(bytes, answer.BinaryOutput("OUT_" + type));
            else
                DataTypeTests.AssertSameValues(type, JsonDocument.Parse(values).RootElement, output.GetProperty("data"));
        }
    }
}
