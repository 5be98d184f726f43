using System.Buffers;
using System.Runtime.InteropServices;
using System.Text.Json;
using BenchmarkDotNet.Attributes;
using HighPerfInference.Protocol;
using HighPerfInference.Server.Http.Tensors;

namespace HighPerfInference.Benchmarks;

/// <summary>
/// The HTTP JSON path's tensor work: an FP32 "data" array parsed with Utf8JsonReader straight into
/// tensor bytes, and tensor bytes written back as a JSON array. 16 elements is add_sub's [1,16];
/// 262,144 is a 1 MiB tensor (the binary extension's comparison case). Budget: 0 bytes per op (the
/// destination buffer is pooled and kept between requests, as the server keeps it).
/// </summary>
[MemoryDiagnoser]
public class JsonTensorBenchmarks
{
    private readonly PooledBuffer _tensor = new();
    private readonly ArrayBufferWriter<byte> _json = new();
    private readonly long[] _shape = new long[JsonTensorReader.MaxRank];
    private Utf8JsonWriter _writer = null!;
    private byte[] _data = [];
    private byte[] _dataJson = [];

    [Params(16, 262_144)]
    public int Elements { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        var random = new Random(1);
        _data = new byte[Elements * sizeof(float)];
        foreach (ref var value in MemoryMarshal.Cast<byte, float>(_data.AsSpan()))
            value = random.NextSingle();
        _writer = new Utf8JsonWriter(_json, new JsonWriterOptions { SkipValidation = true });
        WriteFp32();
        _dataJson = _json.WrittenSpan.ToArray();
    }

    [GlobalCleanup]
    public void Cleanup() => _writer.Dispose();

    /// <summary>The "data" array of one input into its tensor bytes, shape checked as it goes.</summary>
    [Benchmark]
    public long ReadFp32()
    {
        _tensor.Clear();
        var reader = new Utf8JsonReader(_dataJson);
        reader.Read();
        return JsonTensorReader.Read(ref reader, DataType.Fp32, _tensor, _shape, out _, new TensorField("input", "INPUT0", 0, "data"));
    }

    /// <summary>One output's bytes as the flat "data" array of the response.</summary>
    [Benchmark]
    public long WriteFp32()
    {
        _json.ResetWrittenCount();
        _writer.Reset(_json);
        JsonTensorWriter.WriteFlat(_writer, DataType.Fp32, _data);
        _writer.Flush();
        return _writer.BytesCommitted;
    }
}
