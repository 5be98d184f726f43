using System.Buffers;
using System.Buffers.Binary;
using System.Text.Json;
using HighPerfInference.Protocol;
using HighPerfInference.Server.Http.Tensors;
using HighPerfInference.Server.Scheduling;

namespace HighPerfInference.Server.Http.Inference;

/// <summary>
/// Reads an Open Inference Protocol inference request into an <see cref="InferCall"/>, with Triton's
/// binary tensor extension. The JSON is read once with <see cref="Utf8JsonReader"/>: "data" arrays
/// go straight into each input's raw bytes, and binary inputs become slices of the request body,
/// so their bytes are copied once, by the scheduler, into the batch buffer.
/// </summary>
/// <remarks>
/// Body layout with the binary extension (Inference-Header-Content-Length = J):
/// <code>
/// +----------------------------+----------------+----------------+----
/// | JSON request header        | input A bytes  | input B bytes  | ...   in "inputs" order,
/// | (J bytes)                  | (A's binary_data_size)          |       only inputs without "data"
/// +----------------------------+----------------+----------------+----
/// </code>
/// Errors throw <see cref="InferenceException"/> with a message naming the input or field.
/// </remarks>
internal static class InferRequestReader
{
    private static readonly JsonReaderOptions s_options = new() { MaxDepth = JsonTensorReader.MaxRank + 8 };

