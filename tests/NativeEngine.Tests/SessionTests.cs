using HighPerfInference.NativeEngine.Tests.Models;

namespace HighPerfInference.NativeEngine.Tests;

public sealed class SessionTests
{
    [Fact]
    public void Environment_reports_the_NuGet_runtime_and_the_cpu_provider()
    {
        Assert.Equal("1.32.0", OrtEnvironment.Shared.Version);
        Assert.Contains("CPUExecutionProvider", OrtEnvironment.Shared.GetAvailableProviders());
    }

    [Fact]
    public void Metadata_reports_names_types_symbolic_shapes_and_model_fields()
    {
        byte[] model = new OnnxModelBuilder
        {
            ProducerName = "metadata-test",
            Domain = "ai.example",
            Description = "a model that describes itself",
            ModelVersion = 42,
            GraphName = "described",
            GraphDescription = "the graph's own doc string",
        }
            .Input("tokens", TensorElementType.Int64, "batch", "sequence")
            .Input("scale", TensorElementType.Float, 1)
            .Output("ids", TensorElementType.Int64, "batch", "sequence")
            .Output("scaled", TensorElementType.Float, 1)
            .Node("Identity", ["tokens"], ["ids"])
            .Node("Identity", ["scale"], ["scaled"])
            .Metadata("author", "tests")
            .Metadata("license", "MIT")
            .Build();

        using var session = ModelSession.FromBytes(model);

        Assert.Equal(["tokens", "scale"], Names(session.Inputs));
        Assert.Equal(["ids", "scaled"], Names(session.Outputs));
        var tokens = session.Inputs[0];
        Assert.True(tokens.IsTensor);
        Assert.Equal(TensorElementType.Int64, tokens.ElementType);
        Assert.Equal([-1L, -1L], tokens.Shape);
        Assert.Equal(["batch", "sequence"], tokens.SymbolicDimensions);
        Assert.Equal(TensorElementType.Float, session.Inputs[1].ElementType);
        Assert.Equal([1L], session.Inputs[1].Shape);
        Assert.Equal([""], session.Inputs[1].SymbolicDimensions);

        var metadata = session.Metadata;
        Assert.Equal("metadata-test", metadata.ProducerName);
        Assert.Equal("ai.example", metadata.Domain);
        Assert.Equal("a model that describes itself", metadata.Description);
        Assert.Equal(42, metadata.Version);
        Assert.Equal("described", metadata.GraphName);
        Assert.Equal("the graph's own doc string", metadata.GraphDescription);
        Assert.Equal(2, metadata.CustomMetadataMap.Count);
        Assert.Equal("tests", metadata.CustomMetadataMap["author"]);
        Assert.Equal("MIT", metadata.CustomMetadataMap["license"]);
    }

    [Fact]
    public void Load_from_a_file_matches_load_from_bytes_and_applies_the_options()
    {
        string path = Path.Combine(Path.GetTempPath(), $"hpi-addsub-{Guid.NewGuid():N}.onnx");
        string optimized = Path.Combine(Path.GetTempPath(), $"hpi-optimized-{Guid.NewGuid():N}.onnx");
        File.WriteAllBytes(path, TestModels.AddSub());
        try
        {
            using var options = new SessionOptions { IntraOpNumThreads = 1, OptimizedModelFilePath = optimized };
            using var fromFile = ModelSession.Load(path, options);
            using var fromBytes = ModelSession.FromBytes(TestModels.AddSub());
            Assert.Equal(Names(fromBytes.Inputs), Names(fromFile.Inputs));
            Assert.Equal(Names(fromBytes.Outputs), Names(fromFile.Outputs));
            Assert.True(File.Exists(optimized)); // ORT took the options: it wrote the optimized graph
        }
        finally
        {
            File.Delete(path);
            File.Delete(optimized);
        }
    }

    [Fact]
    public void Bad_model_bytes_throw_ORT_error_with_its_message()
    {
        var error = Assert.Throws<OnnxRuntimeException>(() => ModelSession.FromBytes("this is not a model"u8.ToArray()));
        Assert.Contains("protobuf", error.Message, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public void A_graph_with_an_unknown_operator_is_rejected_naming_it()
    {
        byte[] model = new OnnxModelBuilder()
            .Input("X", TensorElementType.Float, 1)
            .Output("Y", TensorElementType.Float, 1)
            .Node("NoSuchOperator", ["X"], ["Y"])
            .Build();

        var error = Assert.Throws<OnnxRuntimeException>(() => ModelSession.FromBytes(model));
        Assert.Contains("NoSuchOperator", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_missing_model_file_throws_naming_the_file()
    {
        string path = Path.Combine(Path.GetTempPath(), $"hpi-missing-{Guid.NewGuid():N}.onnx");
        var error = Assert.Throws<OnnxRuntimeException>(() => ModelSession.Load(path));
        Assert.Contains(path, error.Message, StringComparison.Ordinal);
    }

    private static string[] Names(IReadOnlyList<TensorInfo> infos) => infos.Select(info => info.Name).ToArray();
}
