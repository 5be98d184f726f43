using System.Buffers;
using System.Text.Json;
using HighPerfInference.Protocol;
using HighPerfInference.Server.Http.Tensors;
using HighPerfInference.Server.Observability;
using HighPerfInference.Server.Scheduling;

namespace HighPerfInference.Server.Http.Inference;

/// <summary>
/// The simple predict API in TensorFlow Serving's shape: POST /v1/models/{model}[/versions/{v}]:predict.
/// JSON carries no datatypes or shapes, so both come from the model: the datatype of each input, and
/// the shape from the nesting of the values.
/// <list type="bullet">
/// <item>Row format <c>{"instances": [v0, v1, ...]}</c>: one value per row (a single-input model), or
/// one object {input: value} per row; rows are stacked on a new first dimension. Answer
/// <c>{"predictions": [...]}</c>: per row a value (one output) or an object {output: value}.</item>
/// <item>Columnar format <c>{"inputs": value}</c> or <c>{"inputs": {input: value}}</c>: whole tensors.
/// Answer <c>{"outputs": value}</c> or <c>{"outputs": {output: value}}</c>.</item>
/// </list>
/// BYTES values are strings or {"b64": "..."}.
/// </summary>
internal sealed class PredictFormat : IInferFormat
{
    public static readonly PredictFormat Instance = new();

    private static readonly JsonReaderOptions s_options = new() { MaxDepth = JsonTensorReader.MaxRank + 8 };

    public HttpInferenceApi Api => HttpInferenceApi.Predict;

    /// <summary>Routes first: the datatypes and the batch dimension come from the version chosen.</summary>
    public void Parse(HttpContext context, ReadOnlySequence<byte> body, InferCall call, IInferenceScheduler scheduler)
    {
        var routed = scheduler.Route(call.Request);
        call.RoutedVersion = routed.Version;
        var signature = routed.Signature;
        var batched = signature.Batches;
        var inputs = signature.Inputs;
        for (var i = 0; i < inputs.Count; i++)
            call.Slot(i).Clear();

        var reader = new Utf8JsonReader(body, s_options);
        if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
            throw Invalid("the request must be a JSON object with \"instances\" or \"inputs\"");
        long rows = -1;
        var columns = false;
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            if (reader.ValueTextEquals("instances"u8))
            {
                reader.Read();
                rows = ReadInstances(ref reader, inputs, call);
            }
            else if (reader.ValueTextEquals("inputs"u8))
            {
                reader.Read();
                ReadColumns(ref reader, inputs, call);
                columns = true;
            }
            else
            {
                // "signature_name" and anything else: one signature per model here.
                reader.Read();
                reader.Skip();
            }
        }
        if (reader.Read())
            throw Invalid("unexpected content after the request's JSON object");
        if (rows >= 0 && columns)
            throw Invalid("send either \"instances\" or \"inputs\", not both");
        if (rows < 0 && !columns)
            throw Invalid("the request needs \"instances\" (row format) or \"inputs\" (columnar format)");