    /// <summary>Reads the JSON header and attaches every input's bytes: parsed "data", or its slice of <paramref name="binary"/>.</summary>
    public static void Read(ReadOnlySequence<byte> json, ReadOnlySequence<byte> binary, InferCall call)
    {
        var reader = new Utf8JsonReader(json, s_options);
        if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
            throw Invalid("the request must be a JSON object");
        var inputCount = 0;
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            if (reader.ValueTextEquals("inputs"u8))
                inputCount = ReadInputs(ref reader, json, call);
            else if (reader.ValueTextEquals("outputs"u8))
                ReadOutputs(ref reader, call);
            else if (reader.ValueTextEquals("parameters"u8))
                ReadParameters(ref reader, call);
            else if (reader.ValueTextEquals("id"u8))
                ReadId(ref reader, call);
            else
                SkipValue(ref reader);
        }
        if (reader.Read())
            throw Invalid("unexpected content after the request's JSON object");
        if (inputCount == 0)
            throw Invalid("the request has no 'inputs'");
        AttachInputs(call, inputCount, binary);
    }

    /// <summary>
    /// Triton's raw binary request (Inference-Header-Content-Length: 0): the whole body is the one
    /// input of the model; datatype and shape come from the model (batch 1, one variable dimension inferred).
    /// </summary>
    public static void ReadRaw(ReadOnlySequence<byte> body, ModelSignature model, InferCall call)
    {
        if (model.Inputs.Count != 1)
            throw Invalid($"a raw binary request (Inference-Header-Content-Length: 0) needs a model with one input; this one has {model.Inputs.Count}");
        var spec = model.Inputs[0];
        var maxBatchSize = model.MaxBatchSize;
        var slot = call.Slot(0);
        var shape = slot.ShapeOfRank(spec.Shape.Length);
        long known = 1;
        var variable = -1;
        for (var d = 0; d < shape.Length; d++)
        {
            shape[d] = d == 0 && maxBatchSize > 0 ? 1 : spec.Shape[d];
            if (shape[d] >= 0)
                known *= shape[d];
            else if (spec.DataType == DataType.Bytes)
                shape[d] = 1; // BYTES: the body is one element
            else if (variable < 0)
                variable = d;
            else
                throw Invalid($"a raw binary request cannot tell the shape of input '{spec.Name}' {ShapeText(spec.Shape)}: it has more than one variable dimension; send a JSON header");
        }

        ref var input = ref call.Request.AddInput();
        input.Name = spec.Name;
        input.DataType = spec.DataType;
        input.Shape = shape;
        if (spec.DataType == DataType.Bytes)
        {
            if (known != 1)
                throw Invalid($"a raw binary request sends one BYTES element; input '{spec.Name}' has {known}");
            Span<byte> length = stackalloc byte[4];
            BinaryPrimitives.WriteUInt32LittleEndian(length, checked((uint)body.Length));
            slot.Data.Write(length);
            foreach (var segment in body)
                slot.Data.Write(segment.Span);
            input.Data = slot.Data.Slice(0, slot.Data.Length);
            return;
        }

        var rowBytes = known * spec.DataType.ElementSize();
        if (variable >= 0)
        {
            if (rowBytes == 0 || body.Length % rowBytes != 0)
                throw Invalid($"a raw binary body of {body.Length} bytes is not a whole number of {spec.DataType.WireName()} rows of {rowBytes} bytes for input '{spec.Name}'");
            shape[variable] = body.Length / rowBytes;
        }
        else if (body.Length != rowBytes)
        {
            throw Invalid($"a raw binary body of {body.Length} bytes does not match input '{spec.Name}' ({rowBytes} bytes)");
        }
        input.Data = body;
    }

    private static int ReadInputs(ref Utf8JsonReader reader, ReadOnlySequence<byte> json, InferCall call)
    {
        if (!Next(ref reader, JsonTokenType.StartArray))
            throw Invalid("'inputs' must be an array");
        var count = 0;
        while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
        {
            if (reader.TokenType != JsonTokenType.StartObject)
                throw Invalid($"input #{count} must be a JSON object");
            ReadInput(ref reader, json, call, count);
            count++;
        }
        return count;
    }

    private static void ReadInput(ref Utf8JsonReader reader, ReadOnlySequence<byte> json, InferCall call, int index)
    {
        var slot = call.Slot(index);
        slot.Clear();
        string? name = null;
        var type = DataType.Invalid;
        long[]? shape = null;
        long binarySize = -1;
        long dataOffset = -1;
        long elements = -1;
        Span<long> dims = stackalloc long[JsonTensorReader.MaxRank];

        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            if (reader.ValueTextEquals("name"u8))
            {
                if (!Next(ref reader, JsonTokenType.String))
                    throw Invalid($"input #{index}: 'name' must be a string");
                name = call.Intern(ref reader);
            }
            else if (reader.ValueTextEquals("datatype"u8))
            {
                if (!Next(ref reader, JsonTokenType.String))
                    throw Invalid($"{Input(name, index)}: 'datatype' must be a string");
                type = ParseDataType(ref reader, name, index);
            }
            else if (reader.ValueTextEquals("shape"u8))
            {
                shape = ReadShape(ref reader, slot, dims, name, index);
            }
            else if (reader.ValueTextEquals("parameters"u8))
            {
                binarySize = ReadInputParameters(ref reader, name, index);
            }
            else if (reader.ValueTextEquals("data"u8))
            {
                reader.Read();
                if (type != DataType.Invalid)
                    elements = JsonTensorReader.Read(ref reader, type, slot.Data, dims, out _, Field(name, index, "data"));
                else
                {
                    // "datatype" comes later: come back to the data when it is known.
                    dataOffset = reader.TokenStartIndex;
                    reader.Skip();
                }
            }
            else
            {
                SkipValue(ref reader);
            }
        }

        if (name is null)
            throw Invalid($"input #{index} has no 'name'");
        if (type == DataType.Invalid)
            throw Invalid($"input '{name}' has no 'datatype'");
        if (shape is null)
            throw Invalid($"input '{name}' has no 'shape'");
        if (dataOffset >= 0)
        {
            var later = new Utf8JsonReader(json.Slice(dataOffset), s_options);
            later.Read();
            elements = JsonTensorReader.Read(ref later, type, slot.Data, dims, out _, Field(name, index, "data"));
        }

        var needed = ElementCount(shape, name);
        if (elements >= 0 && binarySize >= 0)
            throw Invalid($"input '{name}' has both 'data' and a 'binary_data_size' parameter");
        if (elements < 0 && binarySize < 0)
            throw Invalid($"input '{name}' has neither 'data' nor a 'binary_data_size' parameter");
        if (elements >= 0 && elements != needed)
            throw Invalid($"input '{name}': 'data' has {elements} elements but shape {ShapeText(shape)} needs {needed}");
        if (binarySize >= 0 && type != DataType.Bytes && binarySize != needed * type.ElementSize())
            throw Invalid($"input '{name}': binary_data_size is {binarySize} bytes but shape {ShapeText(shape)} of {type.WireName()} needs {needed * type.ElementSize()}");

        ref var input = ref call.Request.AddInput();
        input.Name = name;
        input.DataType = type;
        input.Shape = shape;
        // Data is attached once every input is read: a parse buffer may still grow until then.
        slot.BinarySize = binarySize;
    }

    private static void AttachInputs(InferCall call, int count, ReadOnlySequence<byte> binary)
    {
        long offset = 0;
        for (var i = 0; i < count; i++)
        {
            var slot = call.Slot(i);
            ref var input = ref call.Request.Input(i);
            if (slot.BinarySize < 0)
            {
                input.Data = slot.Data.Slice(0, slot.Data.Length);
                continue;
            }
            if (slot.BinarySize > binary.Length - offset)
                throw Invalid($"input '{input.Name}': binary_data_size {slot.BinarySize} runs past the end of the body ({binary.Length} bytes of binary data follow the JSON; is Inference-Header-Content-Length right?)");
            input.Data = binary.Slice(offset, slot.BinarySize);
            offset += slot.BinarySize;
            if (input.DataType == DataType.Bytes)
                CheckBytesElements(input.Data, ElementCount(input.Shape, input.Name), input.Name);
        }
        if (offset != binary.Length)
            throw Invalid($"the body has {binary.Length} bytes of binary data after the JSON but the inputs' binary_data_size add up to {offset}");
    }

    /// <summary>BYTES in binary: each element a 4-byte little-endian length and its bytes, exactly filling the slice.</summary>
    private static void CheckBytesElements(ReadOnlySequence<byte> data, long expected, string name)
    {
        var reader = new SequenceReader<byte>(data);
        long count = 0;
        while (!reader.End)
        {
            if (!reader.TryReadLittleEndian(out int length) || length < 0 || length > reader.Remaining)
                throw Invalid($"input '{name}': BYTES element {count} in the binary data is cut short (each element is a 4-byte length, then its bytes)");
            reader.Advance(length);
            count++;
        }
        if (count != expected)
            throw Invalid($"input '{name}': the binary data holds {count} BYTES elements but the shape needs {expected}");
    }

    private static long[] ReadShape(ref Utf8JsonReader reader, InputSlot slot, scoped Span<long> dims, string? name, int index)
    {
        if (!Next(ref reader, JsonTokenType.StartArray))
            throw Invalid($"{Input(name, index)}: 'shape' must be an array of non-negative integers");
        var rank = 0;
        while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
        {
            if (reader.TokenType != JsonTokenType.Number || !reader.TryGetInt64(out var dim) || dim < 0)
                throw Invalid($"{Input(name, index)}: 'shape' must be an array of non-negative integers");
            if (rank == JsonTensorReader.MaxRank)
                throw Invalid($"{Input(name, index)}: 'shape' has more than {JsonTensorReader.MaxRank} dimensions");
            dims[rank++] = dim;
        }
        var shape = slot.ShapeOfRank(rank);
        dims[..rank].CopyTo(shape);
        return shape;
    }

    private static long ReadInputParameters(ref Utf8JsonReader reader, string? name, int index)
    {
        if (!Next(ref reader, JsonTokenType.StartObject))
            throw Invalid($"{Input(name, index)}: 'parameters' must be an object");
        long binarySize = -1;
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            if (reader.ValueTextEquals("binary_data_size"u8))
            {
                reader.Read();
                if (reader.TokenType != JsonTokenType.Number || !reader.TryGetInt64(out binarySize) || binarySize < 0)
                    throw Invalid($"{Input(name, index)}: 'binary_data_size' must be a non-negative integer");
            }
            else
            {
                SkipValue(ref reader);
            }
        }
        return binarySize;
    }

    private static void ReadOutputs(ref Utf8JsonReader reader, InferCall call)
    {
        if (!Next(ref reader, JsonTokenType.StartArray))
            throw Invalid("'outputs' must be an array");
        var index = 0;
        while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
        {
            if (reader.TokenType != JsonTokenType.StartObject)
                throw Invalid($"output #{index} must be a JSON object");
            string? name = null;
            sbyte binary = -1;
            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                if (reader.ValueTextEquals("name"u8))
                {
                    if (!Next(ref reader, JsonTokenType.String))
                        throw Invalid($"output #{index}: 'name' must be a string");
                    name = call.Intern(ref reader);
                }
                else if (reader.ValueTextEquals("parameters"u8))
                {
                    binary = ReadOutputParameters(ref reader, index);
                }
                else
                {
                    SkipValue(ref reader);
                }
            }
            if (name is null)
                throw Invalid($"output #{index} has no 'name'");
            call.Request.RequestedOutputs.Add(name);
            call.OutputBinary.Add(binary);
            index++;
        }
    }

    private static sbyte ReadOutputParameters(ref Utf8JsonReader reader, int index)
    {
        if (!Next(ref reader, JsonTokenType.StartObject))
            throw Invalid($"output #{index}: 'parameters' must be an object");
        sbyte binary = -1;
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            if (reader.ValueTextEquals("binary_data"u8))
            {
                binary = ReadBool(ref reader, "binary_data") ? (sbyte)1 : (sbyte)0;
            }
            else if (reader.ValueTextEquals("classification"u8))
            {
                throw new InferenceException(ErrorCode.Unsupported, $"output #{index}: the 'classification' extension is not supported by this server");
            }
            else
            {
                SkipValue(ref reader);
            }
        }
        return binary;
    }

    /// <summary>Request parameters: Triton's schedule policy ("priority", "timeout" in microseconds) and "binary_data_output".</summary>
    private static void ReadParameters(ref Utf8JsonReader reader, InferCall call)
    {
        if (!Next(ref reader, JsonTokenType.StartObject))
            throw Invalid("'parameters' must be an object");
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            if (reader.ValueTextEquals("priority"u8))
            {
                reader.Read();
                if (reader.TokenType != JsonTokenType.Number || !reader.TryGetInt32(out var priority) || priority < 0)
                    throw Invalid("parameter 'priority' must be a non-negative integer (1 is the highest level, 0 the model's default)");
                call.Request.Priority = priority;
            }
            else if (reader.ValueTextEquals("timeout"u8))
            {
                reader.Read();
                if (reader.TokenType != JsonTokenType.Number || !reader.TryGetInt64(out var microseconds) || microseconds < 0)
                    throw Invalid("parameter 'timeout' must be a non-negative integer number of microseconds");
                // 0 = no per-request timeout, as in Triton.
                call.Request.Timeout = microseconds == 0 ? null : TimeSpan.FromMicroseconds(Math.Min(microseconds, (long)TimeSpan.MaxValue.TotalMicroseconds));
            }
            else if (reader.ValueTextEquals("binary_data_output"u8))
            {
                call.BinaryDataOutput = ReadBool(ref reader, "binary_data_output");
            }
            else
            {
                SkipValue(ref reader);
            }
        }
    }

    private static void ReadId(ref Utf8JsonReader reader, InferCall call)
    {
        if (!Next(ref reader, JsonTokenType.String))
            throw Invalid("'id' must be a string");
        var span = call.Id.GetSpan(reader.HasValueSequence ? checked((int)reader.ValueSequence.Length) : reader.ValueSpan.Length);
        call.Id.Advance(reader.CopyString(span));
        call.HasId = true;
    }

    private static DataType ParseDataType(ref Utf8JsonReader reader, string? name, int index)
    {
        Span<byte> text = stackalloc byte[8];
        var length = reader.HasValueSequence ? reader.ValueSequence.Length : reader.ValueSpan.Length;
        if (length <= text.Length && DataTypes.TryParse(text[..reader.CopyString(text)], out var type))
            return type;
        throw Invalid($"{Input(name, index)}: unknown datatype '{reader.GetString()}' (BOOL, UINT8..UINT64, INT8..INT64, FP16, BF16, FP32, FP64, BYTES)");
    }

    private static bool ReadBool(ref Utf8JsonReader reader, string parameter)
    {
        reader.Read();
        return reader.TokenType switch
        {
            JsonTokenType.True => true,
            JsonTokenType.False => false,
            _ => throw Invalid($"parameter '{parameter}' must be true or false"),
        };
    }

    public static long ElementCount(ReadOnlySpan<long> shape, string name)
    {
        long count = 1;
        foreach (var dim in shape)
        {
            if (dim != 0 && count > long.MaxValue / dim)
                throw Invalid($"input '{name}': shape {ShapeText(shape)} has too many elements");
            count *= dim;
        }
        return count;
    }

    public static string ShapeText(ReadOnlySpan<long> shape) => "[" + string.Join(",", shape.ToArray()) + "]";

    /// <summary>Moves to the next token and tells whether it is of the expected type.</summary>
    private static bool Next(ref Utf8JsonReader reader, JsonTokenType type) => reader.Read() && reader.TokenType == type;

    private static void SkipValue(ref Utf8JsonReader reader)
    {
        reader.Read();
        reader.Skip();
    }

    private static string Input(string? name, int index) => name is null ? $"input #{index}" : $"input '{name}'";

    private static TensorField Field(string? name, int index, string part) => new("input", name, index, part);

    private static InferenceException Invalid(string message) => new(ErrorCode.InvalidArgument, message);
}
