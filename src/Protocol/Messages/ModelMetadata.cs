using System.Buffers;

namespace HighPerfInference.Protocol;

/// <summary>An input or output as model metadata describes it; -1 marks a dynamic dimension.</summary>
public sealed record TensorMetadata(string Name, DataType DataType, long[] Shape);

/// <summary>
/// The ModelMetadataResponse payload, the binary form of the V2 model metadata:
/// <code>
/// name model | u16 version count | names of versions | name platform |
/// u16 input count | inputs | u16 output count | outputs
/// </code>
/// where each input or output is <c>name | u8 datatype | u8 rank | i64 dims[rank]</c> (dims &gt;= -1).
/// </summary>
public sealed record ModelMetadata(string Name, string[] Versions, string Platform, TensorMetadata[] Inputs, TensorMetadata[] Outputs)
{
    public void Write(IBufferWriter<byte> output, ulong requestId)
    {
        var length = Utf8Length.Name(Name) + 2 + Utf8Length.Name(Platform) + 2 + 2;
        foreach (var version in Versions)
            length += Utf8Length.Name(version);
        length += TensorsLength(Inputs) + TensorsLength(Outputs);

        var writer = new WireWriter(output);
        writer.WriteHeader(new FrameHeader(MessageType.ModelMetadataResponse, requestId, (uint)length));
        writer.WriteName(Name);
        writer.WriteU16(checked((ushort)Versions.Length));
        foreach (var version in Versions)
            writer.WriteName(version);
        writer.WriteName(Platform);
        WriteTensors(ref writer, Inputs);
        WriteTensors(ref writer, Outputs);
        writer.Commit();
    }

    public static ModelMetadata Read(ReadOnlySequence<byte> payload)
    {
        var reader = new PayloadReader(payload);
        var name = reader.ReadNameString();
        var versions = new string[reader.ReadU16()];
        for (var i = 0; i < versions.Length; i++)
            versions[i] = reader.ReadNameString();
        var platform = reader.ReadNameString();
        var inputs = ReadTensors(ref reader);
        var outputs = ReadTensors(ref reader);
        reader.EnsureEnd();
        return new ModelMetadata(name, versions, platform, inputs, outputs);
    }

    private static int TensorsLength(TensorMetadata[] tensors)
    {
        var length = 0;
        foreach (var tensor in tensors)
            length += Utf8Length.Name(tensor.Name) + 2 + (8 * tensor.Shape.Length);
        return length;
    }

    private static void WriteTensors(ref WireWriter writer, TensorMetadata[] tensors)
    {
        writer.WriteU16(checked((ushort)tensors.Length));
        foreach (var tensor in tensors)
        {
            if (tensor.Shape.Length > FrameLimits.MaxRank)
                throw new ArgumentException($"'{tensor.Name}' has a rank above {FrameLimits.MaxRank}.", nameof(tensors));
            writer.WriteName(tensor.Name);
            writer.WriteU8((byte)tensor.DataType);
            writer.WriteU8((byte)tensor.Shape.Length);
            foreach (var dim in tensor.Shape)
                writer.WriteI64(dim);
        }
    }

    private static TensorMetadata[] ReadTensors(ref PayloadReader reader)
    {
        var count = reader.ReadU16();
        // Each entry takes at least 3 bytes: refuse a count the payload cannot hold before allocating.
        if (count * 3L > reader.Remaining)
            ThrowHelper.ThrowTruncatedPayload();
        var tensors = new TensorMetadata[count];
        for (var i = 0; i < tensors.Length; i++)
        {
            var name = reader.ReadNameString();
            var dataType = (DataType)reader.ReadU8();
            if (dataType is < DataType.Bool or > DataType.Bytes)
                ThrowHelper.ThrowInvalid("A tensor has an unknown datatype.");
            var rank = reader.ReadU8();
            if (rank > FrameLimits.MaxRank)
                ThrowHelper.ThrowInvalid("A tensor has a rank above 16.");
            var shape = new long[rank];
            for (var d = 0; d < shape.Length; d++)
            {
                shape[d] = reader.ReadI64();
                if (shape[d] < -1)
                    ThrowHelper.ThrowInvalid("A metadata dimension is below -1.");
            }
            tensors[i] = new TensorMetadata(name, dataType, shape);
        }
        return tensors;
    }
}