        call.RowFormat = rows >= 0;
        call.Batched = batched;
        for (var i = 0; i < inputs.Count; i++)
        {
            var spec = inputs[i];
            var slot = call.Slot(i);
            if (slot.Rank < 0)
                throw Invalid($"input '{spec.Name}' is missing");
            ref var input = ref call.Request.AddInput();
            input.Name = spec.Name;
            input.DataType = spec.DataType;
            input.Shape = rows >= 0 ? StackedShape(slot, rows, spec, batched) : Copy(slot, slot.ShapeOfRank(slot.Rank));
            input.Data = slot.Data.Slice(0, slot.Data.Length);
        }
    }

    /// <summary>Reads "instances" into each input's data; returns the row count.</summary>
    private static long ReadInstances(ref Utf8JsonReader reader, IReadOnlyList<TensorSpec> inputs, InferCall call)
    {
        if (reader.TokenType != JsonTokenType.StartArray)
            throw Invalid("\"instances\" must be an array with one entry per row");
        Span<long> dims = stackalloc long[JsonTensorReader.MaxRank];
        long row = 0;
        while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
        {
            if (!IsNamedInputs(ref reader, inputs))
            {
                ReadRowValue(ref reader, inputs, call, 0, row, dims);
            }
            else
            {
                var seen = 0;
                while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
                {
                    var index = InputIndex(ref reader, inputs, row);
                    reader.Read();
                    ReadRowValue(ref reader, inputs, call, index, row, dims);
                    seen++;
                }
                if (seen != inputs.Count)
                    throw Invalid($"instance {row} has {seen} inputs; the model takes {inputs.Count} ({InputNames(inputs)})");
            }
            row++;
        }
        return row;
    }

    private static void ReadRowValue(ref Utf8JsonReader reader, IReadOnlyList<TensorSpec> inputs, InferCall call, int index, long row, scoped Span<long> dims)
    {
        var spec = inputs[index];
        var slot = call.Slot(index);
        JsonTensorReader.Read(ref reader, spec.DataType, slot.Data, dims, out var rank, new TensorField("input", spec.Name, index, "instances"));
        if (slot.Rank < 0)
        {
            if (row > 0)
                throw Invalid($"instance {row} has input '{spec.Name}' but the instances before it do not");
            dims[..rank].CopyTo(slot.Dims);
            slot.Rank = rank;
        }
        else if (rank != slot.Rank || !dims[..rank].SequenceEqual(slot.Dims.AsSpan(0, rank)))
        {
            throw Invalid($"instance {row}: input '{spec.Name}' has shape {InferRequestReader.ShapeText(dims[..rank])}, instance 0 had {InferRequestReader.ShapeText(slot.Dims.AsSpan(0, slot.Rank))}");
        }
    }

    private static void ReadColumns(ref Utf8JsonReader reader, IReadOnlyList<TensorSpec> inputs, InferCall call)
    {
        Span<long> dims = stackalloc long[JsonTensorReader.MaxRank];
        if (!IsNamedInputs(ref reader, inputs))
        {
            ReadColumn(ref reader, inputs, call, 0, dims);
            return;
        }
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            var index = InputIndex(ref reader, inputs, row: -1);
            reader.Read();
            ReadColumn(ref reader, inputs, call, index, dims);
        }
    }

    private static void ReadColumn(ref Utf8JsonReader reader, IReadOnlyList<TensorSpec> inputs, InferCall call, int index, scoped Span<long> dims)
    {
        var spec = inputs[index];
        var slot = call.Slot(index);
        if (slot.Rank >= 0)
            throw Invalid($"input '{spec.Name}' is given twice");
        JsonTensorReader.Read(ref reader, spec.DataType, slot.Data, dims, out var rank, new TensorField("input", spec.Name, index, "inputs"));
        dims[..rank].CopyTo(slot.Dims);
        slot.Rank = rank;
    }

    /// <summary>
    /// True when the value under the reader is an object keyed by input names. A model with one input
    /// may also get its value directly, and {"b64": ...} is a BYTES value, not a name.
    /// </summary>
    private static bool IsNamedInputs(ref Utf8JsonReader reader, IReadOnlyList<TensorSpec> inputs)
    {
        if (reader.TokenType != JsonTokenType.StartObject)
        {
            if (inputs.Count != 1)
                throw Invalid($"the model has {inputs.Count} inputs ({InputNames(inputs)}): give each by name, as an object");
            return false;
        }
        var peek = reader;
        return !(inputs.Count == 1 && peek.Read() && peek.ValueTextEquals("b64"u8));
    }

    private static int InputIndex(ref Utf8JsonReader reader, IReadOnlyList<TensorSpec> inputs, long row)
    {
        for (var i = 0; i < inputs.Count; i++)
        {
            if (reader.ValueTextEquals(inputs[i].Name))
                return i;
        }
        var where = row >= 0 ? $"instance {row}" : "\"inputs\"";
        throw new InferenceException(ErrorCode.NotFound, $"{where} names input '{reader.GetString()}', which the model does not have ({InputNames(inputs)})");
    }

    /// <summary>Row format: the rows stacked on a first dimension; a model without a batch dimension takes the rows as its first dimension, or one row as the whole tensor.</summary>
    private static long[] StackedShape(InputSlot slot, long rows, TensorSpec spec, bool batched)
    {
        if (!batched && slot.Rank == spec.Shape.Length)
        {
            if (rows != 1)
                throw Invalid($"model input '{spec.Name}' has no batch dimension: send one instance, not {rows}");
            return Copy(slot, slot.ShapeOfRank(slot.Rank));
        }
        var shape = slot.ShapeOfRank(slot.Rank + 1);
        shape[0] = rows;
        slot.Dims.AsSpan(0, slot.Rank).CopyTo(shape.AsSpan(1));
        return shape;
    }

    private static long[] Copy(InputSlot slot, long[] shape)
    {
        slot.Dims.AsSpan(0, shape.Length).CopyTo(shape);
        return shape;
    }

    public async ValueTask WriteAsync(HttpContext context, InferCall call)
    {
        var json = call.JsonWriter;
        json.Reset(call.Response);
        json.WriteStartObject();
        json.WritePropertyName(call.RowFormat ? "predictions"u8 : "outputs"u8);
        if (call.OutputCount == 1)
            WriteWhole(json, call, 0);
        else if (call.RowFormat && call.Batched)
            WriteRows(json, call);
        else
        {
            json.WriteStartObject();
            for (var i = 0; i < call.OutputCount; i++)
            {
                json.WritePropertyName(call.Output(i).Name);
                WriteWhole(json, call, i);
            }
            json.WriteEndObject();
        }
        json.WriteEndObject();
        json.Flush();

        var response = context.Response;
        response.StatusCode = StatusCodes.Status200OK;
        response.ContentType = "application/json";
        response.ContentLength = call.Response.Length;
        InferResponseWriter.WriteServerHeaders(response, call);
        await response.BodyWriter.WriteAsync(call.Response.WrittenMemory, context.RequestAborted).ConfigureAwait(false);
    }

    private static void WriteWhole(Utf8JsonWriter json, InferCall call, int index)
    {
        ref readonly var output = ref call.Output(index);
        var position = 0;
        JsonTensorWriter.WriteNested(json, output.DataType, call.OutputBytes(output), ref position, call.OutputShape(output));
    }

    /// <summary>Several outputs in row format: per row, an object with each output's row.</summary>
    private static void WriteRows(Utf8JsonWriter json, InferCall call)
    {
        Span<int> positions = call.OutputCount <= 64 ? stackalloc int[call.OutputCount] : new int[call.OutputCount];
        var rows = call.OutputShape(call.Output(0)) is { Length: > 0 } first ? first[0] : 1;
        json.WriteStartArray();
        for (long row = 0; row < rows; row++)
        {
            json.WriteStartObject();
            for (var i = 0; i < call.OutputCount; i++)
            {
                ref readonly var output = ref call.Output(i);
                json.WritePropertyName(output.Name);
                JsonTensorWriter.WriteNested(json, output.DataType, call.OutputBytes(output), ref positions[i], call.OutputShape(output)[1..]);
            }
            json.WriteEndObject();
        }
        json.WriteEndArray();
    }

    private static string InputNames(IReadOnlyList<TensorSpec> inputs)
    {
        var names = new string[inputs.Count];
        for (var i = 0; i < names.Length; i++)
            names[i] = inputs[i].Name;
        return string.Join(", ", names);
    }

    private static InferenceException Invalid(string message) => new(ErrorCode.InvalidArgument, message);
}
