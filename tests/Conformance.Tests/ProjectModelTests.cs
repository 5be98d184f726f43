using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Text;
using HighPerfInference.Conformance.Tests.Onnx;
using HighPerfInference.Conformance.Tests.Suite;
using HighPerfInference.Conformance.Tests.XunitExtensions;
using HighPerfInference.NativeEngine;

namespace HighPerfInference.Conformance.Tests;

/// <summary>The models under models/ compute what models/README.md says, and regenerate byte for byte.</summary>
public class ProjectModelTests
{
    private static readonly string[] s_strings = ["", "a", "héllo", "with\0nul", "✓", "z"];

    private static readonly string[] s_models = ["add_sub", "add_sub_int32", "identity_fp32", "identity_all_types", "fixed_vec4", "mlp"];

    [Fact]
    public void Add_sub_adds_and_subtracts_rows_of_16()
    {
        using var session = ModelSession.Load(RepositoryPaths.Model("add_sub"));
        var a = Enumerable.Range(0, 32).Select(i => i * 0.5f).ToArray();
        var b = Enumerable.Range(0, 32).Select(i => 1f - i).ToArray();

        var outputs = SessionRunner.Run(session, [Tensor(OnnxDataType.Float, [2, 16], a), Tensor(OnnxDataType.Float, [2, 16], b)]);

        Assert.Equal(["INPUT0", "INPUT1"], session.Inputs.Select(i => i.Name));
        Assert.Equal([-1L, 16L], session.Inputs[0].Shape);
        Assert.Equal("HighPerfInference scripts/generate_models.py", session.Metadata.ProducerName);
        Assert.Equal(a.Zip(b, (x, y) => x + y), Values<float>(outputs[0]));
        Assert.Equal(a.Zip(b, (x, y) => x - y), Values<float>(outputs[1]));
    }

    [Fact]
    public void Add_sub_int32_is_exact()
    {
        using var session = ModelSession.Load(RepositoryPaths.Model("add_sub_int32"));
        var a = Enumerable.Range(0, 16).Select(i => (i * 1_000_003) - 7_000_000).ToArray();
        var b = Enumerable.Range(0, 16).Select(i => 3 - i).ToArray();

        var outputs = SessionRunner.Run(session, [Tensor(OnnxDataType.Int32, [1, 16], a), Tensor(OnnxDataType.Int32, [1, 16], b)]);

        Assert.Equal(a.Zip(b, (x, y) => x + y), Values<int>(outputs[0]));
        Assert.Equal(a.Zip(b, (x, y) => x - y), Values<int>(outputs[1]));
    }

    [Fact]
    public void Identity_fp32_takes_any_two_dimensional_shape()
    {
        using var session = ModelSession.Load(RepositoryPaths.Model("identity_fp32"));
        var input = Tensor(OnnxDataType.Float, [3, 7], Enumerable.Range(0, 21).Select(i => (float)Math.Sin(i)).ToArray());

        var output = SessionRunner.Run(session, [input])[0];

        Assert.Equal([-1L, -1L], session.Inputs[0].Shape);
        Assert.Equal(["batch", "width"], session.Inputs[0].SymbolicDimensions);
        Assert.Equal([3L, 7L], output.Dims);
        Assert.Equal(input.Data, output.Data);
    }

    [Fact]
    public void Identity_all_types_returns_every_datatype_unchanged()
    {
        using var session = ModelSession.Load(RepositoryPaths.Model("identity_all_types"));
        var random = new Random(7);
        var inputs = new List<ReferenceTensor>();
        foreach (var info in session.Inputs)
        {
            var type = (OnnxDataType)info.ElementType;
            var data = new byte[6 * type.ElementSize()];
            random.NextBytes(data);
            if (type == OnnxDataType.Bool)
                data = [1, 0, 0, 1, 1, 0];
            inputs.Add(type == OnnxDataType.String
                ? new ReferenceTensor { Name = info.Name, DataType = type, Dims = [2, 3], Strings = [.. s_strings.Select(Encoding.UTF8.GetBytes)] }
                : new ReferenceTensor { Name = info.Name, DataType = type, Dims = [2, 3], Data = data });
        }

        var outputs = SessionRunner.Run(session, inputs);

        Assert.Equal(14, outputs.Length);
        for (var i = 0; i < outputs.Length; i++)
        {
            Assert.Equal("OUT_" + inputs[i].Name[3..], outputs[i].Name);
            Assert.Equal(inputs[i].DataType, outputs[i].DataType);
            Assert.Equal(inputs[i].Data, outputs[i].Data);
            Assert.Equal(inputs[i].Strings, outputs[i].Strings);
        }
    }

