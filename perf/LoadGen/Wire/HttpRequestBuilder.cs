using System.Buffers;
using System.Text;
using System.Text.Json;
using HighPerfInference.LoadGen.Workload;
using HighPerfInference.Protocol;

namespace HighPerfInference.LoadGen.Wire;

/// <summary>
/// Builds the complete HTTP/1.1 infer request once per run: an Open Inference Protocol JSON body, or
/// Triton's binary-tensor extension (a JSON header whose length is in Inference-Header-Content-Length,
/// then the raw tensors, and binary outputs asked for).
/// </summary>
public static class HttpRequestBuilder
{
    public static byte[] Build(string host, int port, string model, string? version, IReadOnlyList<InputTensor> inputs, IReadOnlyList<string> outputs, bool binary)
    {
        var header = new ArrayBufferWriter<byte>();
        using (var json = new Utf8JsonWriter(header))
        {
            json.WriteStartObject();
            json.WriteStartArray("inputs");
            foreach (var input in inputs)
            {
                json.WriteStartObject();
                json.WriteString("name", input.Spec.Name);
                json.WriteStartArray("shape");
                foreach (var dim in input.Spec.Shape)
                    json.WriteNumberValue(dim);
                json.WriteEndArray();
                json.WriteString("datatype", input.Spec.DataType.WireName());
                if (binary)
                {
                    json.WriteStartObject("parameters");
                    json.WriteNumber("binary_data_size", input.Data.Length);
                    json.WriteEndObject();
                }
                else
                {
                    WriteData(json, input);
                }
                json.WriteEndObject();
            }
            json.WriteEndArray();
            if (outputs.Count > 0)
            {
                json.WriteStartArray("outputs");
                foreach (var output in outputs)
                {
                    json.WriteStartObject();
                    json.WriteString("name", output);
                    if (binary)
                    {
                        json.WriteStartObject("parameters");
                        json.WriteBoolean("binary_data", true);
                        json.WriteEndObject();
                    }
                    json.WriteEndObject();
                }
                json.WriteEndArray();
            }
            else if (binary)
            {
                json.WriteStartObject("parameters");
                json.WriteBoolean("binary_data_output", true);
                json.WriteEndObject();
            }
            json.WriteEndObject();
        }

        var bodyLength = header.WrittenCount;
        if (binary)
        {
            foreach (var input in inputs)
                bodyLength += input.Data.Length;
        }
        var path = version is null ? $"/v2/models/{model}/infer" : $"/v2/models/{model}/versions/{version}/infer";
        var head = new StringBuilder()
            .Append("POST ").Append(path).Append(" HTTP/1.1\r\n")
            .Append("Host: ").Append(host).Append(':').Append(port).Append("\r\n")
            .Append("Content-Type: ").Append(binary ? "application/octet-stream" : "application/json").Append("\r\n");
        if (binary)
            head.Append("Inference-Header-Content-Length: ").Append(header.WrittenCount).Append("\r\n");
        head.Append("Content-Length: ").Append(bodyLength).Append("\r\n\r\n");

        var request = new List<byte>(Encoding.ASCII.GetByteCount(head.ToString()) + bodyLength);
        request.AddRange(Encoding.ASCII.GetBytes(head.ToString()));
        request.AddRange(header.WrittenSpan);
        if (binary)
        {
            foreach (var input in inputs)
                request.AddRange(input.Data);
        }
        return [.. request];
    }

    /// <summary>The "data" member: a flat row-major array, which the protocol allows for any shape.</summary>
    private static void WriteData(Utf8JsonWriter json, InputTensor input)
    {
        var type = input.Spec.DataType;
        json.WriteStartArray("data");
        var count = (int)input.Spec.ElementCount;
        for (var i = 0; i < count; i++)
        {
            var value = InputData.Decode(type, input.Data, i);
            switch (type)
            {
                case DataType.Bool:
                    json.WriteBooleanValue(value != 0);
                    break;
                case DataType.Fp32 or DataType.Fp16 or DataType.Bf16:
                    json.WriteNumberValue((float)value);
                    break;
                case DataType.Fp64:
                    json.WriteNumberValue(value);
                    break;
                case DataType.UInt64:
                    json.WriteNumberValue((ulong)value);
                    break;
                default:
                    json.WriteNumberValue((long)value);
                    break;
            }
        }
        json.WriteEndArray();
    }
}
