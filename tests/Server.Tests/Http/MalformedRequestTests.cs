using System.Net;
using System.Text;
using HighPerfInference.Server.Tests.TestSupport;
using static HighPerfInference.Server.Tests.Http.V2Client;

namespace HighPerfInference.Server.Tests.Http;

/// <summary>
/// Mutated and truncated requests, JSON and binary: every one is answered with a client error (never a
/// 500, never a dropped connection), and the server keeps answering valid requests correctly.
/// </summary>
[Collection(ServerCollection.Name)]
public sealed class MalformedRequestTests(ServerFixture fixture)
{
    private const int Cases = 400;

    private HttpClient Http => fixture.Server.Http;

    private static readonly string s_valid = Request(
        Input("INPUT0", "FP32", [1, 16], Numbers(Enumerable.Range(0, 16).Select(i => i * 1.5))),
        Input("INPUT1", "FP32", [1, 16], Numbers(Enumerable.Repeat(1.0, 16)))).ToJsonString();

    [Fact]
    public async Task Mutated_json_bodies_get_client_errors_and_the_server_stays_correct()
    {
        var random = new Random(20261121);
        var valid = Encoding.UTF8.GetBytes(s_valid);
        for (var i = 0; i < Cases; i++)
        {
            var body = Mutate(valid, random);
            var content = new ByteArrayContent(body);
            content.Headers.ContentType = new("application/json");
            var answer = await InferAsync(Http, "add_sub", content);
            Assert.True(answer.Status == HttpStatusCode.OK || (int)answer.Status is >= 400 and < 500,
                $"case {i}: {(int)answer.Status} {answer.Json} for {Encoding.UTF8.GetString(body)}");
            if (answer.Status != HttpStatusCode.OK)
                Assert.False(string.IsNullOrEmpty(answer.Error));
        }
        var check = (await InferAsync(Http, "add_sub", Json(s_valid))).AssertOk();
        Assert.Equal(Enumerable.Range(0, 16).Select(i => i * 1.5f + 1), check.FloatData("OUTPUT0"));
    }

    [Fact]
    public async Task Mutated_binary_bodies_get_client_errors_and_the_server_stays_correct()
    {
        var random = new Random(1121);
        var header = Encoding.UTF8.GetBytes(Request(BinaryInput("INPUT0", "FP32", [1, 16], 64), BinaryInput("INPUT1", "FP32", [1, 16], 64)).ToJsonString());
        var valid = header.Concat(new byte[128]).ToArray();
        for (var i = 0; i < Cases; i++)
        {
            var body = Mutate(valid, random);
            var content = new ByteArrayContent(body);
            var headerLength = random.Next(4) == 0 ? random.Next(-5, body.Length + 5) : Math.Min(header.Length, body.Length);
            content.Headers.Add(HeaderLength, headerLength.ToString(System.Globalization.CultureInfo.InvariantCulture));
            var answer = await InferAsync(Http, "add_sub", content);
            Assert.True(answer.Status == HttpStatusCode.OK || (int)answer.Status is >= 400 and < 500,
                $"case {i}: {(int)answer.Status} {answer.Json} with header length {headerLength}");
        }
        (await InferAsync(Http, "add_sub", Json(s_valid))).AssertOk();
    }

    [Fact]
    public async Task Mutated_predict_bodies_get_client_errors_and_the_server_stays_correct()
    {
        var random = new Random(4711);
        var valid = Encoding.UTF8.GetBytes("""{"instances": [{"INPUT0": [1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16], "INPUT1": [[1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1]]}], "signature_name": "x"}""");
        for (var i = 0; i < Cases; i++)
        {
            var body = Mutate(valid, random);
            using var response = await Http.PostAsync("v1/models/add_sub:predict", new ByteArrayContent(body));
            Assert.True(response.StatusCode == HttpStatusCode.OK || (int)response.StatusCode is >= 400 and < 500,
                $"case {i}: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()} for {Encoding.UTF8.GetString(body)}");
        }
        (await InferAsync(Http, "add_sub", Json(s_valid))).AssertOk();
    }

    /// <summary>One to three random edits: flip a byte, delete a run, duplicate a run, or cut the end off.</summary>
    private static byte[] Mutate(byte[] valid, Random random)
    {
        var bytes = valid.ToList();
        for (var edits = random.Next(1, 4); edits > 0 && bytes.Count > 1; edits--)
        {
            var at = random.Next(bytes.Count);
            var length = Math.Min(random.Next(1, 8), bytes.Count - at);
            switch (random.Next(4))
            {
                case 0:
                    bytes[at] = (byte)random.Next(256);
                    break;
                case 1:
                    bytes.RemoveRange(at, length);
                    break;
                case 2:
                    bytes.InsertRange(at, bytes.GetRange(at, length));
                    break;
                default:
                    bytes.RemoveRange(at, bytes.Count - at);
                    break;
            }
        }
        return [.. bytes];
    }
}