    [Fact]
    public void Fixed_vec4_has_no_batch_dimension_and_doubles()
    {
        using var session = ModelSession.Load(RepositoryPaths.Model("fixed_vec4"));

        var output = SessionRunner.Run(session, [Tensor(OnnxDataType.Float, [4], [1f, -2f, 0.25f, 8f])])[0];

        Assert.Equal([4L], session.Inputs[0].Shape);
        Assert.Equal([2f, -4f, 0.5f, 16f], Values<float>(output));
    }

    [Fact]
    public void Mlp_maps_256_features_to_16_probabilities()
    {
        using var session = ModelSession.Load(RepositoryPaths.Model("mlp"));
        var x = Enumerable.Range(0, 3 * 256).Select(i => (float)Math.Sin(i)).ToArray();

        var output = SessionRunner.Run(session, [Tensor(OnnxDataType.Float, [3, 256], x)])[0];

        Assert.Equal([-1L, 256L], session.Inputs[0].Shape);
        Assert.Equal([3L, 16L], output.Dims);
        var probabilities = Values<float>(output);
        for (var row = 0; row < 3; row++)
        {
            var slice = probabilities.AsSpan(row * 16, 16);
            Assert.All(slice.ToArray(), p => Assert.InRange(p, 0f, 1f));
            Assert.Equal(1.0, slice.ToArray().Sum(p => (double)p), 5);
        }
    }

    [SkippableFact]
    public void Regenerating_the_models_gives_the_committed_bytes()
    {
        const string python = "/usr/bin/python3";
        const string missing = "Debian's python3-onnx and python3-numpy are needed (apt-get install python3-onnx python3-numpy)";
        if (!File.Exists(python))
            throw new SkipException($"{missing}: there is no {python}");
        var probe = Execute(python, "-c \"import onnx, numpy\"");
        if (probe.ExitCode != 0)
            throw new SkipException($"{missing}: {probe.Log.Trim()}");

        var output = Directory.CreateTempSubdirectory("hpi-models-");
        try
        {
            var script = Path.Combine(RepositoryPaths.Root, "scripts", "generate_models.py");
            var (exitCode, log) = Execute(python, $"\"{script}\" --out \"{output.FullName}\"");
            Assert.True(exitCode == 0, log);
            foreach (var model in s_models)
            {
                var regenerated = File.ReadAllBytes(Path.Combine(output.FullName, model, "1", "model.onnx"));
                Assert.True(regenerated.AsSpan().SequenceEqual(File.ReadAllBytes(RepositoryPaths.Model(model))),
                    $"{model}: scripts/generate_models.py no longer reproduces the committed model; regenerate and commit it");
            }
        }
        finally
        {
            output.Delete(recursive: true);
        }
    }

    private static (int ExitCode, string Log) Execute(string file, string arguments)
    {
        using var process = Process.Start(new ProcessStartInfo(file, arguments) { RedirectStandardOutput = true, RedirectStandardError = true })!;
        var stderr = process.StandardError.ReadToEndAsync();
        var stdout = process.StandardOutput.ReadToEnd();
        process.WaitForExit();
        return (process.ExitCode, stdout + stderr.Result);
    }

    private static ReferenceTensor Tensor<T>(OnnxDataType type, long[] dims, T[] values)
        where T : unmanaged =>
        new() { Name = "", DataType = type, Dims = dims, Data = MemoryMarshal.AsBytes(values.AsSpan()).ToArray() };

    private static T[] Values<T>(ReferenceTensor tensor)
        where T : unmanaged =>
        MemoryMarshal.Cast<byte, T>(tensor.Data).ToArray();
}
