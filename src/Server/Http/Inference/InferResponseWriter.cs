using System.Buffers;
using System.Globalization;
using System.IO.Pipelines;
using System.Text.Json;
using HighPerfInference.Protocol;
using HighPerfInference.Server.Http.Tensors;

namespace HighPerfInference.Server.Http.Inference;

/// <summary>
/// Writes the Open Inference Protocol response of a completed <see cref="InferCall"/>: a JSON object
/// formatted with <see cref="Utf8JsonWriter"/> into the call's pooled buffer, followed by the raw
/// bytes of the outputs asked for in binary (Triton's binary tensor extension), in output order.
/// </summary>
internal static class InferResponseWriter
{
    public const string InferenceHeaderContentLength = "Inference-Header-Content-Length";
    public const string InferenceTimeHeader = "X-Inference-Time-Us";

    public static ValueTask<FlushResult> WriteAsync(HttpContext context, InferCall call)
    {
        var json = call.JsonWriter;
        json.Reset(call.Response);
        json.WriteStartObject();
        if (call.HasId)
            json.WriteString("id"u8, call.Id.WrittenSpan);
        json.WriteString("model_name"u8, call.ModelName);
        json.WriteString("model_version"u8, call.ModelVersion);
        json.WriteStartArray("outputs"u8);
        long binaryLength = 0;
        for (var i = 0; i < call.OutputCount; i++)
        {
            ref readonly var output = ref call.Output(i);
            json.WriteStartObject();
            json.WriteString("name"u8, output.Name);
            json.WriteString("datatype"u8, output.DataType.WireName());
            json.WriteStartArray("shape"u8);
            foreach (var dim in call.OutputShape(output))
                json.WriteNumberValue(dim);
            json.WriteEndArray();
            if (IsBinary(call, output.Name))
            {
                json.WriteStartObject("parameters"u8);
                json.WriteNumber("binary_data_size"u8, output.DataLength);
                json.WriteEndObject();
                binaryLength += output.DataLength;
            }
            else
            {
                json.WritePropertyName("data"u8);
                JsonTensorWriter.WriteFlat(json, output.DataType, call.OutputBytes(output));
            }
            json.WriteEndObject();
        }
        json.WriteEndArray();
        json.WriteEndObject();
        json.Flush();

        var response = context.Response;
        var headerLength = call.Response.Length;
        response.StatusCode = StatusCodes.Status200OK;
        response.ContentLength = headerLength + binaryLength;
        if (binaryLength > 0)
        {
            response.ContentType = "application/octet-stream";
            response.Headers[InferenceHeaderContentLength] = headerLength.ToString(CultureInfo.InvariantCulture);
        }
        else
        {
            response.ContentType = "application/json";
        }
        WriteServerHeaders(response, call);

        var body = response.BodyWriter;
        body.Write(call.Response.WrittenSpan);
        if (binaryLength > 0)
        {
            for (var i = 0; i < call.OutputCount; i++)
            {
                ref readonly var output = ref call.Output(i);
                if (IsBinary(call, output.Name))
                    body.Write(call.OutputBytes(output));
            }
        }
        return body.FlushAsync(context.RequestAborted);
    }

    /// <summary>The answering version and the server-side time, on every successful inference response.</summary>
    public static void WriteServerHeaders(HttpResponse response, InferCall call)
    {
        response.Headers[HttpErrors.ModelVersionHeader] = call.ModelVersion;
        response.Headers[InferenceTimeHeader] = call.ElapsedMicroseconds.ToString(CultureInfo.InvariantCulture);
    }

    /// <summary>An output's own "binary_data" parameter wins over the request's "binary_data_output".</summary>
    private static bool IsBinary(InferCall call, string output)
    {
        var requested = call.Request.RequestedOutputs;
        for (var i = 0; i < requested.Count; i++)
        {
            if (call.OutputBinary[i] >= 0 && string.Equals(requested[i], output, StringComparison.Ordinal))
                return call.OutputBinary[i] == 1;
        }
        return call.BinaryDataOutput;
    }
}
